"""Summarise an article-grouped cross-validation: one training run per held-out fold.

    python cv_report.py runs/natural-f0 runs/natural-f1 ...     # runs made with train.py --holdout-fold I

Reads each run's epochs.jsonl and prints, per epoch, the held-out fold's macro-F1 and
accuracy (mean and standard deviation over the folds given) next to the dev splits',
so the epoch count and settings are chosen on folds the run never trained on rather
than on the small dev splits. Writes the table as JSON with --out.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from stance_format import HELD_OUT_PREFIX


def fold_split(record):
    """The name of the held-out fold split in an epoch record (natural_fI), or None."""
    return next((name for name in record["dev"] if name.startswith(HELD_OUT_PREFIX)), None)


def read_epochs(run):
    with open(Path(run) / "epochs.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def summarise(runs):
    """{epoch: {split: {"macro_f1": [per run], "accuracy": [...]}}} with the fold under the name "held_out"."""
    table = {}
    for run in runs:
        for record in read_epochs(run):
            held = fold_split(record)
            if held is None:
                raise SystemExit(f"{run}: no held-out fold in epochs.jsonl (train with --holdout-fold)")
            row = table.setdefault(str(record["epoch"]), {})
            for split, res in record["dev"].items():
                if not isinstance(res, dict):
                    continue
                name = "held_out" if split == held else split
                cell = row.setdefault(name, {"macro_f1": [], "accuracy": []})
                cell["macro_f1"].append(res["macro_f1"])
                cell["accuracy"].append(res["accuracy"])
    return table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories, one per held-out fold")
    p.add_argument("--out", help="write the table as JSON here")
    args = p.parse_args(argv)
    table = summarise(args.runs)
    for epoch, row in table.items():
        cells = []
        for split, cell in row.items():
            f1 = np.array(cell["macro_f1"])
            cells.append(f"{split} {f1.mean():.4f} ± {f1.std():.4f} (n={len(f1)})")
        print(f"epoch {epoch}: " + "; ".join(cells))
    if args.out:
        Path(args.out).write_text(json.dumps({"runs": args.runs, "epochs": table}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
