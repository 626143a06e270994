"""Feature distillation (teacher_features.py, train.py --feature-distill).

    cd training && python -m pytest test_feature_distill.py      # needs requirements.txt + pytest

The saved features must come back under the student's ids of each pair, and the loss must
reach only the pairs that have teacher features, at zero where the student matches them.
"""
import numpy as np
import pytest
import torch
from teacher_features import load_features, save_features
from train import make_feature_loss


def test_features_come_back_under_their_keys(tmp_path):
    keys = [[101, 7, 8, 102], [101, 9, 102], [101, 7, 8, 102, 5]]
    features = np.arange(12, dtype=np.float32).reshape(3, 4)
    save_features(tmp_path / "f.npz", keys, features)
    rows, loaded = load_features(tmp_path / "f.npz")
    assert rows == {(101, 7, 8, 102): 0, (101, 9, 102): 1, (101, 7, 8, 102, 5): 2}
    np.testing.assert_array_equal(loaded, features)
    assert not list(tmp_path.glob("*.tmp*"))


def test_the_loss_is_the_cosine_distance_over_pairs_with_features():
    features = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    rows = np.array([0, -1, 1])  # the second training pair has no teacher features
    loss = make_feature_loss(rows, features)
    same = torch.tensor([[2.0, 0.0], [5.0, 5.0], [0.0, 3.0]])
    assert loss(same, np.array([0, 1, 2])).item() == pytest.approx(0.0, abs=1e-6)
    opposite = torch.tensor([[-1.0, 0.0], [5.0, 5.0], [0.0, 1.0]])
    assert loss(opposite, np.array([0, 1, 2])).item() == pytest.approx(1.0)  # (2 + 0) / 2
    assert loss(opposite, np.array([1])).item() == 0.0


def test_the_loss_moves_the_projection_toward_the_teacher():
    features = np.array([[1.0, 0.0]], dtype=np.float32)
    loss = make_feature_loss(np.array([0]), features)
    projected = torch.tensor([[0.0, 1.0]], requires_grad=True)
    loss(projected, np.array([0])).backward()
    assert projected.grad[0, 0] < 0  # a step against the gradient raises the first coordinate
