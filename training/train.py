"""Fine-tune a backbone + a stance head on NewsMTSC train + op-ed train (+ op-ed natural).

    python train.py --name main            # -> runs/main/{config.json,train.log,epochs.jsonl,best/}
    python train.py --name teacher --tokenizer runs/teacher/tokenizer.json   # all-mpnet-base-v2 (by its tokenizer)
    python train.py --name distill --distill runs/teacher/soft_labels.jsonl  # MiniLM student on soft labels

The backbone follows the tokenizer: all-MiniLM-L6-v2 for the bundle's WordPiece,
all-mpnet-base-v2 for a tokenizer from `make_tokenizer.py --backbone mpnet`.

Selection: after each epoch, macro-F1 on newsmtsc dev_rw, dev_mt and opeds dev; the
checkpoint with the best mean of those is kept in runs/<name>/best/ (or the last one,
--keep last). With --holdout-fold, the held-out fold of opeds/natural.jsonl is scored
too, and reported, but never enters the choice.

Op-ed natural (--natural-copies N): every actor-mentioning sentence of 681 articles,
mostly neutral, as users' corpora are. Its articles are split into --folds folds by a
stable hash of the article (stance_format.article_fold); --holdout-fold I keeps fold I
out of training and scores it each epoch as the dev split natural_fI, so a run is one
fold of a cross-validation grouped by article; --drop-folds J leaves fold J unused, to
measure what less in-domain data costs on the held-out fold (a learning curve). With --distill, natural pairs added by
--natural-copies get the gold cross-entropy only (a teacher not trained on that
distribution over-reads polarity there); a teacher that was gives its soft labels on them
through `teacher_logits.py --natural-holdout-fold I` (then --natural-copies 0, the same
--holdout-fold: checked).

Feature distillation (--feature-distill FEATURES.npz, from teacher_features.py): a linear
projection of the student's pooled vector is pulled toward the teacher's (cosine distance, times
--feature-weight) on every pair that has one, beside the loss above.
"""
import argparse
import json
import math
import os
import time
from pathlib import Path

# libgomp's default busy-wait turns a shared CPU (e.g. next to a compiler) into
# 4-9 s per step instead of 1.5: let idle OpenMP threads sleep. Before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

from metrics import classification_report
from stance_format import HELD_OUT_PREFIX, NATURAL, article_fold, read_examples, read_soft_labels
from stance_model import (
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    POOLINGS,
    backbone_of,
    base_vocab,
    TRAINING_DIR,
    build_model,
    command_line,
    encode_file,
    encoder_layer_of,
    freeze_vocab,
    keep_ffn_units,
    merged_state_dict,
    load_dev,
    make_encoder,
    pad_batch,
    seed_everything,
    torch_logits,
    write_json,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default="main", help="run name: output goes to runs/<name>/")
    p.add_argument("--runs-dir", default=str(TRAINING_DIR / "runs"))
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5, help="backbone learning rate")
    p.add_argument("--head-lr", type=float, default=5e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.06, help="fraction of steps for linear warmup")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--opeds-oversample", type=int, default=2, help="copies of opeds/train per epoch")
    p.add_argument("--natural-copies", type=int, default=0,
                   help="copies of opeds/natural.jsonl per epoch (minus the held-out fold)")
    p.add_argument("--natural-confidence-weights", type=confidence_weights, default=None, metavar="W1,W2,W3",
                   help="loss weights of natural.jsonl pairs by the annotator's confidence (1, 2, 3), rescaled "
                        "within each label so that a label's total weight stays its pair count")
    p.add_argument("--contrast-copies", type=int, default=0,
                   help="extra copies per epoch of the natural pairs of contrast sentences (actors of one "
                        "sentence with different gold labels): more weight on telling actors apart")
    p.add_argument("--folds", type=int, default=5, help="article-grouped folds of opeds/natural.jsonl")
    p.add_argument("--holdout-fold", type=int, default=-1,
                   help="keep this fold of opeds/natural.jsonl out of training and score it as a dev split")
    p.add_argument("--drop-folds", type=int, nargs="+", default=[], metavar="J",
                   help="leave these folds of opeds/natural.jsonl unused (neither trained on nor scored): "
                        "a learning curve, what less in-domain data costs on the held-out fold")
    p.add_argument("--train-vocab", action="store_true",
                   help="also train the pretrained word-embedding rows (default: only the two marker rows)")
    p.add_argument("--distill", nargs="+", metavar="SOFT_LABELS.jsonl",
                   help="train on a teacher's soft labels (teacher_logits.py output, one or more files) "
                        "instead of the gold files")
    p.add_argument("--distill-exclude", nargs="*", default=[], metavar="FILE.jsonl",
                   help="drop unlabelled soft-label pairs whose sentence is in these NewsMTSC-format files "
                        "(the dev splits, so that dev F1 measures sentences the student never saw)")
    p.add_argument("--kd-alpha", type=float, default=0.5,
                   help="weight of the distillation term; the gold cross-entropy gets 1 - alpha")
    p.add_argument("--kd-temperature", type=float, default=2.0)
    p.add_argument("--feature-distill", metavar="FEATURES.npz",
                   help="teacher_features.py output: pull a projection of the student's pooled vector toward "
                        "the teacher's (cosine distance) on every pair it covers")
    p.add_argument("--feature-weight", type=float, default=1.0, help="weight of the feature-distillation term")
    p.add_argument("--average-last", type=int, default=0, metavar="K",
                   help="also evaluate the uniform average of the weights at the end of the last K epochs, "
                        "and keep it when its mean dev macro-F1 beats every single epoch")
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="keep an exponential moving average of the weights (DECAY per step, e.g. 0.998) and "
                        "evaluate and keep it at each epoch's end in place of the weights of the last step")
    p.add_argument("--keep", choices=["best", "last"], default="best",
                   help="best: the epoch with the best mean dev macro-F1; last: the final epoch, whatever dev "
                        "says (when the epoch count was chosen by cross-validation, not on dev)")
    p.add_argument("--layers", type=int, default=0, metavar="N",
                   help="keep only the backbone's bottom N encoder layers (0: all)")
    p.add_argument("--ffn", type=int, default=0, metavar="N",
                   help="keep N feed-forward units in each encoder layer (0: all), the ones that carry most "
                        "on training pairs (after --init-from), before training")
    p.add_argument("--pooling", choices=POOLINGS, default="mean",
                   help="the head's first half: mean over all tokens, or over the target's mentions (span)")
    p.add_argument("--init-from", metavar="CKPT_DIR",
                   help="start from a fine-tuned checkpoint (e.g. runs/<teacher>/best) instead of the packaged "
                        "backbone; with --layers N, its bottom N layers and its head")
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware: train through the rounding of `export.py --quant per_row` "
                        "(fake_quant.py), so the per-row int8 graph keeps the fp32 model's labels")
    p.add_argument("--context-tokens", type=int, default=0, metavar="N",
                   help="append up to N tokens of the sentence before (natural.jsonl's context_before) "
                        "as a third input part (stance_format.py); 0: the sentence alone")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, or cuda for a GPU")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast in the training steps (GPU); weights and evaluation stay fp32")
    p.add_argument("--save-epochs", action="store_true",
                   help="keep every epoch's weights in runs/<name>/epoch-K/, for a choice made elsewhere "
                        "(cv_gpu.py picks the epoch by cross-validation)")
    p.add_argument("--save-logits", action="store_true",
                   help="write each epoch's logits on every dev split to runs/<name>/logits/epoch-K.npz")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke test)")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="STEPS",
                   help="every STEPS steps, save what --resume needs to runs/<name>/resume.pt")
    p.add_argument("--resume", action="store_true",
                   help="continue from runs/<name>/resume.pt, if there is one, as if never stopped")
    p.add_argument("--eval-limit", type=int, default=0, help="evaluate on the first N pairs of each dev split")
    p.add_argument("--log-every", type=int, default=25)
    return p.parse_args(argv)


def bucketed_batches(lengths, batch_size, rng, chunk_batches=50):
    """Shuffle, sort each chunk of `chunk_batches` batches by length, cut into batches, shuffle those."""
    order = rng.permutation(len(lengths))
    batches = []
    chunk = batch_size * chunk_batches
    for s in range(0, len(order), chunk):
        part = order[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def load_gold(data_dir, encoder, opeds_copies, log):
    """(ids, types, labels) of NewsMTSC train + op-ed train x `opeds_copies`."""
    ids, types, labels = [], [], []
    for rel, copies in (("newsmtsc/train.jsonl", 1), ("opeds/train.jsonl", opeds_copies)):
        i, t, y = encode_file(Path(data_dir) / rel, encoder)
        log(f"{rel}: {len(i)} pairs x{copies}, labels {np.bincount(y, minlength=3).tolist()}")
        for _ in range(copies):
            ids += i
            types += t
            labels.append(y)
    return ids, types, np.concatenate(labels)


def init_from_checkpoint(model, ckpt_dir, log):
    """Load a fine-tuned checkpoint into `model`, dropping the encoder layers it does not have.

    A shallower student initialised from its teacher's own bottom layers starts from what
    the teacher learnt about the task, not only from the pretrained backbone.
    """
    from safetensors.torch import load_file

    keep = len(model.bert.encoder.layer)
    state = {k: v for k, v in load_file(str(Path(ckpt_dir) / "model.safetensors")).items()
             if (encoder_layer_of(k) or 0) < keep}
    model.load_state_dict(state)
    log(f"initialised from {ckpt_dir} (bottom {keep} encoder layers and the head)")


def prune_ffn(model, ids, types, keep, seed, log, sample=512):
    """Keep the `keep` feed-forward units of each encoder layer that carry the most.

    A unit's share is its mean |activation| over the real tokens of `sample` training pairs times
    the norm of its output weights: what it adds to the layer's output. Training pairs only, a
    fixed sample of them, so a resumed run prunes the same units before its state is loaded.
    """
    layers = model.bert.encoder.layer
    if not 0 < keep <= layers[0].intermediate.dense.out_features:
        raise SystemExit(f"--ffn {keep}: the layers have {layers[0].intermediate.dense.out_features} units")
    rows = np.random.default_rng(seed).choice(len(ids), size=min(sample, len(ids)), replace=False)
    totals = [torch.zeros(layer.intermediate.dense.out_features) for layer in layers]
    real_tokens = {}

    def add_activations(index):
        def hook(module, inputs, output):
            totals[index].add_((output.abs() * real_tokens["mask"]).sum((0, 1)))
        return hook

    hooks = [layer.intermediate.register_forward_hook(add_activations(i)) for i, layer in enumerate(layers)]
    model.eval()
    with torch.no_grad():
        for start in range(0, len(rows), 64):
            batch = rows[start:start + 64]
            a, m, t = pad_batch([ids[k] for k in batch], [types[k] for k in batch], model.pad_id)
            real_tokens["mask"] = torch.from_numpy(m).unsqueeze(-1).float()
            model(torch.from_numpy(a), torch.from_numpy(m), torch.from_numpy(t))
    for hook in hooks:
        hook.remove()
    kept = [torch.sort(torch.topk(total * layer.output.dense.weight.norm(dim=0), keep).indices).values
            for total, layer in zip(totals, layers)]
    keep_ffn_units(model.bert, kept)
    log(f"feed-forward units: kept {keep} of {len(totals[0])} in each of {len(layers)} layers "
        f"(by mean |activation| x output norm on {len(rows)} training pairs)")


def confidence_weights(text):
    """"W1,W2,W3" -> {1: W1, 2: W2, 3: W3}: loss weights by annotator confidence."""
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        weights = []
    if len(weights) != 3 or not all(w > 0 for w in weights):
        raise argparse.ArgumentTypeError(f"expected three positive numbers W1,W2,W3, got {text!r}")
    return dict(zip((1, 2, 3), weights))


def label_balanced_weights(labels, confidences, weight_of):
    """Per-pair loss weights weight_of[confidence], rescaled within each label so that the label's
    weights sum to its pair count: clean pairs count more than doubtful ones of the same label
    without moving the label prior (polar pairs are more often doubtful than neutral ones).
    A pair without a confidence weighs like the label's mean."""
    raw = np.array([weight_of.get(c, np.nan) for c in confidences], dtype=np.float64)
    weights = np.ones(len(labels), dtype=np.float32)
    for label in np.unique(labels):
        rows = labels == label
        known = rows & ~np.isnan(raw)
        if known.any():
            weights[known] = raw[known] / raw[known].mean()
    return weights


def load_natural(data_dir, encoder, folds, holdout, log, dropped=()):
    """((ids, types, labels, contrast, confidence) to train on, {dev name: (ids, types, labels)} held
    out) from opeds/natural.jsonl: every fold but `holdout` (-1: none) and `dropped` for training.
    `contrast` marks the pairs of contrast sentences: rows whose actors do not all share one gold
    label."""
    train, held = ([], [], [], [], []), ([], [], [])
    labels_of_row = {}
    for sentence, spans, label, meta in read_examples(Path(data_dir) / NATURAL):
        fold = article_fold(meta["article"], folds)
        if fold in dropped:
            continue
        labels_of_row.setdefault(meta["line"], set()).add(label)
        part = held if fold == holdout else train
        i, t = encoder.encode(sentence, spans, meta["others"], meta["context"])
        part[0].append(i)
        part[1].append(t)
        part[2].append(label)
        if part is train:
            train[3].append(meta["line"])
            train[4].append(meta["confidence"])
    contrast = np.array([len(labels_of_row[line]) > 1 for line in train[3]], dtype=bool)
    train = (train[0], train[1], np.array(train[2], dtype=np.int64), contrast, train[4])
    log(f"{NATURAL}: {len(train[0])} training pairs ({int(contrast.sum())} of contrast sentences), labels "
        f"{np.bincount(train[2], minlength=3).tolist()}; fold {holdout} of {folds} held out: {len(held[0])} pairs"
        + (f"; folds {sorted(dropped)} unused" if dropped else ""))
    dev = {f"{HELD_OUT_PREFIX}{holdout}": (held[0], held[1], np.array(held[2], dtype=np.int64))} if holdout >= 0 else {}
    return train, dev


def add_natural(data, natural, copies, has_soft, contrast_copies=0, confidence_weights=None):
    """Append `copies` of the natural pairs, and `contrast_copies` more of those of contrast
    sentences, to the training lists; with soft labels they carry NaN teacher logits, which
    the loss reads as "gold cross-entropy only". `data` ends with the per-pair loss weights;
    the natural pairs get label_balanced_weights(confidence_weights), or 1 without them."""
    ids, types, labels, soft, weights = data
    n_ids, n_types, n_labels, contrast, confidence = natural
    n_weights = (label_balanced_weights(n_labels, confidence, confidence_weights) if confidence_weights
                 else np.ones(len(n_ids), dtype=np.float32))
    rows = [np.arange(len(n_ids))] * copies + [np.flatnonzero(contrast)] * contrast_copies
    for picked in rows:
        ids += [n_ids[k] for k in picked]
        types += [n_types[k] for k in picked]
        labels = np.concatenate([labels, n_labels[picked]])
        weights = np.concatenate([weights, n_weights[picked]])
        if has_soft:
            soft = np.concatenate([soft, np.full((len(picked), 3), np.nan, dtype=np.float32)])
    return ids, types, labels, soft, weights


def load_soft_labels(paths, encoder, opeds_copies, excluded_sentences, log):
    """(ids, types, labels, teacher logits) from teacher_logits.py output files.

    Labelled op-ed pairs are repeated `opeds_copies` times, as in gold training;
    unlabelled pairs (label null -> -1) appear once and get only the distillation
    term, except those whose sentence is in `excluded_sentences`.
    """
    ids, types, labels, soft = [], [], [], []
    counts = {}
    for path in paths:
        rows = read_soft_labels(path)
        spans_of_sentence = spans_by_sentence(rows)
        for row in rows:
            copies = opeds_copies if row["source"] == "opeds" else 1
            kind = row["source"].split(":")[0]
            if row["label"] is None and row["sentence"] in excluded_sentences:
                counts["excluded"] = counts.get("excluded", 0) + 1
                continue
            counts[kind] = counts.get(kind, 0) + 1
            i, t = encode_soft_label_row(encoder, row, spans_of_sentence)
            label = -1 if row["label"] is None else row["label"]
            for _ in range(copies):
                ids.append(i)
                types.append(t)
                labels.append(label)
                soft.append(row["logits"])
    log(f"{' + '.join(map(str, paths))}: pairs by source {counts} (op-eds x{opeds_copies}); {len(ids)} per epoch")
    return ids, types, np.array(labels, dtype=np.int64), np.array(soft, dtype=np.float32)


def spans_by_sentence(rows):
    """{sentence: every span of every soft-label pair of it}: a pair's other actors are the
    other pairs of its sentence (a soft-label file has one row per pair)."""
    spans = {}
    for row in rows:
        spans.setdefault(row["sentence"], []).extend(tuple(s) for s in row["spans"])
    return spans


def encode_soft_label_row(encoder, row, spans_of_sentence):
    own = [tuple(s) for s in row["spans"]]
    others = [s for s in spans_of_sentence[row["sentence"]] if s not in own]
    return encoder.encode(row["sentence"], own, others)


def pair_part(ids, sep_id):
    """The ids of `[CLS] A [SEP] B [SEP]`: an encoded pair without its context part, if it has one."""
    second_sep = ids.index(sep_id, ids.index(sep_id) + 1)
    return tuple(ids[: second_sep + 1])


def check_not_held_out(paths, held_out, encoder):
    """Refuse soft labels that hold a pair of the held-out fold: the teacher's view of it would
    leak into training (teacher_logits.py --natural-holdout-fold must match --holdout-fold).
    Soft-label rows carry no sentence before, so held-out pairs are compared without theirs."""
    held = {pair_part(i, encoder.sep_id) for ids, _types, _labels in held_out.values() for i in ids}
    for path in paths:
        rows = read_soft_labels(path)
        spans_of_sentence = spans_by_sentence(rows)
        for line_no, row in enumerate(rows, 1):
            if row["source"] == "natural" and tuple(encode_soft_label_row(encoder, row, spans_of_sentence)[0]) in held:
                raise SystemExit(f"{path}:{line_no}: a pair of the held-out fold has soft labels "
                                 "(teacher_logits.py --natural-holdout-fold must equal --holdout-fold)")


def feature_rows(ids, args, encoder, log):
    """Each training pair's row in teacher_features.py's matrix (-1 where it has none), and the matrix.
    Refuses features made for another held-out fold or student tokenizer, and features that reach
    no training pair."""
    from teacher_features import check_plain_format, load_features, sha256_of

    path = args.feature_distill
    check_plain_format(encoder, "--feature-distill")
    rows_of_key, features, made_for = load_features(path)
    wanted = {"holdout_fold": args.holdout_fold, "folds": args.folds, "student_tokenizer_sha256": sha256_of(args.tokenizer)}
    differ = sorted(k for k, v in wanted.items() if made_for.get(k) != v)
    if differ:
        raise SystemExit(f"{path}: made for another {', '.join(differ)} ({made_for}); "
                         "run teacher_features.py with this run's --holdout-fold, --folds and tokenizer")
    rows = np.array([rows_of_key.get(tuple(i), -1) for i in ids], dtype=np.int64)
    if not (rows >= 0).any():
        raise SystemExit(f"{path}: no training pair has teacher features")
    log(f"{path}: features of teacher {made_for['teacher']} ({features.shape[1]} wide) for "
        f"{int((rows >= 0).sum())} of {len(ids)} training pairs")
    return rows, features


def make_feature_loss(rows, features, device="cpu"):
    """loss(projected student features, batch indices): mean cosine distance to the teacher's
    features over the batch's pairs that have them (0 if none has)."""
    def loss(projected, batch):
        picked = rows[batch]
        have = torch.from_numpy(picked >= 0).to(device)
        if not have.any():
            return projected.sum() * 0.0
        teacher = torch.from_numpy(features[picked[picked >= 0]]).to(device=device, dtype=projected.dtype)
        return (1 - torch.nn.functional.cosine_similarity(projected[have], teacher, dim=-1)).mean()

    return loss


def make_loss(labels, soft, alpha, temperature, device="cpu", weights=None):
    """loss(logits, batch indices): gold cross-entropy, or with soft labels
    alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE on the labelled rows;
    each row's term times its weight (`weights`, default 1), averaged over the batch."""
    weights = np.ones(len(labels), dtype=np.float32) if weights is None else weights

    def weight_of(batch, dtype):
        return torch.from_numpy(weights[batch]).to(device=device, dtype=dtype)

    if soft is None:
        def gold_loss(logits, batch):
            ce = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels[batch]).to(device),
                                                   reduction="none")
            return (weight_of(batch, ce.dtype) * ce).mean()

        return gold_loss

    def loss(logits, batch):
        y = torch.from_numpy(labels[batch]).to(device)
        teacher = torch.from_numpy(soft[batch]).to(device)
        # Rows without teacher logits (NaN) are gold-only: weight 1 on their cross-entropy.
        has_soft = ~torch.isnan(teacher[:, 0])
        teacher = torch.where(has_soft.unsqueeze(-1), teacher, torch.zeros_like(teacher)) / temperature
        kd = torch.nn.functional.kl_div(
            torch.log_softmax(logits / temperature, -1), torch.log_softmax(teacher, -1),
            log_target=True, reduction="none",
        ).sum(-1) * temperature**2
        has_label = (y >= 0).to(logits.dtype)
        ce = torch.nn.functional.cross_entropy(logits, y.clamp(min=0), reduction="none") * has_label
        kd_weight = torch.where(has_soft, alpha, 0.0).to(logits.dtype)
        ce_weight = torch.where(has_soft, 1 - alpha, 1.0).to(logits.dtype)
        return (weight_of(batch, ce.dtype) * (kd_weight * kd + ce_weight * ce)).mean()

    return loss


class WeightAverage:
    """Running sum of the model's weights at the end of epochs >= first_epoch.

    Averaging the last checkpoints of one run lands in a flatter region than any one
    of them, and smooths the epoch-to-epoch swings seen on the small dev splits.
    """

    def __init__(self, model, first_epoch):
        self.model, self.first_epoch, self.epochs, self.sum = model, max(1, first_epoch), [], None

    def add(self, epoch):
        if epoch < self.first_epoch:
            return
        state = {k: v.detach().clone().double() for k, v in self.model.state_dict().items() if v.is_floating_point()}
        if self.sum is None:
            self.sum = state
        else:
            for k, v in state.items():
                self.sum[k] += v
        self.epochs.append(epoch)

    def load_into_model(self):
        current = self.model.state_dict()
        self.model.load_state_dict({k: (self.sum[k] / len(self.epochs)).to(v.dtype) if k in self.sum else v
                                    for k, v in current.items()})


class WeightEMA:
    """Exponential moving average of the model's floating-point weights, updated after each step.

    The last step's weights carry the noise of the last batches and dropout draws; an average over
    the last few hundred steps sits nearer the middle of the region those steps wander in. Under a
    learning rate that decays to zero, as the recipe's does, it reads as the last step does
    (EXPERIMENTS.md, "A moving average of the weights"). `swap` exchanges the average and the
    model's weights, so that swapping twice restores both.
    """

    def __init__(self, model, decay):
        self.model, self.decay, self.updates = model, decay, 0
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def update(self):
        self.updates += 1
        # Early on, a fixed decay would keep the pretrained weights in the average for thousands of
        # steps: the decay rises from 0.18 toward `decay` as (1 + n) / (10 + n).
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        state = self.model.state_dict()
        with torch.no_grad():
            for k, average in self.shadow.items():
                # lerp leaves a weight that did not move (a frozen row) exactly as it was.
                average.lerp_(state[k].detach(), 1.0 - decay)

    def swap(self):
        state = self.model.state_dict()
        with torch.no_grad():
            for k, average in self.shadow.items():
                current = state[k].detach().clone()
                state[k].copy_(average)
                average.copy_(current)

    def state(self):
        return {"shadow": self.shadow, "updates": self.updates}

    def load(self, state):
        self.shadow, self.updates = state["shadow"], state["updates"]


def evaluate_average(model, averaged, dev, run_dir, log):
    averaged.load_into_model()
    res = evaluate_dev(model, dev)
    name = f"average of epochs {averaged.epochs[0]}-{averaged.epochs[-1]}"
    summary = {n: round(res[n]["macro_f1"], 4) for n in dev}
    log(f"{name} dev macro-F1 {summary} mean {res['mean_macro_f1']:.4f}")
    record = {"epoch": name, "step": None, "dev": res}
    with open(run_dir / "epochs.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return record


def save_best(model, run_dir, config, record, log):
    from safetensors.torch import save_file

    save_file(merged_state_dict(model), str(run_dir / "best" / "model.safetensors"))
    write_json(run_dir / "best" / "meta.json", {"config": config, **record})
    log(f"{describe(record)}: new best (mean macro-F1 {record['dev']['mean_macro_f1']:.4f}) saved")


def describe(record):
    """'epoch 3', or the name of an averaged checkpoint."""
    return record["epoch"] if isinstance(record["epoch"], str) else f"epoch {record['epoch']}"


RESUME_FILE = "resume.pt"
# Arguments that may differ between a run and its resumption: they don't change what is trained.
RESUME_FREE_ARGS = {"resume", "checkpoint_every", "log_every", "threads"}


def save_resume_state(path, args, model, optimizer, scheduler, rng, averaged, progress):
    """Everything a resumed run needs to continue bit for bit: weights, optimizer moments,
    schedule, this epoch's batch order and position, and both random generators (the data
    order's and dropout's). Written to a temporary file first, so a kill mid-write leaves
    the previous checkpoint whole."""
    state = {
        "args": {k: v for k, v in vars(args).items() if k not in RESUME_FREE_ARGS},
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
        "averaged": (averaged.sum, averaged.epochs) if averaged else None,
        **progress,
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_resume_state(path, args):
    """The saved state, or None when there is none; refuses one saved with other arguments."""
    if not path.exists():
        return None
    state = torch.load(path, weights_only=False)
    now = {k: v for k, v in vars(args).items() if k not in RESUME_FREE_ARGS}
    # An option added since the state was saved had its default then.
    saved = {k: v for k, v in vars(parse_args([])).items() if k in now} | state["args"]
    changed = sorted(k for k in now.keys() | saved.keys() if now.get(k) != saved.get(k))
    if changed:
        raise SystemExit(f"{path}: saved with other arguments ({', '.join(changed)}); "
                         "resume with the same ones, or remove it to start over")
    return state


def restore(state, model, optimizer, scheduler, rng, averaged):
    """Load a saved state; returns (best, history, epoch, position in its batches, batches, step)."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    if averaged and state["averaged"]:
        averaged.sum, averaged.epochs = state["averaged"]
    return state["best"], state["history"], state["epoch"], state["position"], state["batches"], state["step"]


def evaluate_dev(model, dev, logits_out=None):
    """Macro-F1 etc. per dev split; with `logits_out` (a dict), each split's logits go there too."""
    out = {}
    for name, (ids, types, labels) in dev.items():
        logits = torch_logits(model, ids, types)
        out[name] = classification_report(labels, logits.argmax(1))
        if logits_out is not None:
            logits_out[name] = logits
    # A held-out fold is scored to be reported, never to choose: it stays an honest estimate.
    out["mean_macro_f1"] = float(np.mean([out[n]["macro_f1"] for n in dev if not n.startswith(HELD_OUT_PREFIX)]))
    return out


def save_epoch(model, run_dir, epoch, logits, save_weights):
    """runs/<name>/logits/epoch-K.npz and, with `save_weights`, runs/<name>/epoch-K/model.safetensors.
    Each file is written under a temporary name and renamed, so a run stopped mid-write leaves
    only whole files."""
    from safetensors.torch import save_file

    if logits:
        path = run_dir / "logits" / f"epoch-{epoch}.npz"
        path.parent.mkdir(exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as f:
            np.savez(f, **logits)
        os.replace(path.with_suffix(".tmp"), path)
    if save_weights:
        path = run_dir / f"epoch-{epoch}" / "model.safetensors"
        path.parent.mkdir(exist_ok=True)
        save_file(merged_state_dict(model), str(path.with_suffix(".tmp")))
        os.replace(path.with_suffix(".tmp"), path)


def main(argv=None):
    args = parse_args(argv)
    if args.ema and not 0.0 < args.ema < 1.0:
        raise SystemExit(f"--ema {args.ema}: the decay lies strictly between 0 and 1")
    if args.ema and args.average_last:
        raise SystemExit("--ema and --average-last: choose one way of averaging weights")
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        # cuBLAS is deterministic only with a fixed workspace; a few CUDA kernels have no
        # deterministic form at all, so on a GPU a run is repeatable up to those (warn, not fail).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.use_deterministic_algorithms(True)
    run_dir = Path(args.runs_dir) / args.name
    (run_dir / "best").mkdir(parents=True, exist_ok=True)
    resume_path = run_dir / RESUME_FILE
    resumed = load_resume_state(resume_path, args) if args.resume else None
    if resumed is None:
        (run_dir / "epochs.jsonl").unlink(missing_ok=True)
    log_file = open(run_dir / "train.log", "a" if resumed else "w", encoding="utf-8")

    def log(msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    config = {"command": command_line(), **vars(args)}
    write_json(run_dir / "config.json", config)
    log(f"config: {json.dumps(config)}")

    tok, encoder = make_encoder(args.tokenizer, args.context_tokens)
    data_dir = Path(args.data_dir)
    if args.distill:
        excluded = {sentence for path in args.distill_exclude for sentence, *_ in read_examples(path)}
        ids, types, labels, soft = load_soft_labels(args.distill, encoder, args.opeds_oversample, excluded, log)
    else:
        ids, types, labels = load_gold(data_dir, encoder, args.opeds_oversample, log)
        soft = None
    weights = np.ones(len(labels), dtype=np.float32)
    dev = load_dev(data_dir, encoder)
    if args.natural_copies or args.holdout_fold >= 0:
        if args.holdout_fold in args.drop_folds:
            raise SystemExit(f"--drop-folds {args.holdout_fold}: that is the held-out fold")
        natural, held_out = load_natural(data_dir, encoder, args.folds, args.holdout_fold, log, set(args.drop_folds))
        if args.distill:
            check_not_held_out(args.distill, held_out, encoder)
        ids, types, labels, soft, weights = add_natural(
            (ids, types, labels, soft, weights), natural, args.natural_copies, soft is not None,
            args.contrast_copies, args.natural_confidence_weights)
        if args.natural_confidence_weights:
            log(f"natural pairs weighted by confidence {args.natural_confidence_weights}, label-balanced: "
                f"weights {np.unique(weights.round(3)).tolist()}")
        dev.update(held_out)
    lengths = np.array([len(i) for i in ids])
    if args.eval_limit:
        dev = {k: (v[0][: args.eval_limit], v[1][: args.eval_limit], v[2][: args.eval_limit]) for k, v in dev.items()}
    log(f"train pairs {len(ids)}; dev pairs " + ", ".join(f"{k} {len(v[2])}" for k, v in dev.items()))

    model = build_model(tok, dropout=args.dropout, layers=args.layers, pooling=args.pooling)
    if args.init_from:
        init_from_checkpoint(model, args.init_from, log)
    if args.ffn:
        prune_ffn(model, ids, types, args.ffn, args.seed, log)
    if not args.train_vocab:
        freeze_vocab(model, base_vocab(backbone_of(tok)))
    if args.qat:  # after freeze_vocab: its word-embedding module is the one to round
        import fake_quant

        log(f"quantization-aware training (per-row int8): {fake_quant.attach(model)}")
    model.to(device)
    no_decay = ("bias", "LayerNorm.weight", "layernorm.weight", "norm.weight")
    groups = [
        {"params": [], "lr": args.lr, "weight_decay": args.weight_decay},
        {"params": [], "lr": args.lr, "weight_decay": 0.0},
        {"params": [], "lr": args.head_lr, "weight_decay": args.weight_decay},
        {"params": [], "lr": args.head_lr, "weight_decay": 0.0},
    ]
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        head = not name.startswith("bert.")
        decay = not any(nd in name for nd in no_decay)
        groups[2 * head + (not decay)]["params"].append(param)
    projection, feature_loss = None, None
    if args.feature_distill:
        # Trained with the student (and kept in resume.pt), but not part of its checkpoint or
        # bundle: it only carries the teacher's signal in. Initialised from a forked generator, so
        # dropout draws what it would without it.
        rows, features = feature_rows(ids, args, encoder, log)
        with torch.random.fork_rng():
            projection = torch.nn.Linear(model.classifier.in_features, features.shape[1]).to(device)
        feature_loss = make_feature_loss(rows, features, device)
        groups.append({"params": list(projection.parameters()), "lr": args.head_lr, "weight_decay": 0.0})
    # What the gradient norm is clipped over: the model, and the projection when there is one.
    clipped = list(model.parameters()) + (list(projection.parameters()) if projection is not None else [])
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], betas=(0.9, 0.999), eps=1e-8,
                                  fused=device.type == "cuda")

    steps_per_epoch = math.ceil(len(ids) / args.batch_size)
    total = steps_per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)
    warmup = max(1, int(round(args.warmup * total)))

    def lr_factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    loss_fn = make_loss(labels, soft, args.kd_alpha, args.kd_temperature, device, weights)
    rng = np.random.default_rng(args.seed)
    log(f"steps/epoch {steps_per_epoch}, total {total}, warmup {warmup}")

    best, step, t_start = None, 0, time.time()
    history = []
    averaged = WeightAverage(model, first_epoch=args.epochs - args.average_last + 1) if args.average_last else None
    ema = WeightEMA(model, args.ema) if args.ema else None
    start_epoch, position, batches = 1, 0, None
    if resumed:
        best, history, start_epoch, position, batches, step = restore(resumed, model, optimizer, scheduler, rng,
                                                                      averaged)
        if projection is not None:
            projection.load_state_dict(resumed["projection"])
        if ema is not None:
            ema.load(resumed["ema"])
        log(f"resumed from {resume_path} at epoch {start_epoch}, step {step}")
    for epoch in range(start_epoch, args.epochs + 1):
        model.train()
        run_loss, run_feature, run_n, t_log = 0.0, 0.0, 0, time.time()
        if batches is None:
            batches = bucketed_batches(lengths, args.batch_size, rng)
        for position, batch in enumerate(batches[position:], position):
            if step >= total:
                break
            a, m, t = (torch.from_numpy(x).to(device) for x in
                       pad_batch([ids[k] for k in batch], [types[k] for k in batch], model.pad_id))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                pooled = model.pooled(a, m, t)
                logits = model.classifier(model.dropout(pooled))
            loss = loss_fn(logits.float(), batch)
            if projection is not None:
                feature_term = feature_loss(projection(pooled.float()), batch)
                loss = loss + args.feature_weight * feature_term
                run_feature += feature_term.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(clipped, 1.0)
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update()
            step += 1
            run_loss += loss.item()
            run_n += 1
            if step % args.log_every == 0:
                dt = (time.time() - t_log) / run_n
                features_part = f" (feature term {run_feature / run_n:.4f})" if projection is not None else ""
                log(f"epoch {epoch} step {step}/{total} loss {run_loss / run_n:.4f}{features_part} {dt:.2f} s/step "
                    f"lr {scheduler.get_last_lr()[0]:.2e} elapsed {(time.time() - t_start) / 60:.1f} min")
                run_loss, run_feature, run_n, t_log = 0.0, 0.0, 0, time.time()
            if args.checkpoint_every and step % args.checkpoint_every == 0:
                save_resume_state(resume_path, args, model, optimizer, scheduler, rng, averaged,
                                  {"epoch": epoch, "position": position + 1, "batches": batches, "step": step,
                                   "best": best, "history": history,
                                   "projection": projection.state_dict() if projection is not None else None,
                                   "ema": ema.state() if ema is not None else None})
        batches, position = None, 0
        if ema is not None:
            # The last step's weights are scored too (logged only), so that one run shows what
            # the average changes on the same trajectory; then the average is evaluated and kept.
            raw = evaluate_dev(model, dev)
            raw_summary = {n: round(raw[n]["macro_f1"], 4) for n in dev}
            log(f"epoch {epoch} last step's weights: dev macro-F1 {raw_summary} mean {raw['mean_macro_f1']:.4f}")
            ema.swap()  # swapped back below
        t_eval = time.time()
        logits = {} if args.save_logits else None
        res = evaluate_dev(model, dev, logits)
        save_epoch(model, run_dir, epoch, logits, args.save_epochs)
        summary = {n: round(res[n]["macro_f1"], 4) for n in dev}
        log(f"epoch {epoch} dev macro-F1 {summary} mean {res['mean_macro_f1']:.4f} "
            f"(eval {time.time() - t_eval:.0f} s, elapsed {(time.time() - t_start) / 60:.1f} min)")
        record = {"epoch": epoch, "step": step, "dev": res}
        history.append(record)
        with open(run_dir / "epochs.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        last_epoch = epoch == args.epochs or step >= total
        if (args.keep == "last" and last_epoch) or (
                args.keep == "best" and (best is None or res["mean_macro_f1"] > best["dev"]["mean_macro_f1"])):
            best = record
            save_best(model, run_dir, config, record, log)
        if ema is not None:
            ema.swap()
        if averaged:
            averaged.add(epoch)
        if step >= total:
            break
    if averaged and averaged.epochs:
        record = evaluate_average(model, averaged, dev, run_dir, log)
        history.append(record)
        if record["dev"]["mean_macro_f1"] > best["dev"]["mean_macro_f1"]:
            best = record
            save_best(model, run_dir, config, record, log)
    resume_path.unlink(missing_ok=True)
    log(f"done in {(time.time() - t_start) / 60:.1f} min; best: {describe(best)} "
        f"mean macro-F1 {best['dev']['mean_macro_f1']:.4f}")
    write_json(run_dir / "summary.json", {"best_epoch": best["epoch"], "best": best["dev"],
                                          "train_minutes": (time.time() - t_start) / 60,
                                          "epochs": [{"epoch": h["epoch"], **{n: h["dev"][n]["macro_f1"] for n in dev}}
                                                     for h in history]})


if __name__ == "__main__":
    main()
