"""Export a training checkpoint to ONNX (fp32), quantize it to int8 and check both.

    python export.py --run runs/main       # -> runs/main/onnx/{model.fp32.onnx, model.int8.onnx, export.json}

Graph: inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq],
both axes dynamic; an MPNet backbone has no segment embeddings, so its graph has
no token_type_ids), output logits (float32 [batch, 3]; unfavorable, neutral,
favorable; raw, not temperature-scaled). input_ids are right-padded with the
tokenizer's pad id (MiniLM [PAD] = 0, MPNet <pad> = 1, as in training), the id the
checks below use and the bundle's tokens.pad.

The mean pooling's sums over the sequence are exported as CumSums (`sums_row_by_row`): a
ReduceSum's summation order follows the whole batch's shape, so with it a pair's logits move in
their last bits with its batch-mates. With CumSums the fp32 graph and every quantization below
except `dynamic` give a pair the same bits alone, in any batch and padded to any length, which
lets the library batch sentences of different documents together and still resume and shard
exactly (checked below; the bundle's config records it as `batch_invariant`).

Quantization (`--quant`):
  dynamic      onnxruntime quantize_dynamic, QInt8 weights and per-tensor int8
               activations computed at run time. Fast, but the activation scale
               of each MatMul is taken over the whole [batch x seq] tensor, so a
               pair's logits move (slightly) with what it is batched or padded with.
  weight_only  int8 weights, fp32 activations: MatMuls become MatMulNBits
               (8 bits, blocks of 32 along K, fp32 compute) and the embedding
               tables int8 with a scale per row (`--embeddings row`; `tensor`: one
               scale per table, as quantize_dynamic does). Every row is computed on
               its own, so scores do not depend on the batch (the library's rule):
               bit for bit, checked below.
  static       onnxruntime quantize_static, QDQ format, per-channel int8 weights and
               int8 activations whose scales are constants fixed from a calibration
               sample (`--calib-n` pairs drawn with `--calib-seed` from the TRAINING
               files newsmtsc/train + opeds/train, padded length-sorted batches).
               Constant scales: a pair's quantized activations never depend on the
               other rows, so the graph stays batch-invariant while the MatMuls run
               in int8. `--static-ops`, `--exclude-attention` (keep Q.K^T and
               softmax.V in fp32), `--calib-method` and `--optimize` pick the variant.
  per_row      int8 activations with a scale per row (token), computed at run time
               from that row alone, and int8 weights with a scale per output column
               (7 bits by default, `--weight-bits`): every encoder MatMul with a weight
               becomes QuantizeLinear + com.microsoft.MatMulIntegerToFloat (uint8 x int8,
               exact int32 sums) and the bias Add stays separate; embedding tables as in
               weight_only (`--embeddings row`). A pair's logits are bit-identical
               whatever its batch, padding or row (checked below), and the MatMuls run
               in int8. `--keep-fp32 REGEX` keeps the MatMuls whose node name matches
               in fp32. See per_row_quant.py.
The checks (saved in export.json): torch vs ONNX fp32 logits, padding/batch
invariance of both graphs (max difference, and bit-identity across batch
compositions, padding to 128, row offsets and thread counts), int8 vs fp32
label agreement and macro-F1 on dev; per_row: no bias folded into
MatMulIntegerToFloat by onnxruntime's graph optimizer.
"""
import argparse
import os
import re
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see train.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

from evaluate import graph_inputs, onnx_input_names, ort_logits, ort_session, session_feed  # noqa: E402
from metrics import classification_report  # noqa: E402
from stance_model import (  # noqa: E402
    DEFAULT_DATA_DIR,
    DEFAULT_TOKENIZER,
    DEV_SPLITS,
    backbone_of,
    load_checkpoint,
    load_dev,
    make_encoder,
    pad_batch,
    read_json,
    torch_logits,
    write_json,
)

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OPSET = 17
# The quantized graph is committed to git as the bundle's model.onnx, and git hosts refuse files over
# 100 MiB: the MPNet tier is held to that; MiniLM (the model the crate embeds) to its own 30 MiB budget.
SIZE_LIMIT_MB = {"minilm": 30, "mpnet": 100}


def model_inputs(model):
    """The graph's input names: MPNet ignores token_type_ids, so its graph does not take them."""
    return INPUTS if model.uses_token_types else INPUTS[:2]


def example_batch(encoder):
    """Two short padded pairs to trace the model with ([CLS] [TGT] w [/TGT] w [SEP] w [SEP]):
    for MiniLM the ids 101, 30522, 2000, 30523, 2003, 102, 2000, 102."""
    from stance_format import MARKER_CLOSE

    cls, sep, open_, close = (encoder.cls_id, encoder.sep_id, encoder.open_id,
                              encoder.tok.token_to_id(MARKER_CLOSE))
    rows = [[cls, open_, 2000, close, 2003, sep, 2000, sep], [cls, open_, 2000, close, sep, 2000, sep]]
    return pad_batch(rows, [[0] * 6 + [1] * 2, [0] * 5 + [1] * 2], encoder.pad_id)


def export_fp32(model, path, encoder):
    names = model_inputs(model)
    args = tuple(torch.from_numpy(x) for x in example_batch(encoder))[: len(names)]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["logits"] = {0: "batch"}
    torch.onnx.export(
        model, args, str(path), input_names=names, output_names=["logits"], dynamic_axes=axes,
        opset_version=OPSET, do_constant_folding=True, dynamo=False,
    )
    exported = onnx_input_names(path)
    assert exported == names, f"exported graph inputs {exported}, expected {names}"


def quantize(fp32_path, out_path, kind, per_channel=False, accuracy_level=0, bits=8, embeddings="row",
             eight_bit=None):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if kind == "per_row":
        return quantize_per_row(fp32_path, out_path)
    if kind == "dynamic":
        quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8, per_channel=per_channel)
        return
    if kind != "weight_only":
        raise ValueError(f"unknown quantization {kind!r}")
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    # 1) MatMul weights -> MatMulNBits (`bits` 8 or 4). accuracy_level 0: fp32 compute, activations stay
    #    fp32; 4: activations quantized to int8 per row and block of K (still independent of the other rows).
    #    With bits 4, MatMuls named by the regex `eight_bit` get 8 bits (mixed precision: a 12-layer
    #    model whose 8-bit file is over 100 MB keeps its most sensitive weights at 8 bits).
    import logging

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    def matmul_nbits(model, pass_bits, exclude=()):
        cfg = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=accuracy_level,
                                           bits=pass_bits)
        q = MatMulNBitsQuantizer(model, nodes_to_exclude=list(exclude), algo_config=cfg)
        q.process()
        return q

    model = onnx.load(str(fp32_path))
    keep8 = [n.name for n in model.graph.node if n.op_type == "MatMul" and re.search(eight_bit, n.name)] \
        if eight_bit else []
    q = matmul_nbits(model, bits, exclude=keep8)
    if keep8:
        q = matmul_nbits(q.model.model, 8)
    if embeddings == "row":
        # 2) embedding tables: int8 with one scale per row (see quantize_embedding_rows).
        quantize_embedding_rows(q.model.model)
        q.model.save_model_to_file(str(out_path), use_external_data_format=False)
        return
    tmp = Path(out_path).with_suffix(".matmul.onnx")
    q.model.save_model_to_file(str(tmp), use_external_data_format=False)
    # 2) embedding tables: Gather on int8 then DequantizeLinear, one scale per table.
    quantize_dynamic(str(tmp), str(out_path), weight_type=QuantType.QInt8, per_channel=per_channel,
                     op_types_to_quantize=["Gather"])
    tmp.unlink()


def quantize_per_row(fp32_path, out_path, keep_fp32=None, weight_bits=7, smooth=None, table_min_rows=0):
    """Batch-invariant int8 (per_row_quant.py): per-row activation scales for every weight MatMul
    except those whose name matches `keep_fp32`, and int8 embedding tables with a scale per row
    (those of `table_min_rows` rows or more). `smooth` = (calibration reader, alpha) first
    migrates the inputs' outlier channels into the weights (`smooth_activations`): a token row's
    scale is otherwise set by one channel about 15 times the median channel's size, which leaves
    the others a few int8 steps. Returns what was done, for export.json."""
    import tempfile

    import onnx

    import per_row_quant

    with tempfile.TemporaryDirectory() as tmp:
        if smooth:
            smoothed = Path(tmp) / "smoothed.onnx"
            smooth_activations(fp32_path, smoothed, *smooth)
            fp32_path = smoothed
        model = onnx.load(str(fp32_path))
    kept = [n.name for n in per_row_quant.weight_matmuls(model) if keep_fp32 and re.search(keep_fp32, n.name)]
    quantized = per_row_quant.quantize_matmuls(model, keep_fp32=keep_fp32, weight_bits=weight_bits)
    quantize_embedding_rows(model, table_min_rows)
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))
    return {"weight_bits": weight_bits, "keep_fp32": keep_fp32, "matmuls_int8": len(quantized),
            "matmuls_fp32": kept, "smooth_alpha": smooth[1] if smooth else None,
            "fp32_tables_under_rows": table_min_rows}


def calibration_reader(args, fp32_path, encoder, pad_id):
    """`--calib-n` training pairs (never dev or test) for the graph at `fp32_path`."""
    return CalibrationReader(*calibration_sample(args.data_dir, encoder, args.calib_n, args.calib_seed),
                             input_names=onnx_input_names(fp32_path), pad_id=pad_id)


def smoothing_calibration(args, fp32_path, encoder, pad_id):
    """(calibration reader, alpha) for `--smooth`, or None."""
    if args.smooth is None:
        return None
    return calibration_reader(args, fp32_path, encoder, pad_id), args.smooth


def sums_row_by_row(src, dst):
    """Write the fp32 graph `src` to `dst` with its sums over the sequence (the mean pooling) as
    CumSums, so that a pair's logits do not depend on its batch-mates or padding whatever the
    precision (per_row_quant.sequence_sums_as_cumsum): every quantization starts from this graph.
    Returns the names of the nodes rewritten."""
    import onnx

    import per_row_quant

    model = onnx.load(str(src))
    sums = per_row_quant.sequence_sums_as_cumsum(model)
    onnx.save(model, str(dst))
    return sums


def optimized_fused_bias(model_path, threads):
    """MatMulIntegerToFloat nodes to which onnxruntime's optimizer (all levels, as the Rust
    runtime uses) gave a bias input: with a per-row scale that bias would be scaled per row."""
    import tempfile

    import onnx
    import onnxruntime as ort

    import per_row_quant

    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        optimized = onnx.load(opts.optimized_model_filepath)
    return {"fused_bias_nodes": per_row_quant.fused_bias_nodes(optimized),
            "matmul_integer_to_float_nodes": sum(n.op_type == "MatMulIntegerToFloat" for n in optimized.graph.node)}


def quantize_embedding_rows(model, min_rows=0):
    """Store each 2-D float table read by a Gather as int8 with one symmetric scale per row,
    except tables of fewer than `min_rows` rows, which stay fp32.

    One scale for the whole word-embedding table (what quantize_dynamic does) spends the
    int8 range on a few outlier values and leaves most rows with a handful of levels;
    a scale per row keeps every token's vector to 1/254 of its own largest entry. The
    Gather reads the int8 rows and their scales with the same indices, so a token's
    vector never depends on the rest of the batch. Cost: one float per row (0.1 MB).
    The small tables (positions, segments: under 1 MB in fp32) save little and round every
    pair's input, so `min_rows` can keep them exact.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    tables = {t.name: t for t in graph.initializer}
    nodes = []
    for node in graph.node:
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        if (table is None or len(table.dims) != 2 or table.data_type != onnx.TensorProto.FLOAT or axis != 0
                or table.dims[0] < min_rows):
            nodes.append(node)
            continue
        w = numpy_helper.to_array(table)
        scale = np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        base, out = node.input[0], node.output[0]
        graph.initializer.remove(table)
        graph.initializer.extend([numpy_helper.from_array(q, base + "_int8"),
                                  numpy_helper.from_array(scale.astype(np.float32), base + "_row_scale")])
        nodes += [
            helper.make_node("Gather", [base + "_int8", node.input[1]], [out + "_int8"], name=node.name + "_int8"),
            helper.make_node("Cast", [out + "_int8"], [out + "_int8_f"], to=onnx.TensorProto.FLOAT,
                             name=node.name + "_cast"),
            helper.make_node("Gather", [base + "_row_scale", node.input[1]], [out + "_scale"],
                             name=node.name + "_scale"),
            helper.make_node("Mul", [out + "_int8_f", out + "_scale"], [out], name=node.name + "_dequant"),
        ]
    del graph.node[:]
    graph.node.extend(nodes)


CALIB_FILES = ("newsmtsc/train.jsonl", "opeds/train.jsonl")


def calibration_sample(data_dir, encoder, n=512, seed=0):
    """(ids, types) of n pairs drawn with a fixed seed from the training files (never dev or test)."""
    import random

    from stance_format import read_examples

    pool = [(s, sp, meta["others"]) for rel in CALIB_FILES
            for s, sp, _label, meta in read_examples(Path(data_dir) / rel)]
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    enc = [encoder.encode(s, sp, others) for s, sp, others in picked]
    return [e[0] for e in enc], [e[1] for e in enc]


class CalibrationReader:
    """onnxruntime CalibrationDataReader over padded, length-sorted batches of the calibration pairs,
    fed to the graph's `input_names` only (an MPNet graph has no token_type_ids)."""

    def __init__(self, ids, types, batch_size=32, input_names=INPUTS, pad_id=0):
        from stance_model import length_sorted_batches

        self.batches = []
        for idx in length_sorted_batches([len(i) for i in ids], batch_size):
            a, m, t = pad_batch([ids[k] for k in idx], [types[k] for k in idx], pad_id)
            arrays = {"input_ids": a, "attention_mask": m, "token_type_ids": t}
            self.batches.append({name: arrays[name] for name in input_names})
        self.it = iter(self.batches)

    def get_next(self):
        return next(self.it, None)

    def rewind(self):
        self.it = iter(self.batches)


def attention_matmuls(model_path):
    """Names of the activation x activation MatMuls (Q.K^T and softmax.V): both inputs are computed."""
    import onnx

    m = onnx.load(str(model_path))
    inits = {i.name for i in m.graph.initializer}
    return [n.name for n in m.graph.node if n.op_type == "MatMul" and not any(i in inits for i in n.input)]


def smooth_activations(src, dst, calib, alpha=0.5):
    """SmoothQuant-style outlier migration, exact in fp32: for every weight MatMul input X (grouped by
    tensor, so Q/K/V share one), per input channel j s_j = max|X_j|^alpha / max|W_j|^(1 - alpha);
    insert X' = X * (1/s) (a constant per-channel Mul) and scale the weight rows W_j *= s_j.
    Per-tensor int8 activations then lose less to the few outlier channels of BERT's LayerNorm and
    GELU outputs. The Mul is elementwise with a constant, so batch invariance is untouched."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    inits = {i.name: i for i in m.graph.initializer}
    groups = {}
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits and n.input[0] not in inits:
            groups.setdefault(n.input[0], []).append(n)
    probe = onnx.load(str(src))
    have = {o.name for o in probe.graph.output}
    for t in groups:
        if t not in have:
            probe.graph.output.append(helper.make_empty_tensor_value_info(t))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(probe.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    amax = {}
    calib.rewind()
    while (batch := calib.get_next()) is not None:
        out = dict(zip(names, sess.run(None, batch)))
        for t in groups:
            a = np.abs(out[t]).reshape(-1, out[t].shape[-1]).max(0)
            amax[t] = np.maximum(amax[t], a) if t in amax else a
    calib.rewind()
    for k, (t, nodes) in enumerate(groups.items()):
        ws = [numpy_helper.to_array(inits[n.input[1]]) for n in nodes]
        wmax = np.max([np.abs(w).max(1) for w in ws], axis=0)
        scale = (np.maximum(amax[t], 1e-5) ** alpha / np.maximum(wmax, 1e-5) ** (1 - alpha)).astype(np.float32)
        scale = np.clip(scale, 1e-2, 1e2)
        inv_name, out_name = f"smooth_inv_{k}", f"{t}_smoothed"
        m.graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), inv_name))
        m.graph.node.append(helper.make_node("Mul", [t, inv_name], [out_name], name=f"/smooth/Mul_{k}"))
        for n, w in zip(nodes, ws):
            n.input[0] = out_name
            new = numpy_helper.from_array((w * scale[:, None]).astype(np.float32), n.input[1])
            inits[n.input[1]].CopyFrom(new)
    # topological order: put each Mul right after the producer of its input
    nodes = list(m.graph.node)
    muls = {n.input[0]: n for n in nodes if n.name.startswith("/smooth/Mul_")}
    ordered = []
    for n in nodes:
        if n.name.startswith("/smooth/Mul_"):
            continue
        ordered.append(n)
        for o in n.output:
            if o in muls:
                ordered.append(muls.pop(o))
    ordered = [muls.pop(t) for t in list(muls)] + ordered  # graph inputs, if any
    del m.graph.node[:]
    m.graph.node.extend(ordered)
    onnx.save(m, str(dst))


def quantize_static_qdq(fp32_path, out_path, calib, static_ops=("MatMul",), exclude_attention=False,
                        calib_method="minmax", activation_type="int8", optimize="none", smooth=None, exclude=None):
    """Static QDQ quantization with activation scales fixed from `calib` (a CalibrationReader)."""
    import tempfile

    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "pre.onnx"
        if optimize == "transformer":
            from onnxruntime.transformers.optimizer import optimize_model

            opt = optimize_model(str(fp32_path), model_type="bert", num_heads=12, hidden_size=384, opt_level=1)
            opt.save_model_to_file(str(Path(tmp) / "opt.onnx"))
            quant_pre_process(str(Path(tmp) / "opt.onnx"), str(src), skip_optimization=True, skip_symbolic_shape=True)
        else:
            quant_pre_process(str(fp32_path), str(src), skip_optimization=optimize == "none", skip_symbolic_shape=True)
        if smooth is not None:
            smooth_activations(src, Path(tmp) / "smooth.onnx", calib, smooth)
            src = Path(tmp) / "smooth.onnx"
        excluded = attention_matmuls(src) if exclude_attention else []
        if exclude:
            import re

            import onnx

            excluded += [n.name for n in onnx.load(str(src)).graph.node if re.search(exclude, n.name)]
        qtype = {"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}[activation_type]
        method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                  "entropy": CalibrationMethod.Entropy}[calib_method]
        extra = {"ActivationSymmetric": False, "WeightSymmetric": True, "CalibMovingAverage": False}
        if calib_method == "percentile":
            extra["CalibPercentile"] = 99.999
        quantize_static(
            str(src), str(out_path), calib, quant_format=QuantFormat.QDQ, op_types_to_quantize=list(static_ops),
            per_channel=True, reduce_range=False, activation_type=qtype, weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded, calibrate_method=method, extra_options=extra,
        )


def padding_check(session, encoder, n_pairs=8):
    """Max |logit difference| between each pair scored alone and inside a padded, mixed batch."""
    sentences = [
        ("Beijing has been a reliable partner to its neighbours.", [(0, 7)]),
        ("Critics say Washington has squandered its credibility in the region, and that the "
         "administration keeps promising more than it can deliver to allies who no longer listen.", [(12, 22)]),
        ("India's growth is impressive.", [(0, 5)]),
        ("The talks between China and India ended without a statement.", [(18, 23)]),
        ("Pakistan blamed India for the attack, while the US urged restraint.", [(16, 21)]),
        ("Russia.", [(0, 6)]),
        ("Few expected the European Union to act so quickly, yet Brussels moved first.", [(17, 31), (55, 63)]),
        ("Japan, long cautious, is now rearming.", [(0, 5)]),
    ][:n_pairs]
    enc = [encoder.encode(s, sp) for s, sp in sentences]
    ids, types = [e[0] for e in enc], [e[1] for e in enc]
    pad = encoder.pad_id
    alone = np.concatenate([ort_logits(session, [i], [t], pad_id=pad) for i, t in zip(ids, types)])
    batched = ort_logits(session, ids, types, batch_size=len(ids), pad_id=pad)
    # and with extra padding beyond the longest row
    long_row = [encoder.cls_id] + [2000] * 150 + [encoder.sep_id]
    a, m, t = pad_batch(ids + [long_row], types + [[0] * 152], pad)
    padded = session.run(["logits"], session_feed(session, a, m, t))[0][: len(ids)]
    return float(max(np.abs(alone - batched).max(), np.abs(alone - padded).max()))


def bit_identity_check(session, reference, ids, types, n_pairs=4, n_mates=64, seed=0, pad_id=0):
    """Are a pair's logits bit-identical alone and inside a batch? For n_pairs dev pairs: scored
    alone by `reference` (a 1-thread session of the same graph), then by `session` in a batch of
    n_mates other dev pairs at row offsets 0, a third and n_mates, at the batch's own width and
    padded to 128 tokens (input_ids with `pad_id`, the rest with 0). Returns the cases, how many
    differ in any bit, and the largest difference."""
    rng = np.random.default_rng(seed)
    picks = [int(i) for i in rng.choice(len(ids), n_pairs + n_mates, replace=False)]
    pairs, mates = picks[:n_pairs], picks[n_pairs:]

    def run(sess, rows, width=None):
        a, m, t = pad_batch([ids[k] for k in rows], [types[k] for k in rows], pad_id)
        if width is not None and width > a.shape[1]:
            a, m, t = (np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=fill)
                       for x, fill in ((a, pad_id), (m, 0), (t, 0)))
        return sess.run(["logits"], session_feed(sess, a, m, t))[0]

    cases = differ = 0
    max_diff = 0.0
    for k in pairs:
        alone = run(reference, [k])[0]
        for offset in (0, n_mates // 3, n_mates):
            for width in (None, 128):
                got = run(session, mates[:offset] + [k] + mates[offset:], width)[offset]
                cases += 1
                differ += int((got.view(np.uint32) != alone.view(np.uint32)).any())
                max_diff = max(max_diff, float(np.abs(got - alone).max()))
    return {"cases": cases, "differing": differ, "max_abs_diff": max_diff, "bit_identical": differ == 0}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="training run dir (with best/model.safetensors)")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--quant", choices=["dynamic", "weight_only", "static", "per_row"], default="weight_only")
    p.add_argument("--keep-fp32", metavar="REGEX", help="per_row: MatMuls whose node name matches stay fp32")
    p.add_argument("--weight-bits", type=int, default=7, choices=[7, 8],
                   help="per_row: int8 weight range [-63, 63] (7, exact on every x86 CPU) or [-127, 127] "
                        "(8: may saturate in VPMADDUBSW on x86 CPUs without VNNI)")
    p.add_argument("--calib-n", type=int, default=512, help="static: calibration pairs from the training files")
    p.add_argument("--calib-seed", type=int, default=0)
    p.add_argument("--calib-method", choices=["minmax", "percentile", "entropy"], default="minmax")
    p.add_argument("--static-ops", default="MatMul", help="static: comma-separated op types to quantize")
    p.add_argument("--exclude-attention", action="store_true", help="static: keep Q.K^T and softmax.V in fp32")
    p.add_argument("--smooth", type=float,
                   help="static, per_row: SmoothQuant alpha (migrate activation outliers to weights)")
    p.add_argument("--exclude", help="static: regex of node names kept in fp32 (mixed precision)")
    p.add_argument("--activation-type", choices=["int8", "uint8"], default="int8")
    p.add_argument("--optimize", choices=["none", "basic", "transformer"], default="none",
                   help="static: graph optimization before quantization")
    p.add_argument("--fp32", help="reuse this fp32 graph instead of exporting the checkpoint again "
                                  "(skips the torch vs ONNX check)")
    p.add_argument("--per-channel", action="store_true")
    p.add_argument("--accuracy-level", type=int, default=0, choices=[0, 1, 4],
                   help="MatMulNBits compute for weight_only: 0/1 fp32, 4 int8 (per-row blocks)")
    p.add_argument("--bits", type=int, default=8, choices=[4, 8], help="MatMulNBits weight bits for weight_only")
    p.add_argument("--eight-bit", metavar="REGEX",
                   help="weight_only --bits 4: MatMuls whose node name matches keep 8-bit weights")
    p.add_argument("--embeddings", choices=["row", "tensor"], default="row",
                   help="weight_only: int8 embedding tables with a scale per row, or one per table "
                        "(quantize_dynamic; the bundles shipped before per-row scales)")
    p.add_argument("--fp32-tables-under", type=int, default=0, metavar="ROWS",
                   help="per_row: embedding tables of fewer rows stay fp32 (1024: positions and segments)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dev-limit", type=int, default=0,
                   help="score only the first N pairs of each dev split (smoke test; at least 68 for the "
                        "bit-identity check)")
    p.add_argument("--out", help="output dir (default <run>/onnx; calibrate.py and write_bundle.py read that one)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    run = Path(args.run)
    out = Path(args.out) if args.out else run / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = out / "model.fp32.onnx", out / "model.int8.onnx"
    tok, encoder = make_encoder(args.tokenizer, read_json(run / "config.json").get("context_tokens", 0))
    backbone, pad_id = backbone_of(tok), encoder.pad_id
    t0 = time.time()
    model = None
    per_row = None
    if args.fp32:
        sums = sums_row_by_row(Path(args.fp32), fp32_path)
    else:
        model = load_checkpoint(run / "best", tok)
        # The checks below pad with the tokenizer's id; training padded with the backbone's.
        assert model.pad_id == pad_id, f"model pads with {model.pad_id}, tokenizer with {pad_id}"
        export_fp32(model, fp32_path, encoder)
        sums = sums_row_by_row(fp32_path, fp32_path)
    if args.quant == "static":
        calib = calibration_reader(args, fp32_path, encoder, pad_id)
        quantize_static_qdq(fp32_path, int8_path, calib, tuple(args.static_ops.split(",")), args.exclude_attention,
                            args.calib_method, args.activation_type, args.optimize, args.smooth, args.exclude)
    elif args.quant == "per_row":
        per_row = quantize_per_row(fp32_path, int8_path, args.keep_fp32, args.weight_bits,
                                   smoothing_calibration(args, fp32_path, encoder, pad_id), args.fp32_tables_under)
    else:
        quantize(fp32_path, int8_path, args.quant, args.per_channel, args.accuracy_level, args.bits,
                 args.embeddings, args.eight_bit)
    print(f"exported + quantized ({args.quant}) in {time.time() - t0:.0f} s: "
          f"fp32 {fp32_path.stat().st_size / 1e6:.1f} MB, int8 {int8_path.stat().st_size / 1e6:.1f} MB", flush=True)

    dev = load_dev(args.data_dir, encoder)
    if args.dev_limit:
        dev = {k: tuple(x[: args.dev_limit] for x in v) for k, v in dev.items()}
    sessions = {"fp32": ort_session(fp32_path, args.threads), "int8": ort_session(int8_path, args.threads)}
    result = {
        "quant": args.quant, "per_channel": args.per_channel, "opset": OPSET,
        "accuracy_level": args.accuracy_level if args.quant == "weight_only" else None,
        "bits": args.bits if args.quant == "weight_only" else None,
        "eight_bit": args.eight_bit if args.quant == "weight_only" else None,
        "embeddings": args.embeddings if args.quant == "weight_only" else "row" if args.quant == "per_row" else None,
        "static": ({"calib_n": args.calib_n, "calib_seed": args.calib_seed, "calib_method": args.calib_method,
                    "ops": args.static_ops, "exclude_attention": args.exclude_attention,
                    "activation_type": args.activation_type, "optimize": args.optimize, "smooth": args.smooth, "exclude": args.exclude}
                   if args.quant == "static" else None),
        "per_row": (per_row | optimized_fused_bias(int8_path, args.threads)) if per_row else None,
        "sequence_sums_as_cumsum": sums,
        "backbone": backbone,
        "inputs": graph_inputs(sessions["int8"]),
        "pad_id": pad_id,
        "dev_limit": args.dev_limit or None,
        "size_bytes": {"fp32": fp32_path.stat().st_size, "int8": int8_path.stat().st_size},
        "padding_max_abs_diff": {k: padding_check(s, encoder) for k, s in sessions.items()},
        "splits": {},
    }
    ids, types, _ = dev["dev_rw"]
    result["bit_identity"] = {k: bit_identity_check(s, ort_session(p, 1), ids, types, pad_id=pad_id)
                              for (k, s), p in zip(sessions.items(), (fp32_path, int8_path))}
    seconds = {k: 0.0 for k in sessions}
    logits_dir = out / "dev_logits"
    logits_dir.mkdir(exist_ok=True)
    for name in DEV_SPLITS:
        ids, types, labels = dev[name]
        lg = {}
        for k, s in sessions.items():
            t1 = time.perf_counter()
            lg[k] = ort_logits(s, ids, types, pad_id=pad_id)
            seconds[k] += time.perf_counter() - t1
        if name == "dev_rw" and model is not None:
            ref = torch_logits(model, ids, types)
            result["torch_vs_onnx_fp32_max_abs_diff"] = float(np.abs(ref - lg["fp32"]).max())
        for k, v in lg.items():
            np.save(logits_dir / f"{name}.{k}.npy", v)
        np.save(logits_dir / f"{name}.labels.npy", labels)
        result["splits"][name] = {
            "fp32": classification_report(labels, lg["fp32"].argmax(1)),
            "int8": classification_report(labels, lg["int8"].argmax(1)),
            "int8_fp32_agreement": float((lg["fp32"].argmax(1) == lg["int8"].argmax(1)).mean()),
        }
    n_dev = sum(result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS)
    result["dev_pairs_per_second"] = {k: n_dev / v for k, v in seconds.items()}
    all_agree = [result["splits"][n]["int8_fp32_agreement"] * result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS]
    result["int8_fp32_agreement"] = float(sum(all_agree) / sum(result["splits"][n]["fp32"]["n"] for n in DEV_SPLITS))
    result["macro_f1_drop"] = {n: result["splits"][n]["fp32"]["macro_f1"] - result["splits"][n]["int8"]["macro_f1"]
                               for n in DEV_SPLITS}
    limit_mb = SIZE_LIMIT_MB[backbone]
    result["checks"] = {
        f"int8_size_le_{limit_mb}MB": result["size_bytes"]["int8"] <= limit_mb * 1024 * 1024,
        "agreement_ge_98pct": result["int8_fp32_agreement"] >= 0.98,
        "f1_drop_le_1pt": max(result["macro_f1_drop"].values()) <= 0.01,
        "padding_invariant_1e-4": max(result["padding_max_abs_diff"].values()) <= 1e-4,
    }
    if args.quant != "dynamic":  # one activation scale per batch: batch-dependent by design
        result["checks"]["int8_bit_identical_across_batches"] = result["bit_identity"]["int8"]["bit_identical"]
    if per_row:
        result["checks"]["no_bias_fused_into_per_row_matmul"] = not result["per_row"]["fused_bias_nodes"]
    write_json(out / "export.json", result)
    for n in DEV_SPLITS:
        s = result["splits"][n]
        print(f"{n:<10} macro-F1 fp32 {s['fp32']['macro_f1']:.4f} int8 {s['int8']['macro_f1']:.4f} "
              f"agreement {s['int8_fp32_agreement']:.4f}")
    print(f"dev pairs/s {result['dev_pairs_per_second']}")
    print(f"bit identity {result['bit_identity']}")
    print(f"padding max |diff| {result['padding_max_abs_diff']}; torch vs onnx fp32 "
          f"{result.get('torch_vs_onnx_fp32_max_abs_diff', float('nan')):.2e}; checks {result['checks']}", flush=True)
    return result


if __name__ == "__main__":
    main()
