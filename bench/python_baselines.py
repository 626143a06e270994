"""Python baselines for bench/compare.sh, on exactly the pairs stance-bench scored.

Modes (each prints one JSON line with pairs_per_s):
  loop     a typical Python user's loop: onnxruntime InferenceSession + HF tokenizers,
           batches of 32 in input order, padded to the longest in the batch;
  ceiling  ONNX Runtime alone: pairs pre-tokenized and pre-padded outside the timer,
           length-sorted and packed to the same token budget as the Rust pipeline;
  torch    Hugging Face transformers (PyTorch, fp32) on the same fine-tuned weights,
           batches of 32 in input order, tokenization included.

All modes encode with training/stance_format.py, the format the model was trained on.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

from stance_format import Encoder, load_tokenizer  # noqa: E402


def load_pairs(path, limit):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            pairs.append((row["sentence"], [tuple(s) for s in row["spans"]]))
            if limit and len(pairs) >= limit:
                break
    return pairs


def pad(rows):
    width = max(len(ids) for ids, _ in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for r, (i, t) in enumerate(rows):
        ids[r, : len(i)] = i
        mask[r, : len(i)] = 1
        types[r, : len(t)] = t
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def session(model_dir, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(Path(model_dir) / "model.onnx"), options, providers=["CPUExecutionProvider"])


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run_loop(pairs, encoder, sess, batch_size=32):
    for start in range(0, len(pairs), batch_size):
        rows = [encoder.encode(s, spans) for s, spans in pairs[start : start + batch_size]]
        softmax(sess.run(["logits"], pad(rows))[0])


def plan(lengths, budget, max_rows):
    """The Rust planner's rule: sorted by length, filled while rows x longest <= budget."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches, current = [], []
    for i in order:
        if current and ((len(current) + 1) * lengths[i] > budget or len(current) == max_rows):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def mode_loop(args, pairs, encoder):
    sess = session(args.model, args.threads)
    run_loop(pairs[:64], encoder, sess)  # warm-up
    start = time.perf_counter()
    run_loop(pairs, encoder, sess)
    return time.perf_counter() - start


def mode_ceiling(args, pairs, encoder):
    sess = session(args.model, args.threads)
    rows = [encoder.encode(s, spans) for s, spans in pairs]
    batches = [pad([rows[i] for i in b]) for b in plan([len(r[0]) for r in rows], args.token_budget, args.max_rows)]
    sess.run(["logits"], batches[0])  # warm-up
    start = time.perf_counter()
    for feed in batches:
        sess.run(["logits"], feed)
    return time.perf_counter() - start


def mode_torch(args, pairs, encoder):
    import torch

    from stance_model import load_checkpoint

    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.checkpoint, encoder.tok)

    @torch.no_grad()
    def run(subset):
        for start in range(0, len(subset), 32):
            feed = pad([encoder.encode(s, spans) for s, spans in subset[start : start + 32]])
            logits = model(*(torch.from_numpy(feed[k]) for k in ("input_ids", "attention_mask", "token_type_ids")))
            torch.softmax(logits, dim=-1)

    run(pairs[:64])  # warm-up
    start = time.perf_counter()
    run(pairs)
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["loop", "ceiling", "torch"])
    p.add_argument("--pairs", required=True)
    p.add_argument("--model", default=str(ROOT / "models" / "stance-mini"))
    p.add_argument("--checkpoint", default=os.environ.get("STANCE_CHECKPOINT", ""))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--token-budget", type=int, default=2048)
    p.add_argument("--max-rows", type=int, default=128)
    p.add_argument("--limit", type=int, default=0)
    args = p.parse_args()
    pairs = load_pairs(args.pairs, args.limit)
    encoder = Encoder(load_tokenizer(Path(args.model) / "tokenizer.json"))
    seconds = {"loop": mode_loop, "ceiling": mode_ceiling, "torch": mode_torch}[args.mode](args, pairs, encoder)
    print(json.dumps({"mode": args.mode, "pairs": len(pairs), "seconds": seconds, "pairs_per_s": len(pairs) / seconds}))


if __name__ == "__main__":
    main()
