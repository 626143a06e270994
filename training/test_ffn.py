"""Feed-forward pruning (train.py --ffn, stance_model.keep_ffn_units), on a tiny random BERT.

    cd training && python -m pytest test_ffn.py
"""
import numpy as np
import torch
from transformers import BertConfig, BertModel

from stance_model import StanceClassifier, keep_ffn_units
from train import prune_ffn

OPEN = 7


def tiny_classifier():
    config = BertConfig(vocab_size=16, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=32)
    torch.manual_seed(0)
    return StanceClassifier(BertModel(config, add_pooling_layer=False), OPEN).eval()


IDS = torch.tensor([[1, 3, OPEN, 4, 5, 2], [1, OPEN, 6, 2, 0, 0]])
MASK = (IDS != 0).long()


def test_keeping_every_unit_in_any_order_computes_the_same():
    model = tiny_classifier()
    with torch.no_grad():
        before = model(IDS, MASK)
        keep_ffn_units(model.bert, [torch.randperm(16), torch.randperm(16)])
        assert torch.allclose(model(IDS, MASK), before, atol=1e-6)


def test_the_units_that_are_never_active_are_the_ones_dropped():
    model = tiny_classifier()
    dead = {0: 5, 1: 9}
    with torch.no_grad():
        for layer, unit in dead.items():
            up = model.bert.encoder.layer[layer].intermediate.dense
            up.weight[unit] = 0
            up.bias[unit] = -100.0  # GELU(-100) is 0: the unit adds nothing
        before = model(IDS, MASK)
    ids = [[1, 3, OPEN, 4, 5, 2], [1, OPEN, 6, 2]] * 4
    prune_ffn(model, ids, [[0] * len(i) for i in ids], 15, seed=0, log=lambda _: None)
    assert [layer.intermediate.dense.out_features for layer in model.bert.encoder.layer] == [15, 15]
    assert model.bert.config.intermediate_size == 15
    for layer in dead:
        assert not np.isclose(model.bert.encoder.layer[layer].intermediate.dense.bias.detach().numpy(), -100.0).any()
    with torch.no_grad():
        assert torch.allclose(model.eval()(IDS, MASK), before, atol=1e-5)
