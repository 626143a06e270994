"""A bundle's probabilities for every pair of a file, as the Python pipeline that measured it computes them.

    python bundle_reference.py --bundle ../models/stance-base ../tests/data/eval_articles.jsonl \
        --out ../tests/data/reference_stance-base.jsonl

One JSON line per (sentence, target) pair in file order: `line`, `actor`, `label` and `p_unfavorable`,
`p_neutral`, `p_favorable` = softmax(logits / T), T from the bundle's config. The Rust tests score the
same file with `stance eval --predictions` through the library and compare: a shipped bundle must read
in Rust as it read when its model card's numbers were measured (encoding, inputs, pad id, temperature).
"""
import argparse
import json
from pathlib import Path

import numpy as np

from evaluate import examples_logits, load_bundle
from metrics import softmax
from stance_format import LABELS, read_examples


def reference_rows(bundle, data):
    config, encoder, session = load_bundle(bundle)
    examples = list(read_examples(data))
    probs = softmax(examples_logits(config, encoder, session, examples) / config["temperature"])
    for (_sentence, _spans, _label, meta), p in zip(examples, probs):
        yield {"line": meta["line"], "actor": meta["actor"], "label": LABELS[int(np.argmax(p))],
               **{f"p_{name}": round(float(v), 6) for name, v in zip(LABELS, p)}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", help="a NewsMTSC-format JSONL file")
    p.add_argument("--bundle", required=True, help="dir with model.onnx, tokenizer.json, config.json")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    rows = list(reference_rows(Path(args.bundle), args.data))
    with open(args.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {args.out}: {len(rows)} pairs")


if __name__ == "__main__":
    main()
