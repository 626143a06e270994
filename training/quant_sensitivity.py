"""Where per-row int8 changes a model's labels, measured in torch without exporting.

    python quant_sensitivity.py --run runs/natural-f0 --tokenizer runs/natural-f0/bundle/tokenizer.json

Each variant rounds part of what `export.py --quant per_row` rounds (fake_quant.py) and is scored
on the dev splits against the fp32 model's labels (label agreement, as export.py reports it):

- `per_row`: everything the exported graph rounds; its agreement equals export.py's for the same
  checkpoint (checked: 97.96 / 98.42 / 97.73% on dev_rw / dev_mt / op-eds dev for both);
- `activations only`, `weights only`: one source of rounding at a time;
- `per_row, K fp32 channels`: the K input channels of each MatMul with the largest magnitude
  (measured on 512 training pairs, `export.calibration_sample`, never dev) skip the activation
  rounding, so the row scale is set by the other channels (an outlier decomposition: a MiniLM
  LayerNorm output has one channel about 15 times the median channel's size).

About 40 s per variant on two cores.
"""
import argparse
import json

import numpy as np
import torch
from torch import nn

import fake_quant
from export import calibration_sample
from stance_model import (
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    DEV_SPLITS,
    load_checkpoint,
    load_dev,
    make_encoder,
    torch_logits,
)


def channel_magnitudes(model, ids, types):
    """{encoder Linear name: largest |input| per channel} over the given pairs."""
    largest = {}

    def record(name):
        def hook(_module, inputs):
            x = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(0)
            largest[name] = torch.maximum(largest[name], x) if name in largest else x
        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in model.bert.encoder.named_modules()
             if isinstance(m, nn.Linear)]
    torch_logits(model, ids, types)
    for h in hooks:
        h.remove()
    return largest


def variants(outlier_counts):
    yield "per_row", {}
    yield "activations only", {"weight_bits": 0, "embeddings": False}
    yield "weights only", {"activations": False, "embeddings": False}
    for k in outlier_counts:
        yield f"per_row, {k} fp32 channels", {"outliers": k}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="training run dir (with best/model.safetensors)")
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--outlier-channels", type=int, nargs="*", default=[1, 2, 4])
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    tok, encoder = make_encoder(args.tokenizer)
    dev = load_dev(args.data_dir, encoder)

    def fresh_model():
        model = load_checkpoint(f"{args.run}/best", tok)
        model.eval()
        return model

    def labels(model):
        return {n: torch_logits(model, dev[n][0], dev[n][1]).argmax(1) for n in DEV_SPLITS}

    reference = labels(fresh_model())
    magnitudes = channel_magnitudes(fresh_model(), *calibration_sample(args.data_dir, encoder))
    results = {}
    for name, options in variants(args.outlier_channels):
        k = options.pop("outliers", 0)
        if k:
            options["fp32_channels"] = {n: m.argsort(descending=True)[:k] for n, m in magnitudes.items()}
        model = fresh_model()
        fake_quant.attach(model, **options)
        got = labels(model)
        results[name] = {n: round(float(np.mean(got[n] == reference[n])), 4) for n in DEV_SPLITS}
        print(f"{name:<28} agreement with fp32 " + "  ".join(f"{n} {v:.4f}" for n, v in results[name].items()),
              flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
