"""One recipe, cross-validated and trained for shipping at once, on one GPU.

    python cv_gpu.py --name base --deadline-min 8 -- --tokenizer T --lr 4e-5 --epochs 3 --natural-copies 1

Starts train.py once per article-grouped fold of opeds/natural.jsonl (`--holdout-fold K`, runs
NAME-fK) and once on every fold (NAME-all), all at the same time on one GPU (`--device cuda
--bf16`), with the same arguments after `--`. Every run scores its dev splits after each epoch
(the fold runs their held-out fold too, and write its logits); the run on all folds keeps each
epoch's weights. When all are done, or at the deadline (runs still going are stopped; finished
epochs count), the epoch is chosen by the mean held-out macro-F1 over the folds, among the epochs
that every run finished, and that epoch of NAME-all becomes NAME-all/best. The dev splits only
report. runs/NAME-cv.json holds the per-epoch table and the choice.

The epoch is one of the same schedule (warmup and linear decay over --epochs): the fold runs
measure exactly the checkpoints the run on all folds can ship.
"""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from stance_format import HELD_OUT_PREFIX

TRAINING_DIR = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True)
    p.add_argument("--runs-dir", default=str(TRAINING_DIR / "runs"))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    p.add_argument("--device", default="cuda", help="cuda; cpu only to try the pipeline on a small run")
    p.add_argument("--deadline-min", type=float, default=0, help="stop the runs after this many minutes (0: none)")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then train.py's arguments")
    args = p.parse_args(argv)
    args.train_args = [a for a in args.train_args if a != "--"]
    return args


def read_epochs(run_dir):
    """{epoch: {split: macro-F1}} of the epochs a run finished (epochs.jsonl)."""
    path = Path(run_dir) / "epochs.jsonl"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if isinstance(record["epoch"], int):
            out[record["epoch"]] = {k: v["macro_f1"] for k, v in record["dev"].items() if isinstance(v, dict)}
    return out


def choose_epoch(fold_epochs, final_epochs):
    """(chosen epoch, table): the epoch with the best mean held-out macro-F1 over the folds,
    among those that every fold run and the final run finished; ties go to the earlier epoch.
    fold_epochs: [{epoch: {split: F1}}] per fold; final_epochs: {epoch: ...} of the run on all folds."""
    common = set(final_epochs)
    for epochs in fold_epochs:
        common &= set(epochs)
    if not common:
        raise SystemExit("no epoch was finished by every run: nothing to choose from")
    table = {}
    for epoch in sorted(common):
        held = [next(v for k, v in epochs[epoch].items() if k.startswith(HELD_OUT_PREFIX)) for epochs in fold_epochs]
        dev = {k: float(np.mean([epochs[epoch][k] for epochs in fold_epochs]))
               for k in fold_epochs[0][epoch] if not k.startswith(HELD_OUT_PREFIX)}
        table[epoch] = {"held_out_mean": float(np.mean(held)), "held_out_sd": float(np.std(held, ddof=1)) if len(held) > 1
                        else 0.0, "held_out": held, "dev_mean_over_folds": dev, "final_run_dev": final_epochs[epoch]}
    chosen = max(sorted(table), key=lambda e: table[e]["held_out_mean"])
    return chosen, table


def start_runs(args, runs_dir):
    runs = {f"{args.name}-f{k}": ["--holdout-fold", str(k), "--save-logits"] for k in range(args.folds)}
    runs[f"{args.name}-all"] = ["--holdout-fold", "-1", "--save-epochs", "--keep", "last"]
    procs = {}
    for name, extra in runs.items():
        (runs_dir / name).mkdir(parents=True, exist_ok=True)
        cmd = [args.python, str(TRAINING_DIR / "train.py"), "--name", name, "--runs-dir", str(runs_dir),
               "--folds", str(args.folds), "--threads", str(args.threads), "--device", args.device,
               *(["--bf16"] if args.device == "cuda" else []),
               *args.train_args, *extra]
        with open(runs_dir / name / "stdout.log", "w", encoding="utf-8") as log:  # the child keeps its copy
            procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=TRAINING_DIR)
    return procs


def wait(procs, deadline):
    """Wait for every run, stopping those still going at `deadline` (time.time(); 0: none)."""
    while any(p.poll() is None for p in procs.values()):
        if deadline and time.time() > deadline:
            for name, p in procs.items():
                if p.poll() is None:
                    print(f"{name}: stopped at the deadline", flush=True)
                    p.terminate()
            for p in procs.values():
                p.wait()
            break
        time.sleep(5)
    return {name: p.returncode for name, p in procs.items()}


def main(argv=None):
    args = parse_args(argv)
    runs_dir = Path(args.runs_dir)
    t0 = time.time()
    procs = start_runs(args, runs_dir)
    codes = wait(procs, t0 + 60 * args.deadline_min if args.deadline_min else 0)
    print(f"runs ended after {(time.time() - t0) / 60:.1f} min: {codes}", flush=True)
    fold_epochs = [read_epochs(runs_dir / f"{args.name}-f{k}") for k in range(args.folds)]
    final = runs_dir / f"{args.name}-all"
    chosen, table = choose_epoch(fold_epochs, read_epochs(final))
    for epoch, row in table.items():
        print(f"epoch {epoch}: held-out {row['held_out_mean']:.4f} +- {row['held_out_sd']:.4f} "
              f"{[round(v, 4) for v in row['held_out']]}; final run dev {row['final_run_dev']}", flush=True)
    print(f"chosen: epoch {chosen}", flush=True)
    shutil.copy(final / f"epoch-{chosen}" / "model.safetensors", final / "best" / "model.safetensors")
    summary = {"name": args.name, "train_args": args.train_args, "folds": args.folds, "return_codes": codes,
               "minutes": (time.time() - t0) / 60, "chosen_epoch": chosen,
               "chosen_by": "mean held-out macro-F1 over the article-grouped folds",
               "epochs": {str(k): v for k, v in table.items()}}
    (runs_dir / f"{args.name}-cv.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (final / "best" / "meta.json").write_text(json.dumps({"epoch": chosen, "chosen_by": summary["chosen_by"],
                                                          "cv": table[chosen]}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
