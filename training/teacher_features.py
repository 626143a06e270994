"""A teacher's pooled representation of every pair a student trains on, for feature distillation.

    python teacher_features.py --run runs/mpnet2-f2 --soft-labels runs/prev-mini/soft_labels.jsonl \\
        --natural-holdout-fold 2 --out runs/mpnet2-f2/features-f2.npz
    python teacher_features.py --bundle ../models/stance-base --soft-labels runs/prev-mini/soft_labels.jsonl \\
        --natural-holdout-fold 0 --out runs/stance-base-features-f0.npz   # an ONNX bundle (onnxruntime)

Logit distillation hands the student three numbers per pair; the teacher's pooled vector (what
its head reads: the mean token state and the first [TGT]'s, 2 x hidden wide) carries far more of
what it knows about the pair. train.py --feature-distill adds a loss that pulls a projection of
the student's pooled vector toward it (cosine distance).

Pairs: every row of the soft-label files the student distils from, and opeds/natural.jsonl minus
article-grouped fold I (which must equal train.py's --holdout-fold). Each pair is keyed by the
student's encoding of it (the ids train.py sees; the student's format must read neither the
sentence before nor other actors' markers), so the teacher may use another tokenizer.

The teacher must not have seen fold I: its run, and the runs it was initialised from (for a
bundle: the training commands its config.json records), are refused if they trained on
natural.jsonl with another fold held out. A bundle's graph is read up to its head's input.

Writes OUT (.npz): `features` (float16, pairs x teacher width), `key_ids` (the keys' ids one after
another), `key_offsets` (where each key starts; one more than there are pairs) and `provenance`
(JSON: teacher run, held-out fold, folds, the student tokenizer's SHA-256), which train.py checks.
"""
import argparse
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np
import torch

from stance_format import (
    NATURAL,
    Encoder,
    article_fold,
    clean_spans,
    load_tokenizer,
    read_examples,
    read_soft_labels,
)
from stance_model import (
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    length_sorted_batches,
    load_checkpoint,
    pad_batch,
)


def student_pairs(soft_label_paths, data_dir, holdout, folds):
    """(sentence, spans) of every pair the student trains on, each once, in a stable order."""
    seen = set()
    for path in soft_label_paths:
        for row in read_soft_labels(path):
            pair = (row["sentence"], tuple(clean_spans(map(tuple, row["spans"]))))
            if pair not in seen:
                seen.add(pair)
                yield pair
    for sentence, spans, _label, meta in read_examples(Path(data_dir) / NATURAL):
        if article_fold(meta["article"], folds) == holdout:
            continue  # held out: the teacher's view of it must never reach the student
        pair = (sentence, tuple(clean_spans(map(tuple, spans))))
        if pair not in seen:
            seen.add(pair)
            yield pair


def check_teacher_holdout(run, holdout, folds):
    """Refuse a teacher run that trained on natural.jsonl pairs of fold `holdout`: it, or a run it
    was initialised from, took natural pairs with another fold (or none) held out."""
    run = Path(run)
    while run is not None:
        config = json.loads((run / "config.json").read_text(encoding="utf-8"))
        check_training_holdout(run, config, holdout, folds)
        init = config.get("init_from")
        run = Path(init).parent if init else None


def check_bundle_holdout(bundle, holdout, folds):
    """check_teacher_holdout for a bundle: the train.py commands of its config.json's `training`
    (the run and the run it continued from) must hold fold `holdout` out, if they read natural.jsonl."""
    training = json.loads((Path(bundle) / "config.json").read_text(encoding="utf-8")).get("training") or {}
    commands = [part["train_command"] for part in (training, training.get("continued_from") or {})
                if "train_command" in part]
    if not commands:
        raise SystemExit(f"{bundle}: its config.json records no training command; which folds it saw is unknown")
    for command in commands:
        check_training_holdout(bundle, train_options(command), holdout, folds)


def train_options(command):
    """natural_copies, holdout_fold and folds of a train.py command line (their defaults if absent)."""
    def option(name, default):
        found = re.search(rf"--{name}[ =](-?\d+)", command)
        return int(found.group(1)) if found else default

    return {"natural_copies": option("natural-copies", 0), "holdout_fold": option("holdout-fold", -1),
            "folds": option("folds", 5)}


def check_training_holdout(teacher, config, holdout, folds):
    saw_natural = config.get("natural_copies", 0) > 0
    if saw_natural and holdout >= 0 and (config.get("holdout_fold", -1), config.get("folds", 5)) != (holdout, folds):
        raise SystemExit(f"{teacher}: trained on natural.jsonl with fold {config.get('holdout_fold', -1)} of "
                         f"{config.get('folds', 5)} held out, not fold {holdout} of {folds}: it has seen the "
                         "student's held-out pairs")


def check_plain_format(encoder, what):
    """Keys are the student's ids of (sentence, spans) alone: a format reading more has other ids."""
    if encoder.other_markers or encoder.context_tokens:
        raise SystemExit(f"{what}: a format with other actors' markers or the sentence before is not supported")


def batched_features(encoded, pad_id, pooled_of, batch_size=64):
    """pooled_of(input_ids, attention_mask, token_type_ids) -> array, for each encoded (ids, types)
    pair, in length-sorted padded batches; float32, in the pairs' order."""
    out = None
    for idx in length_sorted_batches([len(i) for i, _t in encoded], batch_size):
        pooled = pooled_of(*pad_batch([encoded[k][0] for k in idx], [encoded[k][1] for k in idx], pad_id))
        if out is None:
            out = np.zeros((len(encoded), pooled.shape[1]), dtype=np.float32)
        out[idx] = pooled
    return out


@torch.no_grad()
def pooled_features(model, encoded):
    """A PyTorch checkpoint's pooled vector of each encoded pair."""
    device = next(model.parameters()).device

    def pooled_of(*arrays):
        return model.pooled(*(torch.from_numpy(x).to(device) for x in arrays)).float().cpu().numpy()

    return batched_features(encoded, model.pad_id, pooled_of)


class BundleTeacher:
    """A finished bundle, run with onnxruntime up to its head's input (the pooled vector)."""

    def __init__(self, bundle, threads):
        import onnx
        import onnxruntime as ort

        from evaluate import session_feed

        self.config = json.loads((Path(bundle) / "config.json").read_text(encoding="utf-8"))
        self.encoder = Encoder(load_tokenizer(Path(bundle) / "tokenizer.json"), self.config["input_format"])
        model = onnx.load(str(Path(bundle) / "model.onnx"))
        self.pooled_name = head_input(model.graph, self.config["onnx"]["output"])
        model.graph.output.append(onnx.helper.make_tensor_value_info(self.pooled_name, onnx.TensorProto.FLOAT, None))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        self.session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        self.feed = session_feed

    def features(self, encoded):
        def pooled_of(a, m, t):
            return self.session.run([self.pooled_name], self.feed(self.session, a, m, t))[0]

        return batched_features(encoded, self.config["tokens"]["pad"], pooled_of)


def head_input(graph, output):
    """The tensor the node that writes `output` (the head: Gemm or MatMul) reads first."""
    for node in graph.node:
        if output in node.output and node.op_type in ("Gemm", "MatMul"):
            return node.input[0]
    raise SystemExit(f"no Gemm or MatMul writes {output!r}: the head is not a linear layer")


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_features(path, keys, features, provenance):
    offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(k) for k in keys])
    key_ids = np.concatenate([np.asarray(k, dtype=np.int32) for k in keys])
    tmp = Path(path).with_suffix(".tmp.npz")
    np.savez(tmp, features=features.astype(np.float16), key_ids=key_ids, key_offsets=offsets,
             provenance=np.array(json.dumps(provenance)))
    tmp.replace(path)


def load_features(path):
    """{key (tuple of student ids): row}, the feature matrix (float16) and the provenance dict."""
    data = np.load(path)
    ids, offsets = data["key_ids"], data["key_offsets"]
    rows = {tuple(ids[offsets[r]:offsets[r + 1]].tolist()): r for r in range(len(offsets) - 1)}
    if len(rows) != len(offsets) - 1:
        raise SystemExit(f"{path}: two pairs share one student encoding")
    return rows, data["features"], json.loads(str(data["provenance"]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    teacher = p.add_mutually_exclusive_group(required=True)
    teacher.add_argument("--run", help="teacher run dir: best/ checkpoint and tokenizer.json")
    teacher.add_argument("--bundle", help="teacher bundle dir (model.onnx, tokenizer.json, config.json)")
    p.add_argument("--soft-labels", nargs="+", required=True, help="the soft-label files the student distils from")
    p.add_argument("--natural-holdout-fold", type=int, required=True, metavar="I",
                   help="article-grouped fold of opeds/natural.jsonl left out (-1: none); train.py's --holdout-fold")
    p.add_argument("--folds", type=int, default=5, help="article-grouped folds of opeds/natural.jsonl")
    p.add_argument("--student-tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    student_encoder = Encoder(load_tokenizer(args.student_tokenizer))
    check_plain_format(student_encoder, args.student_tokenizer)
    if args.run:
        teacher = Path(args.run)
        check_teacher_holdout(teacher, args.natural_holdout_fold, args.folds)
        if json.loads((teacher / "config.json").read_text(encoding="utf-8")).get("context_tokens", 0):
            raise SystemExit(f"{teacher}: a teacher that reads the sentence before is not supported")
        teacher_tok = load_tokenizer(teacher / "tokenizer.json")
        teacher_encoder = Encoder(teacher_tok)
        model = load_checkpoint(teacher / "best", teacher_tok)
        features_of = lambda encoded: pooled_features(model, encoded)
    else:
        teacher = Path(args.bundle)
        check_bundle_holdout(teacher, args.natural_holdout_fold, args.folds)
        member = BundleTeacher(teacher, args.threads)
        teacher_encoder = member.encoder
        features_of = member.features
    check_plain_format(teacher_encoder, teacher)

    pairs = list(student_pairs(args.soft_labels, args.data_dir, args.natural_holdout_fold, args.folds))
    if not pairs:
        raise SystemExit("no pairs: the soft-label files and natural.jsonl are empty")
    keys = [student_encoder.encode(s, spans)[0] for s, spans in pairs]
    start = time.time()
    features = features_of([teacher_encoder.encode(s, spans) for s, spans in pairs])
    print(f"{len(pairs)} pairs, teacher features {features.shape[1]} wide, in {time.time() - start:.0f} s", flush=True)
    provenance = {"teacher": str(teacher), "holdout_fold": args.natural_holdout_fold, "folds": args.folds,
                  "student_tokenizer_sha256": sha256_of(args.student_tokenizer)}
    save_features(args.out, keys, features, provenance)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
