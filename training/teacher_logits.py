"""Soft labels for distillation: the teacher's logits on every training pair.

    python teacher_logits.py --run runs/teacher --unlabelled runs/unlabelled/*.jsonl
    python teacher_logits.py --run runs/teacher runs/main --unlabelled ...   # an ensemble
    python teacher_logits.py --bundle runs/prev-bundle --out runs/prev/soft_labels.jsonl  # an ONNX bundle

Pairs: the labelled training pairs (NewsMTSC train, op-ed train, and with
--natural-holdout-fold I op-ed natural minus fold I; gold label kept) and the unlabelled (sentence, actor) pairs that `stance mentions` found in
the data's sentences (no label). An unlabelled pair whose spans overlap a
labelled target of the same sentence is dropped: that pair is already there,
with its gold label (perhaps with fewer of its mentions marked).

With several runs, each run alone and the ensemble of all (the mean of their
log-probabilities) are scored on the dev splits, and the one with the best mean
dev macro-F1 is the teacher. Each run encodes with its own tokenizer
(RUN/tokenizer.json, or the bundle's for a MiniLM run).

Writes OUT (default: first run's soft_labels.jsonl): one line per pair with
sentence, spans (character offsets), label (0/1/2 or null), source and the
teacher's logits; and OUT with .dev.json: the dev macro-F1 of every member.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from metrics import classification_report
from stance_format import NATURAL, Encoder, article_fold, clean_spans, load_tokenizer, read_examples, target_spans
from stance_model import DEFAULT_DATA_DIR, DEFAULT_TOKENIZER, DEV_SPLITS, load_checkpoint, torch_logits, write_json

LABELLED = (("newsmtsc/train.jsonl", "newsmtsc"), ("opeds/train.jsonl", "opeds"))


def labelled_pairs(data_dir, natural_holdout=None, folds=5):
    """The labelled training pairs; with `natural_holdout` (a fold index, -1 for none) also
    opeds/natural.jsonl's pairs outside that article-grouped fold (source "natural")."""
    files = LABELLED + ((NATURAL, "natural"),) if natural_holdout is not None else LABELLED
    for rel, source in files:
        for sentence, spans, label, meta in read_examples(Path(data_dir) / rel):
            if source == "natural" and article_fold(meta["article"], folds) == natural_holdout:
                continue  # held out: a teacher's view of it must never reach the student
            yield {"sentence": sentence, "spans": clean_spans(spans), "label": int(label), "source": source}


def unlabelled_pairs(paths):
    """Pairs from `stance mentions` or swap_actors.py output (NewsMTSC-shaped rows without polarity);
    source is the row's origin ("unlabelled" by default, "swapped") and the actor."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                for t in row["targets"]:
                    yield {"sentence": row["sentence_normalized"], "spans": clean_spans(target_spans(t)), "label": None,
                           "source": row.get("origin", "unlabelled") + ":" + t["actor"]}


def overlaps(spans, others):
    return any(a < d and c < b for a, b in spans for c, d in others)


def add_unlabelled(pairs, unlabelled):
    """Append the unlabelled pairs that no pair already in `pairs` covers."""
    spans_by_sentence = {}
    for pair in pairs:
        spans_by_sentence.setdefault(pair["sentence"], []).append(pair["spans"])
    for pair in unlabelled:
        known = spans_by_sentence.setdefault(pair["sentence"], [])
        if not any(overlaps(pair["spans"], spans) for spans in known):
            known.append(pair["spans"])
            pairs.append(pair)


def log_probs(logits):
    return torch.log_softmax(torch.from_numpy(logits).double(), -1).numpy()


def refuse_other_markers(encoder, run):
    """Soft-label rows carry a pair's own spans only, not its sentence's other actors."""
    if encoder.other_markers:
        sys.exit(f"{run}: a teacher that marks other actors' mentions is not supported here")


class BundleMember:
    """A finished bundle (model.onnx + tokenizer.json + config.json) as a teacher, run with onnxruntime:
    e.g. a previously shipped stance-mini, whose knowledge a new student should keep."""

    def __init__(self, bundle, threads):
        from evaluate import ort_logits, ort_session

        self.run = Path(bundle)
        config = json.loads((self.run / "config.json").read_text(encoding="utf-8"))
        self.encoder = Encoder(load_tokenizer(self.run / "tokenizer.json"), config["input_format"])
        refuse_other_markers(self.encoder, self.run)
        self.session, self.ort_logits = ort_session(self.run / "model.onnx", threads), ort_logits
        self.pad_id = config["tokens"]["pad"]

    def logits(self, sentences_and_spans):
        encoded = [self.encoder.encode(s, spans) for s, spans in sentences_and_spans]
        return self.ort_logits(self.session, [e[0] for e in encoded], [e[1] for e in encoded], pad_id=self.pad_id)


class Member:
    """One teacher run: its checkpoint and the tokenizer it was trained with."""

    def __init__(self, run):
        self.run = Path(run)
        tokenizer = self.run / "tokenizer.json"
        self.tok = load_tokenizer(tokenizer if tokenizer.is_file() else DEFAULT_TOKENIZER)
        self.encoder = Encoder(self.tok)
        refuse_other_markers(self.encoder, self.run)
        self.model = load_checkpoint(self.run / "best", self.tok)

    def logits(self, sentences_and_spans):
        encoded = [self.encoder.encode(s, spans) for s, spans in sentences_and_spans]
        return torch_logits(self.model, [e[0] for e in encoded], [e[1] for e in encoded])


def candidates(members):
    """name -> indices of the members it averages: each run alone, then all of them."""
    out = {str(m.run): [i] for i, m in enumerate(members)}
    if len(members) > 1:
        out["ensemble"] = list(range(len(members)))
    return out


def dev_report(members, data_dir):
    """Dev macro-F1 per split (and their mean) of every candidate teacher."""
    report = {name: {} for name in candidates(members)}
    for split, rel in DEV_SPLITS.items():
        examples = list(read_examples(Path(data_dir) / rel))
        gold = np.array([label for _s, _sp, label, _m in examples])
        inputs = [(s, spans) for s, spans, _l, _m in examples]
        per_member = [log_probs(m.logits(inputs)) for m in members]
        for name, idx in candidates(members).items():
            pred = np.mean([per_member[i] for i in idx], 0).argmax(1)
            report[name][split] = classification_report(gold, pred)["macro_f1"]
    for scores in report.values():
        scores["mean"] = float(np.mean([scores[n] for n in DEV_SPLITS]))
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", nargs="*", default=[], help="teacher run dir(s) with best/ checkpoint")
    p.add_argument("--bundle", nargs="*", default=[], help="teacher bundle dir(s) with model.onnx (onnxruntime)")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--unlabelled", nargs="*", default=[], help="`stance mentions` JSONL files")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-labelled", action="store_true",
                   help="only the --unlabelled pairs (a second file next to the main soft labels)")
    p.add_argument("--out", help="default: FIRST_RUN/soft_labels.jsonl")
    p.add_argument("--natural-holdout-fold", type=int, metavar="I",
                   help="also the opeds/natural.jsonl pairs, except article-grouped fold I (-1: all folds); "
                        "give train.py the same --holdout-fold and --natural-copies 0")
    p.add_argument("--folds", type=int, default=5, help="article-grouped folds of opeds/natural.jsonl")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.run and not args.bundle:
        p.error("give at least one --run or --bundle")
    if not args.out and not args.run:
        p.error("--out is required when the teachers are bundles")
    out = Path(args.out or Path(args.run[0]) / "soft_labels.jsonl")

    members = [Member(run) for run in args.run] + [BundleMember(b, args.threads) for b in args.bundle]
    start = time.time()
    dev = dev_report(members, args.data_dir)
    chosen = max(dev, key=lambda name: dev[name]["mean"])
    write_json(out.with_suffix(".dev.json"), {"chosen": chosen, "candidates": dev})
    for who, scores in dev.items():
        print(f"dev macro-F1 {who}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()), flush=True)
    print(f"dev scored in {time.time() - start:.0f} s; teacher: {chosen}", flush=True)
    members = [members[i] for i in candidates(members)[chosen]]

    pairs = [] if args.no_labelled else list(labelled_pairs(args.data_dir, args.natural_holdout_fold, args.folds))
    n_labelled = len(pairs)
    add_unlabelled(pairs, unlabelled_pairs(args.unlabelled))
    print(f"{n_labelled} labelled + {len(pairs) - n_labelled} unlabelled pairs", flush=True)
    start = time.time()
    inputs = [(x["sentence"], x["spans"]) for x in pairs]
    # The ensemble's logits are the mean log-probabilities (softmax of them is the
    # normalised geometric mean of the members' distributions).
    logits = np.mean([log_probs(m.logits(inputs)) for m in members], 0)
    print(f"teacher logits in {time.time() - start:.0f} s", flush=True)

    with open(out, "w", encoding="utf-8") as f:
        for pair, row in zip(pairs, logits):
            f.write(json.dumps({**pair, "logits": [round(float(v), 5) for v in row]}, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    if n_labelled:
        labels = np.array([x["label"] for x in pairs[:n_labelled]])
        agree = float((logits[:n_labelled].argmax(1) == labels).mean())
        print(f"teacher = gold on {agree:.1%} of the labelled training pairs")


if __name__ == "__main__":
    main()
