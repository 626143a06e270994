"""Quantization-aware training for the per-row int8 graph (`export.py --quant per_row`).

`per_row_quant.py` rounds each token row of every encoder MatMul's input to 8 bits with a scale
of its own, each weight column to 7 bits, and each embedding-table row to 8 bits. A model trained
in fp32 meets that rounding for the first time at export, and its near-tie pairs then change
label (about 2% of dev pairs for stance-mini). `attach` makes training see the same rounding in
the forward pass, with straight-through gradients, so the weights can settle where it moves
fewer labels. The weights keep their names and fp32 storage: a checkpoint saved with fake
quantization attached loads and exports like any other.

The rounding mirrors per_row_quant.py and export.quantize_embedding_rows (same scales, same
round-half-to-even, same ranges); test_fake_quant.py holds the two against each other through
onnxruntime.
"""
import types

import torch
from torch import nn

from per_row_quant import EPS  # the activation scale's floor in the exported graph

ACTIVATION_QMAX = 127  # uint8 with zero point 128: values 1..255, symmetric around 128
EMBEDDING_QMAX = 127  # export.quantize_embedding_rows
EMBEDDING_EPS = 1e-12  # export.quantize_embedding_rows' floor for an all-zero row


def straight_through(x, rounded):
    """`rounded` in the forward pass, the identity's gradient in the backward pass."""
    return x + (rounded - x).detach()


def fake_quant_rows(x, qmax, eps=EPS):
    """Symmetric quantization of each last-dimension row with its own scale max|row| / qmax."""
    scale = x.detach().abs().amax(dim=-1, keepdim=True).clamp(min=eps) / qmax
    return straight_through(x, torch.clamp(torch.round(x / scale), -qmax, qmax) * scale)


def fake_quant_weight(weight, bits):
    """A torch Linear weight [out, in] quantized as per_row_quant.quantize_weight quantizes its
    transpose: one scale per output feature, `bits`-bit symmetric range."""
    qmax = (1 << (bits - 1)) - 1
    scale = weight.detach().abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / qmax
    return straight_through(weight, torch.clamp(torch.round(weight / scale), -qmax, qmax) * scale)


def _quantized_linear_forward(self, x):
    bits, fp32_channels = self._fake_quant_bits, self._fake_quant_fp32_channels
    weight = fake_quant_weight(self.weight, bits) if bits else self.weight
    if fp32_channels is None:
        rows = fake_quant_rows(x, ACTIVATION_QMAX) if self._fake_quant_activations else x
        return nn.functional.linear(rows, weight, self.bias)
    # Outlier decomposition (measured, not exported): these input channels skip the rounding and
    # multiply the fp32 weight; the rest is rounded with a row scale that no longer sees them.
    keep = torch.zeros(x.shape[-1], dtype=x.dtype, device=x.device)
    keep[fp32_channels] = 1
    rest = x * (1 - keep)
    rest = fake_quant_rows(rest, ACTIVATION_QMAX) if self._fake_quant_activations else rest
    return nn.functional.linear(rest, weight, self.bias) + nn.functional.linear(x * keep, self.weight)


def attach(model, weight_bits=7, activations=True, embeddings=True, fp32_channels=None):
    """Fake-quantize, in place, what `export.py --quant per_row` quantizes: every Linear of the
    encoder (its MatMuls) and every embedding table's rows. The classification head (a Gemm on
    the pooled vector) stays fp32, as it does in the exported graph. Returns the counts.

    The defaults are the exported graph. For measuring where its error comes from
    (quant_sensitivity.py): `weight_bits=0` or `activations=False` leaves that part fp32,
    `embeddings=False` the tables, and `fp32_channels` ({Linear's name in the encoder: input
    channel indices}) keeps those input channels out of the activation rounding."""
    linears = {n: m for n, m in model.bert.encoder.named_modules() if isinstance(m, nn.Linear)}
    for name, module in linears.items():
        module._fake_quant_bits = weight_bits
        module._fake_quant_activations = activations
        module._fake_quant_fp32_channels = (fp32_channels or {}).get(name)
        module.forward = types.MethodType(_quantized_linear_forward, module)
    tables = [m for m in model.bert.embeddings.children() if _is_table(m)] if embeddings else []
    for module in tables:
        module.register_forward_hook(lambda _m, _inputs, out: fake_quant_rows(out, EMBEDDING_QMAX, EMBEDDING_EPS))
    return {"linears": len(linears), "embedding_tables": len(tables)}


def _is_table(module):
    """An embedding lookup module: nn.Embedding or the project's SplitEmbedding (a frozen base
    table plus trainable marker rows, one table in the exported graph)."""
    return isinstance(module, nn.Embedding) or type(module).__name__ == "SplitEmbedding"
