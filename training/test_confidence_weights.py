"""Loss weights of natural.jsonl pairs by the annotator's confidence (train.py
--natural-confidence-weights).

    cd training && python -m pytest test_confidence_weights.py      # needs requirements.txt + pytest

The weights must favour clean pairs within a label without moving the label prior, reach the
natural pairs only, and the loss must apply them row by row.
"""
import argparse

import numpy as np
import pytest
import torch
from train import add_natural, confidence_weights, label_balanced_weights, make_loss

WEIGHT_OF = {1: 0.25, 2: 0.5, 3: 1.0}


def test_each_label_keeps_its_total_weight():
    labels = np.array([0, 0, 0, 1, 1, 2])
    weights = label_balanced_weights(labels, [3, 2, 1, 3, 3, 2], WEIGHT_OF)
    for label in (0, 1, 2):
        assert weights[labels == label].sum() == pytest.approx((labels == label).sum())
    # Within a label the ratios are the given ones.
    assert weights[0] / weights[1] == pytest.approx(2.0)
    assert weights[1] / weights[2] == pytest.approx(2.0)
    # A label whose pairs share one confidence is not reweighted.
    assert weights[3:].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_a_pair_without_confidence_weighs_one():
    weights = label_balanced_weights(np.array([1, 1, 1]), [3, None, 2], WEIGHT_OF)
    assert weights[1] == 1.0
    assert weights[0] / weights[2] == pytest.approx(2.0)


def test_the_option_reads_three_positive_weights():
    assert confidence_weights("0.5,0.75,1") == {1: 0.5, 2: 0.75, 3: 1.0}
    for bad in ("1,2", "a,b,c", "0,1,1", "1,1,1,1"):
        with pytest.raises(argparse.ArgumentTypeError):
            confidence_weights(bad)


def test_only_the_natural_pairs_are_reweighted():
    data = ([[1]] * 2, [[0]] * 2, np.array([0, 1]), None, np.ones(2, dtype=np.float32))
    natural = ([[2]] * 3, [[0]] * 3, np.array([2, 2, 1]), np.array([False, False, False]), [3, 1, 2])
    _ids, _types, labels, _soft, weights = add_natural(data, natural, 2, False, confidence_weights=WEIGHT_OF)
    assert labels.tolist() == [0, 1, 2, 2, 1, 2, 2, 1]
    assert weights[:2].tolist() == [1.0, 1.0]
    assert weights[2] / weights[3] == pytest.approx(4.0)
    assert weights[2:5].tolist() == pytest.approx(weights[5:].tolist())
    # Without weights the natural pairs weigh one.
    *_, plain = add_natural(data, natural, 1, False)
    assert plain.tolist() == [1.0] * 5


@pytest.mark.parametrize("with_soft", [False, True])
def test_the_loss_weights_each_row(with_soft):
    labels = np.array([0, 2, 1])
    soft = np.array([[np.nan] * 3, [1.0, 0.0, -1.0], [np.nan] * 3], dtype=np.float32) if with_soft else None
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.1, 0.3], [-1.0, 1.0, 0.0]])
    batch = np.arange(3)
    plain = make_loss(labels, soft, 0.8, 2.0)
    weights = np.array([0.0, 2.0, 1.0], dtype=np.float32)
    weighted = make_loss(labels, soft, 0.8, 2.0, weights=weights)
    per_row = torch.stack([plain(logits[k:k + 1], batch[k:k + 1]) for k in range(3)])
    assert plain(logits, batch).item() == pytest.approx(per_row.mean().item(), rel=1e-5)
    assert weighted(logits, batch).item() == pytest.approx((per_row * torch.from_numpy(weights)).mean().item(),
                                                            rel=1e-5)
