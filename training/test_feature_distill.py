"""Feature distillation (teacher_features.py, train.py --feature-distill).

    cd training && python -m pytest test_feature_distill.py      # needs requirements.txt + pytest

The saved features must come back under the student's ids of each pair, and the loss must
reach only the pairs that have teacher features, at zero where the student matches them.
"""
import json

import numpy as np
import pytest
import torch

from teacher_features import (
    check_bundle_holdout,
    check_teacher_holdout,
    head_input,
    load_features,
    save_features,
    train_options,
)
from train import make_feature_loss

PROVENANCE = {"teacher": "runs/t", "holdout_fold": 2, "folds": 5, "student_tokenizer_sha256": "ab"}


def test_features_come_back_under_their_keys(tmp_path):
    keys = [[101, 7, 8, 102], [101, 9, 102], [101, 7, 8, 102, 5]]
    features = np.arange(12, dtype=np.float32).reshape(3, 4)
    save_features(tmp_path / "f.npz", keys, features, PROVENANCE)
    rows, loaded, provenance = load_features(tmp_path / "f.npz")
    assert rows == {(101, 7, 8, 102): 0, (101, 9, 102): 1, (101, 7, 8, 102, 5): 2}
    np.testing.assert_array_equal(loaded, features)
    assert provenance == PROVENANCE
    assert not list(tmp_path.glob("*.tmp*"))


def test_two_pairs_with_one_key_are_refused(tmp_path):
    save_features(tmp_path / "f.npz", [[1, 2], [1, 2]], np.zeros((2, 3), dtype=np.float32), PROVENANCE)
    with pytest.raises(SystemExit, match="share one student encoding"):
        load_features(tmp_path / "f.npz")


def write_config(run, **config):
    run.mkdir()
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")


def test_a_teacher_that_saw_the_held_out_fold_is_refused(tmp_path):
    write_config(tmp_path / "first", natural_copies=1, holdout_fold=-1, folds=5)
    write_config(tmp_path / "second", natural_copies=1, holdout_fold=2, folds=5,
                 init_from=str(tmp_path / "first" / "best"))
    check_teacher_holdout(tmp_path / "first", -1, 5)  # no fold held out: any teacher
    with pytest.raises(SystemExit, match="first: trained on natural.jsonl with fold -1"):
        check_teacher_holdout(tmp_path / "second", 2, 5)  # through the run it started from
    write_config(tmp_path / "gold", natural_copies=0, holdout_fold=-1, folds=5)  # never saw natural.jsonl
    check_teacher_holdout(tmp_path / "gold", 2, 5)
    write_config(tmp_path / "other", natural_copies=1, holdout_fold=2, folds=10)
    with pytest.raises(SystemExit):
        check_teacher_holdout(tmp_path / "other", 2, 5)


def test_the_loss_is_the_cosine_distance_over_pairs_with_features():
    features = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float16)
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


def test_a_bundle_teacher_is_checked_by_its_training_commands(tmp_path):
    def bundle(name, command, continued=None):
        training = {"train_command": command}
        if continued:
            training["continued_from"] = {"train_command": continued}
        write_config(tmp_path / name, training=training)
        return tmp_path / name

    held = "python train.py --natural-copies 1 --holdout-fold 0"
    check_bundle_holdout(bundle("held", held, continued=held), 0, 5)
    with pytest.raises(SystemExit, match="fold -1 of 5 held out, not fold 0"):
        check_bundle_holdout(bundle("all", held, continued="python train.py --natural-copies 1"), 0, 5)
    check_bundle_holdout(bundle("gold", "python train.py --holdout-fold 3"), 0, 5)  # read no natural pairs
    write_config(tmp_path / "unknown", training={})
    with pytest.raises(SystemExit, match="no training command"):
        check_bundle_holdout(tmp_path / "unknown", 0, 5)
    assert train_options("train.py --folds 10 --holdout-fold=-1") == {"natural_copies": 0, "holdout_fold": -1, "folds": 10}


def test_the_pooled_vector_is_what_the_head_reads():
    from onnx import helper

    graph = helper.make_graph(
        [helper.make_node("Concat", ["mean", "marker"], ["pooled"], axis=-1),
         helper.make_node("Gemm", ["pooled", "w", "b"], ["logits"], transB=1)],
        "g", [], [])
    assert head_input(graph, "logits") == "pooled"
    with pytest.raises(SystemExit, match="not a linear layer"):
        head_input(graph, "pooled")
