"""Fit one softmax temperature T for the int8 model on the concatenated dev splits.

    python calibrate.py --run runs/main     # reads runs/main/onnx/dev_logits/, writes runs/main/calibration.json

T minimises the NLL of softmax(logits / T) over all dev pairs (dev_rw + dev_mt +
opeds dev). Reported: ECE (15 equal-width bins of the top-class probability) and
NLL before (T = 1) and after, overall and per split. T > 0 never changes the
argmax, so the labels and F1 are the same; only the probabilities move.
"""
import argparse
from pathlib import Path

import numpy as np

from metrics import ece, fit_temperature, nll, softmax
from stance_model import DEV_SPLITS, write_json


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run dir with onnx/dev_logits/ from export.py")
    p.add_argument("--precision", default="int8", choices=["int8", "fp32"])
    args = p.parse_args(argv)
    logits_dir = Path(args.run) / "onnx" / "dev_logits"
    per = {n: (np.load(logits_dir / f"{n}.{args.precision}.npy"), np.load(logits_dir / f"{n}.labels.npy"))
           for n in DEV_SPLITS}
    logits = np.concatenate([v[0] for v in per.values()]).astype(np.float64)
    labels = np.concatenate([v[1] for v in per.values()])
    t = fit_temperature(logits, labels)
    result = {
        "precision": args.precision,
        "temperature": t,
        "n": int(len(labels)),
        "ece_before": ece(softmax(logits), labels),
        "ece_after": ece(softmax(logits / t), labels),
        "nll_before": nll(logits, labels),
        "nll_after": nll(logits, labels, t),
        "bins": 15,
        "splits": {
            n: {"ece_before": ece(softmax(lg.astype(np.float64)), y),
                "ece_after": ece(softmax(lg.astype(np.float64) / t), y)}
            for n, (lg, y) in per.items()
        },
    }
    write_json(Path(args.run) / "calibration.json", result)
    print(f"T = {t:.4f}; ECE {result['ece_before']:.4f} -> {result['ece_after']:.4f}; "
          f"NLL {result['nll_before']:.4f} -> {result['nll_after']:.4f} (n = {result['n']})")
    return result


if __name__ == "__main__":
    main()
