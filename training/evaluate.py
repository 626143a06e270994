"""Evaluate an ONNX stance model on NewsMTSC-format JSONL files with onnxruntime.

    python evaluate.py                                   # the bundle ../models/stance-mini on the 3 dev splits
    python evaluate.py --bundle DIR FILE.jsonl ...       # any bundle, any NewsMTSC-format files
    python evaluate.py --model other.onnx --out m.json   # another graph with the bundle's tokenizer/config
    python evaluate.py --bundle DIR --context shuffled F # a context-reading bundle with other articles' contexts

Per file: macro-F1, accuracy, F1-pn (mean F1 of unfavorable and favorable),
per-class P/R/F1, confusion matrix (rows gold, columns predicted), and the
expected calibration error of softmax(logits / T) with T from the bundle config.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

from metrics import aggregate_report, classification_report, contrast_report, ece, softmax
from stance_format import LABELS, Encoder, load_tokenizer, read_examples
from stance_model import DEV_SPLITS, DEFAULT_DATA_DIR, TRAINING_DIR, length_sorted_batches, pad_batch

DEFAULT_BUNDLE = TRAINING_DIR.parent / "models" / "stance-mini"


def ort_session(model_path, threads=2):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])


def graph_inputs(session):
    """The input names of `session`'s graph, in its order."""
    return [i.name for i in session.get_inputs()]


def onnx_input_names(path):
    """The input names of the ONNX graph at `path` (initializers excluded), in its order, without
    starting a session."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {i.name for i in graph.initializer}
    return [i.name for i in graph.input if i.name not in weights]


def session_feed(session, input_ids, attention_mask, token_type_ids):
    """The arrays `session`'s graph takes, by name. MPNet has no segment embeddings, so its
    graph has no token_type_ids input, and onnxruntime refuses inputs a graph does not have."""
    arrays = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
    return {name: arrays[name] for name in graph_inputs(session)}


def ort_logits(session, ids, types, batch_size=64, pad_id=0):
    """Logits for every encoded pair, batched by length with right padding (input_ids with
    `pad_id`: the bundle's tokens.pad, 0 for MiniLM, <pad> = 1 for MPNet)."""
    out = np.zeros((len(ids), 3), dtype=np.float32)
    for idx in length_sorted_batches([len(i) for i in ids], batch_size):
        a, m, t = pad_batch([ids[k] for k in idx], [types[k] for k in idx], pad_id)
        out[idx] = session.run(["logits"], session_feed(session, a, m, t))[0]
    return out


def load_bundle(bundle, model=None, threads=2):
    """(config, encoder, onnxruntime session) of a bundle dir; `model` replaces its model.onnx."""
    config = json.loads((bundle / "config.json").read_text(encoding="utf-8"))
    if config["labels"] != LABELS:
        sys.exit(f"{bundle / 'config.json'}: labels {config['labels']} != {LABELS}")
    encoder = Encoder(load_tokenizer(bundle / "tokenizer.json"), config["input_format"])
    return config, encoder, ort_session(model or bundle / "model.onnx", threads)


def examples_logits(config, encoder, session, examples):
    """Logits of read_examples' (sentence, spans, label, meta) pairs, as the bundle's config encodes them."""
    encoded = [encoder.encode(sentence, spans, meta["others"], meta["context"]) for sentence, spans, _label, meta in examples]
    return ort_logits(session, [e[0] for e in encoded], [e[1] for e in encoded], pad_id=config["tokens"]["pad"])


def report(logits, labels, temperature=1.0, metas=None):
    """Classification metrics and ECE; with `metas` (read_examples' per-pair meta) that name
    articles, also the aggregate metrics a corpus reader sees (metrics.aggregate_report)."""
    res = classification_report(labels, logits.argmax(1))
    probs = softmax(logits / temperature)
    res["ece"] = ece(probs, labels)
    res["temperature"] = temperature
    if metas:
        res["contrast"] = contrast_report(labels, logits.argmax(1), [m["line"] for m in metas])
    if metas and any(m["article"] for m in metas):
        res["aggregate"] = aggregate_report(labels, probs, [m["actor"] for m in metas],
                                            [m["article"] for m in metas])
    return res


def replace_contexts(examples, how, seed=0):
    """The examples with each sentence's `context` (the sentence before it) kept ("given"), emptied
    ("none") or swapped for the context of a sentence of another article ("shuffled"): the ablation
    that tells what a context-reading model takes from the words before from what it takes from
    there being any."""
    if how == "given":
        return examples
    donors = [m for *_rest, m in examples if m["context"]]
    donor_articles = {m["article"] for m in donors}
    rng = np.random.default_rng(seed)
    out = []
    for sentence, spans, label, meta in examples:
        context = ""
        # A file of one article has no other article to borrow from: its pairs get none.
        if how == "shuffled" and meta["context"] and donor_articles - {meta["article"]}:
            donor = donors[rng.integers(len(donors))]
            while donor["article"] == meta["article"]:
                donor = donors[rng.integers(len(donors))]
            context = donor["context"]
        out.append((sentence, spans, label, {**meta, "context": context}))
    return out


def summary_line(name, res):
    return (f"{name:<12} n={res['n']:<5} macro-F1 {res['macro_f1']:.4f}  acc {res['accuracy']:.4f}  "
            f"F1-pn {res['f1_pn']:.4f}  ECE {res['ece']:.4f}")


def format_report(name, res):
    lines = [summary_line(name, res)]
    for label in LABELS:
        c = res["per_class"][label]
        lines.append(f"    {label:<12} P {c['precision']:.3f}  R {c['recall']:.3f}  F1 {c['f1']:.3f}  n {c['support']}")
    lines.append("    confusion (rows gold, cols pred: " + " / ".join(LABELS) + ")")
    lines += ["      " + " ".join(f"{v:5d}" for v in row) for row in res["confusion"]["matrix"]]
    contrast = res.get("contrast")
    if contrast and contrast["n"]:
        lines.append(f"    pairs in sentences whose actors differ in gold label: n {contrast['n']}, "
                     f"macro-F1 {contrast['macro_f1']:.4f}, acc {contrast['accuracy']:.4f}; "
                     f"{contrast['uniform_prediction_rate']:.2f} of their {contrast['sentences']} sentences "
                     f"predicted with one label ({contrast['uniform_neutral_rate']:.2f} all neutral)")
    agg = res.get("aggregate")
    if agg:
        pearson = agg["article_actor_pearson"]
        r = "n/a" if pearson["r"] is None else f"{pearson['r']:.3f}"
        lines.append(f"    opposite polarity {agg['opposite_polarity_rate']:.3f}; "
                     f"(article, actor) groups {pearson['groups']}, Pearson r {r}")
        for actor, a in agg["per_actor"].items():
            if a["n"] >= 50:
                lines.append(f"    {actor:<12} n {a['n']:<5} gold mean {a['gold_mean']:+.3f}  "
                             f"predicted {a['predicted_mean']:+.3f}  difference {a['difference']:+.3f}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="NewsMTSC-format JSONL files (default: the three dev splits)")
    p.add_argument("--bundle", default=str(DEFAULT_BUNDLE), help="dir with model.onnx, tokenizer.json, config.json")
    p.add_argument("--model", help="ONNX graph to use instead of <bundle>/model.onnx")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="write the metrics as JSON here")
    p.add_argument("--context", choices=["given", "none", "shuffled"], default="given",
                   help="the sentence before each pair's sentence, for a bundle whose format reads it: as in the "
                        "file, none, or another article's (replace_contexts)")
    args = p.parse_args(argv)

    config, encoder, session = load_bundle(Path(args.bundle), args.model, args.threads)
    temperature = float(config.get("temperature", 1.0))
    files = {Path(f).stem: Path(f) for f in args.files} or {
        name: Path(args.data_dir) / rel for name, rel in DEV_SPLITS.items()
    }
    results = {}
    for name, path in files.items():
        examples = replace_contexts(list(read_examples(path)), args.context)
        labels = np.array([label for _s, _sp, label, _m in examples], dtype=np.int64)
        logits = examples_logits(config, encoder, session, examples)
        results[name] = report(logits, labels, temperature, [m for *_rest, m in examples])
        results[name]["file"] = str(path)
        print(format_report(name, results[name]), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
