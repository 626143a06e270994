"""A checkpoint in fewer bytes, for moving it between machines: half precision, and without the
backbone's own vocabulary rows, which training keeps frozen (train.py without --train-vocab) and
the backbone already holds.

    python slim_checkpoint.py pack runs/base-all/best/model.safetensors slim.safetensors --tokenizer T
    python slim_checkpoint.py unpack slim.safetensors runs/base-all/best/model.safetensors --tokenizer T

For all-mpnet-base-v2 that is 173 MB instead of 438. `unpack` takes the vocabulary rows from the
backbone again (rounded to half precision first when the run started from a half-precision copy
of the backbone, as its metadata says, so they are the very values it trained with) and writes
an fp32 checkpoint that export.py and evaluate.py read like any other.
"""
import argparse
import json

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from stance_format import load_tokenizer
from stance_model import backbone_dir, backbone_of, base_vocab

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
BACKBONE_WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"  # the key in either backbone's own file


def backbone_rows(backbone, rows_dtype):
    """The backbone's vocabulary rows as the run saw them: fp32, or rounded through `rows_dtype`."""
    path = backbone_dir(backbone) / "model.safetensors"
    with safe_open(str(path), "pt") as f:
        rows = f.get_tensor(BACKBONE_WORD_EMBEDDINGS)[: base_vocab(backbone)]
    return rows.to(getattr(torch, rows_dtype)).float()


def pack(src, dst, backbone, rows_dtype):
    state = load_file(src)
    n_base = base_vocab(backbone)
    state[WORD_EMBEDDINGS] = state[WORD_EMBEDDINGS][n_base:].contiguous()
    meta = {"backbone": backbone, "base_rows": str(n_base), "base_rows_dtype": rows_dtype}
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, dst, metadata=meta)


def unpack(src, dst, check_backbone=None):
    with safe_open(src, "pt") as f:
        meta = f.metadata()
    if check_backbone and meta["backbone"] != check_backbone:
        raise SystemExit(f"{src}: packed for {meta['backbone']}, the tokenizer is {check_backbone}'s")
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(src).items()}
    rows = backbone_rows(meta["backbone"], meta["base_rows_dtype"])
    if rows.shape[0] != int(meta["base_rows"]):
        raise SystemExit(f"{src}: expects {meta['base_rows']} backbone rows, the backbone has {rows.shape[0]}")
    state[WORD_EMBEDDINGS] = torch.cat([rows, state[WORD_EMBEDDINGS]]).contiguous()
    save_file(state, dst)
    return meta


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack")
    a.add_argument("src")
    a.add_argument("dst")
    a.add_argument("--tokenizer", required=True, help="the run's tokenizer (tells the backbone)")
    a.add_argument("--base-rows-dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                   help="the precision of the backbone copy the run started from")
    b = sub.add_parser("unpack")
    b.add_argument("src")
    b.add_argument("dst")
    b.add_argument("--tokenizer", required=True)
    args = p.parse_args(argv)
    backbone = backbone_of(load_tokenizer(args.tokenizer))
    if args.command == "pack":
        pack(args.src, args.dst, backbone, args.base_rows_dtype)
    else:
        print(json.dumps(unpack(args.src, args.dst, backbone)))


if __name__ == "__main__":
    main()
