"""Make tests/data/tiny-model: a random-weight stand-in with the real model's interface.

Same inputs (input_ids, attention_mask, token_type_ids: int64 [batch, seq]) and
output (logits: float32 [batch, 3]) as models/stance-mini, and the same
tokenizer, so the whole pipeline runs in tests in milliseconds. The graph is
embedding -> per-token linear -> tanh -> attention-masked mean -> tanh -> linear,
and both linear layers are int8 MatMuls with per-row activation scales, built by
training/per_row_quant.py exactly as `export.py --quant per_row` builds the
encoder's (with the masked sums over the sequence as CumSums, as there): padding
or batch-mates never change a row's logits, not even in the last bit, which the
batch-invariance tests in tests/pipeline.rs check.

tiny-model-two-inputs is the same graph without token_type_ids (no type
embedding) over MPNet's vocabulary: the interface of models/stance-base
(all-mpnet-base-v2), whose config.json names two inputs and whose special
tokens are <s> = 0, </s> = 2 and <pad> = 1. Its tokenizer.json is the output of
`python training/make_tokenizer.py OUT --backbone mpnet`, kept in place.

    python tests/data/make_tiny_model.py   # needs numpy and onnx only
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).parent
OUT = HERE / "tiny-model"
OUT_TWO_INPUTS = HERE / "tiny-model-two-inputs"
VOCAB = 30524  # MiniLM's 30522 and the two markers
MPNET_VOCAB = 30529  # all-mpnet-base-v2's 30527 and the two markers
HIDDEN = 8

sys.path.insert(0, str(HERE.parent.parent / "training"))
import per_row_quant  # noqa: E402  (numpy + onnx only)


def build_graph(rng, token_types=True):
    emb = rng.normal(0, 1.0, (VOCAB if token_types else MPNET_VOCAB, HIDDEN)).astype(np.float32)
    type_emb = rng.normal(0, 0.5, (2, HIDDEN)).astype(np.float32)  # drawn either way: same weights otherwise
    w = rng.normal(0, 1.0, (HIDDEN, 3)).astype(np.float32)
    b = rng.normal(0, 0.1, (3,)).astype(np.float32)
    w_tok = rng.normal(0, 0.5, (HIDDEN, HIDDEN)).astype(np.float32)
    b_tok = rng.normal(0, 0.1, (HIDDEN,)).astype(np.float32)
    inits = [
        numpy_helper.from_array(emb, "emb"),
        numpy_helper.from_array(type_emb, "type_emb"),
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(w_tok, "w_tok"),
        numpy_helper.from_array(b_tok, "b_tok"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last"),
        numpy_helper.from_array(np.array(1e-6, dtype=np.float32), "eps"),
    ]
    if token_types:
        embed = [
            helper.make_node("Gather", ["emb", "input_ids"], ["tok"]),
            helper.make_node("Gather", ["type_emb", "token_type_ids"], ["typ"]),
            helper.make_node("Add", ["tok", "typ"], ["h0"]),
        ]
    else:
        inits = [i for i in inits if i.name != "type_emb"]
        embed = [helper.make_node("Gather", ["emb", "input_ids"], ["h0"])]
    nodes = embed + [
        # per token (rows = batch x sequence, padding included): the encoder's MatMul shape
        helper.make_node("MatMul", ["h0", "w_tok"], ["h0w"], name="token_dense"),
        helper.make_node("Add", ["h0w", "b_tok"], ["h0wb"]),
        helper.make_node("Tanh", ["h0wb"], ["h"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis_last"], ["mask3"]),
        helper.make_node("Mul", ["h", "mask3"], ["hm"]),
        helper.make_node("ReduceSum", ["hm", "axis1"], ["sum"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Add", ["count", "eps"], ["count_eps"]),
        helper.make_node("Div", ["sum", "count_eps"], ["mean"]),
        helper.make_node("Tanh", ["mean"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "w"], ["xw"], name="head"),
        helper.make_node("Add", ["xw", "b"], ["logits"]),
    ]
    io = lambda name: helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph(
        nodes,
        "stance-tiny",
        [io(name) for name in input_names(token_types)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="stance-tests")
    model.ir_version = 8
    # the same two rewrites, in the same order, as `export.py --quant per_row`
    assert len(per_row_quant.sequence_sums_as_cumsum(model)) == 2
    quantized = per_row_quant.quantize_matmuls(model)
    assert quantized == ["token_dense", "head"], quantized
    onnx.checker.check_model(model)
    return model


def input_names(token_types):
    return ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])


def main():
    shutil.copy(HERE.parent.parent / "models" / "stance-mini" / "tokenizer.json", OUT / "tokenizer.json")
    write_bundle(OUT, "tiny-random-test-model", token_types=True, tokens={"cls": 101, "sep": 102, "pad": 0})
    assert (OUT_TWO_INPUTS / "tokenizer.json").is_file(), "make_tokenizer.py --backbone mpnet writes it"
    write_bundle(OUT_TWO_INPUTS, "tiny-random-test-model-two-inputs", token_types=False,
                 tokens={"cls": 0, "sep": 2, "pad": 1})


def write_bundle(out, name, token_types, tokens):
    out.mkdir(exist_ok=True)
    onnx.save(build_graph(np.random.default_rng(20261128), token_types), str(out / "model.onnx"))
    config = {
        "name": name,
        "labels": ["unfavorable", "neutral", "favorable"],
        "input_format": {"kind": "marked_pair", "marker_open": "[TGT]", "marker_close": "[/TGT]",
                         "max_length": 128, "max_target_tokens": 16},
        "tokens": tokens,
        "onnx": {"inputs": input_names(token_types), "output": "logits"},
        "temperature": 1.0,
        "precision": "int8",
        "batch_invariant": True,  # tests/pipeline.rs checks it bit for bit
        "quantization": "per_row",
        "note": "random weights for tests; its stances mean nothing",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
