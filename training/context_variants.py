"""Variants of the document-context reading, measured on held-out predictions.

The library reads a pair in its document (src/context.rs): its log-probabilities
plus `weight x` the mean log-probabilities of the same actor in the document's
other sentences, renormalised. This script re-scores the pairs of `stance eval
--document-context 0 --predictions FILE` files (each sentence read alone) with
that rule and three variants, to see whether any reads held-out op-eds better:

- `others`: also `v x` the mean over the *other* actors' pairs in the
  document's other sentences (the article's tone towards everyone);
- `decay`: the same actor's other sentences weighted by exp(-distance / tau),
  distance counted in sentences, instead of equally;
- `mixture`: the log of the mean probabilities (a mixture) in place of the
  mean log-probabilities (a product).

The `library` rows reproduce `stance eval --document-context W` exactly, which
checks the re-implementation. Each `--predictions` is `NAME:FILE:WEIGHT`, the
weight the bundle ships with.

    ../target/release/stance eval --model ../models/stance-mini \\
        --data runs/folds/natural_f0.jsonl --document-context 0 --predictions /tmp/mini0.jsonl
    python context_variants.py --predictions mini0:/tmp/mini0.jsonl:0.75
"""

import argparse
import json
import math
from collections import defaultdict

import numpy as np

LABELS = ["unfavorable", "neutral", "favorable"]


class Predictions:
    """One file's pairs: log-probabilities read alone, gold labels, and where each pair sits."""

    def __init__(self, path):
        rows = [json.loads(line) for line in open(path) if line.strip()]
        probabilities = np.array([[r["p_" + label] for label in LABELS] for r in rows], dtype=np.float64)
        self.log_p = np.log(np.clip(probabilities, 1e-12, 1.0))
        self.gold = np.array([LABELS.index(r["gold"]) for r in rows])
        self.article = [r["article"] for r in rows]
        self.actor = [r["actor"].lower() for r in rows]
        # Input lines of one article are its sentences in order.
        self.line = np.array([r["line"] for r in rows])
        self.documents = defaultdict(list)
        for i, article in enumerate(self.article):
            self.documents[article].append(i)

    def read(self, weight, others=0.0, tau=None, mixture=False):
        """Probabilities of every pair read in its document with one variant."""
        out = self.log_p.copy()
        for pairs in self.documents.values():
            for i in pairs:
                elsewhere = [j for j in pairs if self.line[j] != self.line[i]]
                same = [j for j in elsewhere if self.actor[j] == self.actor[i]]
                other = [j for j in elsewhere if self.actor[j] != self.actor[i]]
                if same and weight:
                    out[i] += weight * self.same_actor_reading(i, same, tau, mixture)
                if other and others:
                    out[i] += others * self.log_p[other].mean(axis=0)
        out -= out.max(axis=1, keepdims=True)
        p = np.exp(out)
        return p / p.sum(axis=1, keepdims=True)

    def same_actor_reading(self, i, same, tau, mixture):
        if mixture:
            return np.log(np.exp(self.log_p[same]).mean(axis=0))
        weights = np.ones(len(same))
        if tau:
            weights = np.array([math.exp(-abs(self.line[j] - self.line[i]) / tau) for j in same])
        weights /= weights.sum()
        return (weights[:, None] * self.log_p[same]).sum(axis=0)

    def macro_f1(self, p):
        predicted = p.argmax(axis=1)
        f1 = []
        for k in range(3):
            tp = np.sum((predicted == k) & (self.gold == k))
            wrong = np.sum((predicted == k) != (self.gold == k))
            f1.append(2 * tp / (2 * tp + wrong) if tp else 0.0)
        return float(np.mean(f1))

    def pearson_r(self, p):
        """Over (article, actor) groups of 3+ pairs: gold mean against predicted mean score."""
        groups = defaultdict(list)
        for i, key in enumerate(zip(self.article, self.actor)):
            groups[key].append(i)
        kept = [g for g in groups.values() if len(g) >= 3]
        gold = [np.mean(self.gold[g] - 1) for g in kept]
        predicted = [np.mean(p[g, 2] - p[g, 0]) for g in kept]
        return float(np.corrcoef(gold, predicted)[0, 1])


def variants(weight):
    """(name, keyword arguments of Predictions.read) of every variant measured."""
    yield "alone", {"weight": 0.0}
    yield f"library w={weight}", {"weight": weight}
    for others in (0.1, 0.25, 0.5):
        yield f"others v={others}", {"weight": weight, "others": others}
    for tau in (1, 2, 4, 8):
        yield f"decay tau={tau}", {"weight": weight, "tau": tau}
    for w in (0.5, 0.75, 1.0):
        yield f"mixture w={w}", {"weight": w, "mixture": True}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", action="append", required=True, metavar="NAME:FILE:WEIGHT")
    args = parser.parse_args()
    for spec in args.predictions:
        name, path, weight = spec.rsplit(":", 2)
        predictions = Predictions(path)
        print(f"## {name} ({len(predictions.gold)} pairs)")
        for variant, options in variants(float(weight)):
            p = predictions.read(**options)
            print(f"{variant:<20} macro-F1 {predictions.macro_f1(p):.4f}  r {predictions.pearson_r(p):.3f}")


if __name__ == "__main__":
    main()
