"""Soft labels for distillation: the teacher's logits on every training pair.

    python teacher_logits.py --run runs/teacher --unlabelled runs/unlabelled/*.jsonl

Pairs: the labelled training pairs (NewsMTSC train, op-ed train; gold label
kept) and the unlabelled (sentence, actor) pairs that `stance mentions` found in
the data's sentences (no label). An unlabelled pair whose spans overlap a
labelled target of the same sentence is dropped: that pair is already there,
with its gold label (perhaps with fewer of its mentions marked).

Writes runs/<teacher>/soft_labels.jsonl: one line per pair with sentence, spans
(character offsets), label (0/1/2 or null), source and the teacher's logits.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from stance_format import Encoder, clean_spans, load_tokenizer, read_examples
from stance_model import DEFAULT_DATA_DIR, load_checkpoint, torch_logits

LABELLED = (("newsmtsc/train.jsonl", "newsmtsc"), ("opeds/train.jsonl", "opeds"))


def labelled_pairs(data_dir):
    for rel, source in LABELLED:
        for sentence, spans, label, _meta in read_examples(Path(data_dir) / rel):
            yield {"sentence": sentence, "spans": clean_spans(spans), "label": int(label), "source": source}


def unlabelled_pairs(paths):
    """Pairs from `stance mentions` output (NewsMTSC-shaped rows without polarity)."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                for t in row["targets"]:
                    spans = [(t["from"], t["to"])] + [(m["from"], m["to"]) for m in t["further_mentions"]]
                    yield {"sentence": row["sentence_normalized"], "spans": clean_spans(spans), "label": None,
                           "source": "unlabelled:" + t["actor"]}


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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="teacher run dir (best/ checkpoint, tokenizer.json)")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--unlabelled", nargs="*", default=[], help="`stance mentions` JSONL files")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="default: RUN/soft_labels.jsonl")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    run = Path(args.run)

    pairs = list(labelled_pairs(args.data_dir))
    n_labelled = len(pairs)
    add_unlabelled(pairs, unlabelled_pairs(args.unlabelled))
    print(f"{n_labelled} labelled + {len(pairs) - n_labelled} unlabelled pairs", flush=True)

    tok = load_tokenizer(run / "tokenizer.json")
    encoder = Encoder(tok)
    model = load_checkpoint(run / "best", tok)
    encoded = [encoder.encode(x["sentence"], x["spans"]) for x in pairs]
    start = time.time()
    logits = torch_logits(model, [e[0] for e in encoded], [e[1] for e in encoded])
    print(f"teacher logits in {time.time() - start:.0f} s", flush=True)

    out = Path(args.out or run / "soft_labels.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for pair, row in zip(pairs, logits):
            f.write(json.dumps({**pair, "logits": [round(float(v), 5) for v in row]}, ensure_ascii=False) + "\n")
    labels = np.array([x["label"] for x in pairs[:n_labelled]])
    agree = float((logits[:n_labelled].argmax(1) == labels).mean())
    print(f"wrote {out}; teacher = gold on {agree:.1%} of the labelled training pairs")


if __name__ == "__main__":
    main()
