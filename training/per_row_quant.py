"""Batch-invariant int8 MatMuls: per-row activation scales, per-column int8 weights (numpy + onnx only).

Every MatMul whose second input is a constant 2-D float weight W [K, N] becomes

    x2d = Reshape(x, [-1, K])                                   one row per token
    s   = Max(ReduceMax(Abs(x2d), axis=-1), eps) / 127          [rows]: each row's own scale
    xq  = QuantizeLinear(x2d, s, zero_point=128 uint8, axis=0)  uint8, per-row (1-D per-axis scale)
    y2d = com.microsoft.MatMulIntegerToFloat(xq, Wq, s[rows, 1], w_scale[N], 128)
    y   = Reshape(y2d, shape(x)[:-1] + [N])

and the MatMul's following bias Add stays a separate node. The quantized input of a row depends
on that row alone, and the integer products are summed exactly in int32, so a row's output does
not depend on how many rows the batch has, what they hold or where the row sits in it: a pair's
logits are bit-identical alone or in any batch, padded to any length (tests/pipeline.rs).

Choices (each found the hard way, see training/README.md):
- uint8 activations with zero point 128 (symmetric values 1..255): int8 activations (S8S8) fall
  back to a slow kernel on x86.
- Weights in 7 bits ([-63, 63]) by default: without VNNI, x86 multiplies u8 x s8 pairs with
  VPMADDUBSW, which saturates the int16 sum of two products; 255 * 63 * 2 < 32767 cannot, so
  the result is the exact integer product on every x86 CPU. `weight_bits=8` is more precise but
  can saturate on CPUs without VNNI.
- The bias is never passed into MatMulIntegerToFloat (it would be multiplied by the per-row
  scale) and the Reshape back keeps onnxruntime's MatMulIntegerToFloatFusion from folding the
  following Add into it; `fused_bias_nodes` checks an optimized graph for exactly that.
- A tensor read by several MatMuls (the Q/K/V input) is quantized once.

`sequence_sums_as_cumsum` makes the one fp32 op that was not row-wise (the masked mean pooling's
ReduceSum over the sequence) sum each row on its own, so the whole graph is bit-exact per row.

Used by training/export.py (`--quant per_row`) and tests/data/make_tiny_model.py.
"""
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS_DOMAIN = "com.microsoft"
ZERO_POINT = 128
EPS = 1e-8


def quantize_weight(w, bits=7):
    """Symmetric int8 weight with one scale per output column: (q int8 [K, N], scale float32 [N])."""
    qmax = (1 << (bits - 1)) - 1
    scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / qmax).astype(np.float32)
    q = np.clip(np.round(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def weight_matmuls(model, keep_fp32=None):
    """MatMul nodes with a constant 2-D float weight as second input (and a computed first input),
    except those whose name matches the regex `keep_fp32`."""
    inits = {i.name: i for i in model.graph.initializer}
    found = []
    for node in model.graph.node:
        if node.op_type != "MatMul" or node.domain not in ("", "ai.onnx"):
            continue
        w = inits.get(node.input[1])
        if w is None or node.input[0] in inits or len(w.dims) != 2 or w.data_type != TensorProto.FLOAT:
            continue
        if keep_fp32 and re.search(keep_fp32, node.name):
            continue
        found.append(node)
    return found


def quantize_matmuls(model, keep_fp32=None, weight_bits=7, eps=EPS):
    """Rewrite every weight MatMul of `model` (in place) into the per-row graph above.

    Returns the names of the MatMuls rewritten. Weights used by no other node are replaced
    by their int8 version and scales."""
    graph = model.graph
    targets = weight_matmuls(model, keep_fp32)
    if not targets:
        return []
    inits = {i.name: i for i in graph.initializer}
    by_input = {}
    for node in targets:
        by_input.setdefault(node.input[0], []).append(node)
    target_ids = {id(n) for n in targets}
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1

    def const(name, array):
        graph.initializer.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    const("per_row_zero_point", np.array(ZERO_POINT, dtype=np.uint8))
    const("per_row_eps", np.array(eps, dtype=np.float32))
    const("per_row_127", np.array(127.0, dtype=np.float32))
    const("per_row_axis1", np.array([1], dtype=np.int64))
    const("per_row_slice_start", np.array([0], dtype=np.int64))
    const("per_row_slice_end", np.array([-1], dtype=np.int64))

    quantized_inputs = {}  # activation name -> (uint8 rows, scale [rows, 1], leading shape)
    weights = {}  # weight name -> (int8 name, scale name, N)
    nodes = []
    for node in graph.node:
        if id(node) not in target_ids:
            nodes.append(node)
            continue
        x, w_name = node.input[0], node.input[1]
        k = len(quantized_inputs)
        if x not in quantized_inputs:
            p = f"/per_row/in{k}"
            w0 = numpy_helper.to_array(inits[w_name])
            const(f"{p}/rows_shape", np.array([-1, w0.shape[0]], dtype=np.int64))
            nodes += [
                helper.make_node("Shape", [x], [f"{p}/shape"], name=f"{p}/Shape"),
                helper.make_node("Slice", [f"{p}/shape", "per_row_slice_start", "per_row_slice_end"],
                                 [f"{p}/lead"], name=f"{p}/Slice"),
                helper.make_node("Reshape", [x, f"{p}/rows_shape"], [f"{p}/rows"], name=f"{p}/Reshape"),
                helper.make_node("Abs", [f"{p}/rows"], [f"{p}/abs"], name=f"{p}/Abs"),
                helper.make_node("ReduceMax", [f"{p}/abs"], [f"{p}/amax"], axes=[1], keepdims=0,
                                 name=f"{p}/ReduceMax"),
                helper.make_node("Max", [f"{p}/amax", "per_row_eps"], [f"{p}/amax_eps"], name=f"{p}/Max"),
                helper.make_node("Div", [f"{p}/amax_eps", "per_row_127"], [f"{p}/scale"], name=f"{p}/Div"),
                helper.make_node("Shape", [f"{p}/scale"], [f"{p}/scale_shape"], name=f"{p}/ScaleShape"),
                helper.make_node("Expand", ["per_row_zero_point", f"{p}/scale_shape"], [f"{p}/zero_point"],
                                 name=f"{p}/ExpandZeroPoint"),
                helper.make_node("QuantizeLinear", [f"{p}/rows", f"{p}/scale", f"{p}/zero_point"],
                                 [f"{p}/rows_u8"], axis=0, name=f"{p}/QuantizeLinear"),
                helper.make_node("Unsqueeze", [f"{p}/scale", "per_row_axis1"], [f"{p}/scale_col"],
                                 name=f"{p}/Unsqueeze"),
            ]
            quantized_inputs[x] = (f"{p}/rows_u8", f"{p}/scale_col", f"{p}/lead")
        xq, s_col, lead = quantized_inputs[x]
        if w_name not in weights:
            q, scale = quantize_weight(numpy_helper.to_array(inits[w_name]), weight_bits)
            weights[w_name] = (const(f"{w_name}_int8", q), const(f"{w_name}_col_scale", scale), q.shape[1])
            if uses[w_name] == sum(1 for n in targets if n.input[1] == w_name):
                graph.initializer.remove(inits[w_name])
        wq, w_scale, n_out = weights[w_name]
        p = f"{node.name or node.output[0]}/per_row"
        n_name = const(f"{p}/n", np.array([n_out], dtype=np.int64))
        nodes += [
            helper.make_node("MatMulIntegerToFloat", [xq, wq, s_col, w_scale, "per_row_zero_point"],
                             [f"{p}/out_rows"], domain=MS_DOMAIN, name=f"{p}/MatMulIntegerToFloat"),
            helper.make_node("Concat", [lead, n_name], [f"{p}/out_shape"], axis=0, name=f"{p}/Concat"),
            helper.make_node("Reshape", [f"{p}/out_rows", f"{p}/out_shape"], [node.output[0]], name=f"{p}/Reshape"),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return [n.name for n in targets]


def fused_bias_nodes(optimized_model):
    """Names of MatMulIntegerToFloat nodes of an onnxruntime-optimized graph that carry a bias
    input (input 6): with a per-row activation scale that bias would be scaled per row, a wrong
    result. `quantize_matmuls` graphs should have none."""
    return [n.name for n in optimized_model.graph.node
            if n.op_type == "MatMulIntegerToFloat" and len(n.input) > 6 and n.input[6]]


def sequence_sums_as_cumsum(model):
    """Rewrite (in place) every ReduceSum over axis 1 of a 3-D tensor [batch, seq, d] (the masked
    mean pooling) as the last position of CumSum(x, axis=1): returns the names of the nodes rewritten.

    onnxruntime's ReduceSum picks its summation order from the whole tensor's shape, so a row's
    pooled sum changes in the last bits with the number of rows in the batch (measured: up to
    3e-6 on the sum, 3e-8 on the logits); a MatMul with a row of ones does too (its kernel depends
    on the batch and sequence sizes). CumSum adds the positions one after the other, each row on
    its own, and the padded positions (zeros after the mask) come last and add exactly nothing, so
    the sum depends on the row alone. Same value up to fp32 rounding order.

    Call it before `quantize_matmuls`: it needs onnx shape inference to see the rank, and the
    per-row Reshapes hide the ranks downstream of them."""
    from onnx import shape_inference

    graph = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    inferred = shape_inference.infer_shapes(model)
    ranks = {v.name: len(v.type.tensor_type.shape.dim) for v in
             list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
             if v.type.tensor_type.HasField("shape")}
    have = {i.name for i in graph.initializer}

    def const(name, array):
        if name not in have:
            graph.initializer.append(numpy_helper.from_array(np.asarray(array), name))
            have.add(name)
        return name

    nodes, done = [], []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        axes = attrs.get("axes")
        if axes is None and len(node.input) > 1 and node.input[1] in consts:
            axes = consts[node.input[1]].tolist()
        x = node.input[0] if node.input else None
        if (node.op_type != "ReduceSum" or list(np.atleast_1d(axes if axes is not None else [])) != [1]
                or ranks.get(x) != 3 or attrs.get("noop_with_empty_axes")):
            nodes.append(node)
            continue
        p = f"{node.name or node.output[0]}/as_cumsum"
        axis = const("seq_sum_axis", np.array(1, dtype=np.int64))
        one = const("seq_sum_one", np.array([1], dtype=np.int64))
        last = const("seq_sum_last", np.array([-1], dtype=np.int64))
        end = const("seq_sum_end", np.array([np.iinfo(np.int64).max], dtype=np.int64))
        keep = attrs.get("keepdims", 1)
        nodes += [
            helper.make_node("CumSum", [x, axis], [f"{p}/cumsum"], name=f"{p}/CumSum"),
            helper.make_node("Slice", [f"{p}/cumsum", last, end, one], [node.output[0] if keep else f"{p}/sum"],
                             name=f"{p}/Slice"),
        ]
        if not keep:
            nodes.append(helper.make_node("Squeeze", [f"{p}/sum", one], [node.output[0]], name=f"{p}/Squeeze"))
        done.append(node.name)
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)
    return done
