"""Average the weights of several finished runs into one checkpoint (a "model soup").

    python soup.py --name soup --runs runs/distill-a08 runs/distill-a08-os3
    python soup.py --name soup --runs runs/distill-a08 runs/distill-a08-os3 runs/distill --greedy

Runs fine-tuned from the same pretrained backbone with the same seed stay in one
basin of the loss, so the average of their weights is itself a good model, and
often better than each (Wortsman et al. 2022, "Model soups"). It costs no
training and ships as one model of the same size and speed.

Uniform (default): the mean of every run's best/ checkpoint.
--greedy: the runs sorted by their own mean dev macro-F1, best first; each is
added to the soup only when that raises the soup's mean dev macro-F1.

Writes runs/<name>/{config.json, best/, epochs.jsonl, summary.json} like train.py,
so export.py, calibrate.py and write_bundle.py take it as any other run. The
config is the first ingredient's, with `soup` listing what went in.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see train.py

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from stance_model import (  # noqa: E402
    DEFAULT_DATA_DIR,
    TRAINING_DIR,
    build_model,
    command_line,
    encoder_layers_in,
    load_dev,
    make_encoder,
    read_json,
    write_json,
)
from train import evaluate_dev  # noqa: E402


def mean_state(states):
    return {k: sum(s[k].double() for s in states).div(len(states)).to(states[0][k].dtype) for k in states[0]}


def score(model, state, dev):
    model.load_state_dict(state)
    res = evaluate_dev(model, dev)
    return res, {n: round(res[n]["macro_f1"], 4) for n in dev}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="output run name: runs/<name>/")
    p.add_argument("--runs", nargs="+", required=True, help="run directories with best/model.safetensors")
    p.add_argument("--greedy", action="store_true", help="add a run only when it raises the mean dev macro-F1")
    p.add_argument("--runs-dir", default=str(TRAINING_DIR / "runs"))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    metas = {run: read_json(Path(run) / "best" / "meta.json") for run in args.runs}
    # Each run writes its tokenizer into its own bundle, so compare the files, not their paths.
    paths = {m["config"]["tokenizer"] for m in metas.values()}
    if len({Path(path).read_bytes() for path in paths}) != 1:
        sys.exit(f"the runs use different tokenizers: {sorted(paths)}")
    order = sorted(args.runs, key=lambda r: -metas[r]["dev"]["mean_macro_f1"]) if args.greedy else list(args.runs)

    tok, encoder = make_encoder(sorted(paths)[0])
    dev = load_dev(args.data_dir, encoder)
    states = {run: load_file(str(Path(run) / "best" / "model.safetensors")) for run in order}
    model = build_model(tok, init_markers=False, layers=encoder_layers_in(states[order[0]]))

    chosen, steps = [order[0]], []
    res, summary = score(model, states[order[0]], dev)
    print(f"{order[0]}: {summary} mean {res['mean_macro_f1']:.4f}", flush=True)
    for run in order[1:]:
        trial = chosen + [run]
        trial_res, trial_summary = score(model, mean_state([states[r] for r in trial]), dev)
        kept = not args.greedy or trial_res["mean_macro_f1"] > res["mean_macro_f1"]
        print(f"+ {run}: {trial_summary} mean {trial_res['mean_macro_f1']:.4f} -> {'kept' if kept else 'left out'}",
              flush=True)
        steps.append({"add": run, "dev_macro_f1": trial_summary, "mean": round(trial_res["mean_macro_f1"], 4),
                      "kept": kept})
        if kept:
            chosen, res = trial, trial_res
    write_run(args, metas, chosen, steps, mean_state([states[r] for r in chosen]), res, dev)


def write_run(args, metas, chosen, steps, state, res, dev):
    run_dir = Path(args.runs_dir) / args.name
    (run_dir / "best").mkdir(parents=True, exist_ok=True)
    ingredients = [{"run": r, "command": metas[r]["config"]["command"], "epoch": metas[r]["epoch"],
                    "dev_macro_f1": {n: round(metas[r]["dev"][n]["macro_f1"], 4) for n in dev}} for r in chosen]
    config = {**metas[chosen[0]]["config"], "name": args.name, "command": command_line(),
              "soup": {"greedy": args.greedy, "ingredients": ingredients, "steps": steps}}
    write_json(run_dir / "config.json", config)
    epoch = f"soup of {len(chosen)}"
    record = {"epoch": epoch, "step": None, "dev": res}
    save_file(state, str(run_dir / "best" / "model.safetensors"))
    write_json(run_dir / "best" / "meta.json", {"config": config, **record})
    (run_dir / "epochs.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    minutes = sum(read_json(Path(r) / "summary.json")["train_minutes"] for r in chosen)
    write_json(run_dir / "summary.json", {"best_epoch": epoch, "best": res, "train_minutes": minutes,
                                          "epochs": [{"epoch": epoch, **{n: res[n]["macro_f1"] for n in dev}}]})
    print(f"{time.strftime('%H:%M:%S')} wrote {run_dir}: {len(chosen)} runs, mean macro-F1 "
          f"{res['mean_macro_f1']:.4f}")


if __name__ == "__main__":
    main()
