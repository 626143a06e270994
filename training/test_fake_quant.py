"""fake_quant.py rounds as the exported per-row int8 graph does.

    cd training && python -m pytest test_fake_quant.py      # needs requirements.txt + pytest

A random Linear and a random embedding table go through fake_quant in torch and through
per_row_quant.quantize_matmuls / export.quantize_embedding_rows in onnxruntime: the outputs must
agree to fp32 rounding. A change to either side's scales, ranges or rounding breaks this.
"""
import numpy as np
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

import fake_quant
import per_row_quant
from export import quantize_embedding_rows


class _Tiny(nn.Module):
    """The attribute layout attach() reads: bert.encoder (Linears) and bert.embeddings (tables)."""

    def __init__(self, linear, table):
        super().__init__()
        self.bert = nn.Module()
        self.bert.encoder = nn.Sequential(linear)
        self.bert.embeddings = nn.Module()
        self.bert.embeddings.word_embeddings = table


def _run(model, feeds):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def _random_parts(seed=0, k=48, n=40, vocab=30):
    gen = torch.Generator().manual_seed(seed)
    linear = nn.Linear(k, n)
    table = nn.Embedding(vocab, k)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(n, k, generator=gen) * 0.2)
        linear.bias.copy_(torch.randn(n, generator=gen))
        table.weight.copy_(torch.randn(vocab, k, generator=gen))
    # Rows of very different magnitudes: a per-tensor scale would fail them, a per-row one not.
    x = torch.randn(3, 5, k, generator=gen) * torch.logspace(-2, 2, 5).view(1, 5, 1)
    return linear, table, x


def _matmul_graph(weight, bias):
    """x [b, s, k] -> MatMul(x, W) + bias, as torch exports an encoder Linear."""
    k, n = weight.shape
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["mm"], name="mm"), helper.make_node("Add", ["mm", "B"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "s", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "s", n])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "B")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_fake_quantized_linear_matches_the_per_row_int8_graph():
    linear, table, x = _random_parts()
    fake_quant.attach(_Tiny(linear, table))
    with torch.no_grad():
        ours = linear(x).numpy()
        plain = nn.functional.linear(x, linear.weight, linear.bias).numpy()
    model = _matmul_graph(linear.weight.detach().numpy().T.copy(), linear.bias.detach().numpy())
    assert per_row_quant.quantize_matmuls(model) == ["mm"]
    exported = _run(model, {"x": x.numpy()})
    np.testing.assert_allclose(ours, exported, rtol=1e-5, atol=1e-5 * np.abs(exported).max())
    # ... and the rounding is really there: fp32 differs by far more than that tolerance.
    assert np.abs(plain - exported).max() > 1e-3 * np.abs(exported).max()


def test_fake_quantized_embedding_rows_match_the_int8_tables():
    linear, table, _ = _random_parts(seed=1)
    fake_quant.attach(_Tiny(linear, table))
    ids = torch.tensor([[0, 3, 29, 3], [7, 7, 1, 0]])
    with torch.no_grad():
        ours = table(ids).numpy()
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["rows"], name="gather")], "lookup",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["b", "s", table.weight.shape[1]])],
        [numpy_helper.from_array(table.weight.detach().numpy(), "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    quantize_embedding_rows(model)
    assert not any(i.name == "table" for i in model.graph.initializer), "the table was not quantized"
    np.testing.assert_allclose(ours, _run(model, {"ids": ids.numpy()}), rtol=1e-6, atol=1e-7)


def test_gradients_pass_straight_through():
    linear, table, x = _random_parts(seed=2)
    fake_quant.attach(_Tiny(linear, table))
    x.requires_grad_(True)
    linear(x).sum().backward()
    # d(sum(q(x) q(W)^T))/dx = column sums of q(W): the rounding of x passes the gradient unchanged.
    expected = fake_quant.fake_quant_weight(linear.weight.detach(), 7).sum(0).expand_as(x)
    torch.testing.assert_close(x.grad, expected)
    assert linear.weight.grad is not None and torch.isfinite(linear.weight.grad).all()
