"""Does a shift of the neutral logit, fitted on one held-out natural fold, help on another?

    python prior_shift.py --fit ../models/stance-mini runs/folds/natural_f0.jsonl \
        --test runs/natkd2-f1/bundle runs/folds/natural_f1.jsonl

A class-weighted loss mostly moves a model's decision boundary this way. The bias b added to the
neutral log-probability is the one (on a grid of 0.1 from -1 to 2) that maximises macro-F1 on the
fit fold; the test fold's model is scored with and without it, and on op-eds dev (balanced picks) to
show what the shift costs where the neutral share is lower. Each fold is read by the model that
held it out, so neither number is seen in training.
"""
import argparse
from pathlib import Path

import numpy as np

from evaluate import examples_logits, load_bundle
from metrics import classification_report, softmax
from stance_format import read_examples
from stance_model import DEFAULT_DATA_DIR

GRID = np.round(np.arange(-1.0, 2.01, 0.1), 2)


def log_probs(bundle, data):
    config, encoder, session = load_bundle(Path(bundle))
    examples = list(read_examples(data))
    logits = examples_logits(config, encoder, session, examples) / config["temperature"]
    return np.log(softmax(logits)), np.array([e[2] for e in examples])


def macro_f1(log_p, gold, bias=0.0):
    return classification_report(gold, np.argmax(log_p + np.array([0.0, bias, 0.0]), 1))["macro_f1"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fit", nargs=2, metavar=("BUNDLE", "FOLD"), required=True)
    p.add_argument("--test", nargs=2, metavar=("BUNDLE", "FOLD"), required=True)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    args = p.parse_args(argv)
    fit = log_probs(*args.fit)
    bias = max(GRID, key=lambda b: macro_f1(*fit, b))
    test = log_probs(*args.test)
    dev = log_probs(args.test[0], Path(args.data_dir) / "opeds" / "dev.jsonl")
    print(f"neutral bias {bias:+.1f} (fit fold macro-F1 {macro_f1(*fit):.4f} -> {macro_f1(*fit, bias):.4f}); "
          f"test fold {macro_f1(*test):.4f} -> {macro_f1(*test, bias):.4f}; "
          f"op-eds dev {macro_f1(*dev):.4f} -> {macro_f1(*dev, bias):.4f}")


if __name__ == "__main__":
    main()
