"""Export a training checkpoint to ONNX (fp32), quantize it to int8 and check both.

    python export.py --run runs/main       # -> runs/main/onnx/{model.fp32.onnx, model.int8.onnx, export.json}

Graph: inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq],
both axes dynamic), output logits (float32 [batch, 3]; unfavorable, neutral,
favorable; raw, not temperature-scaled).

Quantization (`--quant`):
  dynamic      onnxruntime quantize_dynamic, QInt8 weights and per-tensor int8
               activations computed at run time. Fast, but the activation scale
               of each MatMul is taken over the whole [batch x seq] tensor, so a
               pair's logits move (slightly) with what it is batched or padded with.
  weight_only  int8 weights, fp32 activations: MatMuls become MatMulNBits
               (8 bits, blocks of 32 along K, fp32 compute) and the embedding
               tables Gather(int8) -> DequantizeLinear. Every row is computed on
               its own, so scores do not depend on the batch (the library's rule).
The checks (saved in export.json): torch vs ONNX fp32 logits, padding/batch
invariance of both graphs, int8 vs fp32 label agreement and macro-F1 on dev.
"""
import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see train.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

from evaluate import ort_logits, ort_session  # noqa: E402
from metrics import classification_report  # noqa: E402
from stance_model import (  # noqa: E402
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    DEV_SPLITS,
    load_checkpoint,
    load_dev,
    make_encoder,
    pad_batch,
    torch_logits,
    write_json,
)

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OPSET = 17


def export_fp32(model, path):
    a, m, t = pad_batch([[101, 30522, 2000, 30523, 2003, 102, 2000, 102], [101, 30522, 2000, 30523, 102, 2000, 102]],
                        [[0] * 6 + [1] * 2, [0] * 5 + [1] * 2])
    args = (torch.from_numpy(a), torch.from_numpy(m), torch.from_numpy(t))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(
        model, args, str(path), input_names=INPUTS, output_names=["logits"], dynamic_axes=axes,
        opset_version=OPSET, do_constant_folding=True, dynamo=False,
    )


def quantize(fp32_path, out_path, kind, per_channel=False, accuracy_level=0):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if kind == "dynamic":
        quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8, per_channel=per_channel)
        return
    if kind != "weight_only":
        raise ValueError(f"unknown quantization {kind!r}")
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    # 1) MatMul weights -> MatMulNBits, 8 bits. accuracy_level 0: fp32 compute, activations stay fp32;
    #    4: activations quantized to int8 per row and block of K (still independent of the other rows).
    cfg = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=accuracy_level, bits=8)
    import logging

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    q = MatMulNBitsQuantizer(onnx.load(str(fp32_path)), algo_config=cfg)
    q.process()
    tmp = Path(out_path).with_suffix(".matmul.onnx")
    q.model.save_model_to_file(str(tmp), use_external_data_format=False)
    # 2) embedding tables: Gather on int8 then DequantizeLinear (row-wise, so batch-invariant).
    quantize_dynamic(str(tmp), str(out_path), weight_type=QuantType.QInt8, per_channel=per_channel,
                     op_types_to_quantize=["Gather"])
    tmp.unlink()


def padding_check(session, encoder, n_pairs=8):
    """Max |logit difference| between each pair scored alone and inside a padded, mixed batch."""
    sentences = [
        ("Beijing has been a reliable partner to its neighbours.", [(0, 7)]),
        ("Critics say Washington has squandered its credibility in the region, and that the "
         "administration keeps promising more than it can deliver to allies who no longer listen.", [(12, 22)]),
        ("India's growth is impressive.", [(0, 5)]),
        ("The talks between China and India ended without a statement.", [(18, 23)]),
        ("Pakistan blamed India for the attack, while the US urged restraint.", [(16, 21)]),
        ("Russia.", [(0, 6)]),
        ("Few expected the European Union to act so quickly, yet Brussels moved first.", [(17, 31), (55, 63)]),
        ("Japan, long cautious, is now rearming.", [(0, 5)]),
    ][:n_pairs]
    enc = [encoder.encode(s, sp) for s, sp in sentences]
    ids, types = [e[0] for e in enc], [e[1] for e in enc]
    alone = np.concatenate([ort_logits(session, [i], [t]) for i, t in zip(ids, types)])
    batched = ort_logits(session, ids, types, batch_size=len(ids))
    # and with extra padding beyond the longest row
    a, m, t = pad_batch(ids + [[101] + [2000] * 150 + [102]], types + [[0] * 152])
    padded = session.run(["logits"], {"input_ids": a, "attention_mask": m, "token_type_ids": t})[0][: len(ids)]
    return float(max(np.abs(alone - batched).max(), np.abs(alone - padded).max()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="training run dir (with best/model.safetensors)")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--quant", choices=["dynamic", "weight_only"], default="weight_only")
    p.add_argument("--per-channel", action="store_true")
    p.add_argument("--accuracy-level", type=int, default=0, choices=[0, 1, 4],
                   help="MatMulNBits compute for weight_only: 0/1 fp32, 4 int8 (per-row blocks)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="output dir (default <run>/onnx; calibrate.py and write_bundle.py read that one)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    run = Path(args.run)
    out = Path(args.out) if args.out else run / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = out / "model.fp32.onnx", out / "model.int8.onnx"
    tok, encoder = make_encoder(args.tokenizer)
    t0 = time.time()
    model = load_checkpoint(run / "best", tok)
    export_fp32(model, fp32_path)
    quantize(fp32_path, int8_path, args.quant, args.per_channel, args.accuracy_level)
    print(f"exported + quantized ({args.quant}) in {time.time() - t0:.0f} s: "
          f"fp32 {fp32_path.stat().st_size / 1e6:.1f} MB, int8 {int8_path.stat().st_size / 1e6:.1f} MB", flush=True)

    dev = load_dev(args.data_dir, encoder)
    sessions = {"fp32": ort_session(fp32_path, args.threads), "int8": ort_session(int8_path, args.threads)}
    result = {
        "quant": args.quant, "per_channel": args.per_channel, "opset": OPSET,
        "accuracy_level": args.accuracy_level if args.quant == "weight_only" else None,
        "size_bytes": {"fp32": fp32_path.stat().st_size, "int8": int8_path.stat().st_size},
        "padding_max_abs_diff": {k: padding_check(s, encoder) for k, s in sessions.items()},
        "splits": {},
    }
    seconds = {k: 0.0 for k in sessions}
    logits_dir = out / "dev_logits"
    logits_dir.mkdir(exist_ok=True)
    for name in DEV_SPLITS:
        ids, types, labels = dev[name]
        lg = {}
        for k, s in sessions.items():
            t1 = time.perf_counter()
            lg[k] = ort_logits(s, ids, types)
            seconds[k] += time.perf_counter() - t1
        if name == "dev_rw":
            ref = torch_logits(model, ids, types)
            result["torch_vs_onnx_fp32_max_abs_diff"] = float(np.abs(ref - lg["fp32"]).max())
        for k, v in lg.items():
            np.save(logits_dir / f"{name}.{k}.npy", v)
        np.save(logits_dir / f"{name}.labels.npy", labels)
        result["splits"][name] = {
            "fp32": classification_report(labels, lg["fp32"].argmax(1)),
            "int8": classification_report(labels, lg["int8"].argmax(1)),
            "int8_fp32_agreement": float((lg["fp32"].argmax(1) == lg["int8"].argmax(1)).mean()),
        }
    n_dev = sum(result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS)
    result["dev_pairs_per_second"] = {k: n_dev / v for k, v in seconds.items()}
    all_agree = [result["splits"][n]["int8_fp32_agreement"] * result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS]
    result["int8_fp32_agreement"] = float(sum(all_agree) / sum(result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS))
    result["macro_f1_drop"] = {n: result["splits"][n]["fp32"]["macro_f1"] - result["splits"][n]["int8"]["macro_f1"]
                               for n in DEV_SPLITS}
    result["checks"] = {
        "int8_size_le_30MB": result["size_bytes"]["int8"] <= 30 * 1024 * 1024,
        "agreement_ge_98pct": result["int8_fp32_agreement"] >= 0.98,
        "f1_drop_le_1pt": max(result["macro_f1_drop"].values()) <= 0.01,
        "padding_invariant_1e-4": max(result["padding_max_abs_diff"].values()) <= 1e-4,
    }
    write_json(out / "export.json", result)
    for n in DEV_SPLITS:
        s = result["splits"][n]
        print(f"{n:<10} macro-F1 fp32 {s['fp32']['macro_f1']:.4f} int8 {s['int8']['macro_f1']:.4f} "
              f"agreement {s['int8_fp32_agreement']:.4f}")
    print(f"dev pairs/s {result['dev_pairs_per_second']}")
    print(f"padding max |diff| {result['padding_max_abs_diff']}; torch vs onnx fp32 "
          f"{result['torch_vs_onnx_fp32_max_abs_diff']:.2e}; checks {result['checks']}", flush=True)
    return result


if __name__ == "__main__":
    main()
