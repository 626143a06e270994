"""The epoch choice of cv_gpu.py and the slim checkpoints of slim_checkpoint.py."""
import pytest
import torch
from safetensors.torch import load_file, save_file

import slim_checkpoint
import stance_model
from cv_gpu import choose_epoch


def fold(*held_out):
    """{epoch: {split: F1}} of a fold run whose held-out fold scored `held_out` at epochs 1, 2, ..."""
    return {e: {"dev_rw": 0.8, "natural_f0": f} for e, f in enumerate(held_out, 1)}


def test_the_epoch_with_the_best_mean_held_out_score_is_chosen():
    folds = [fold(0.60, 0.66, 0.64), fold(0.62, 0.64, 0.66)]
    final = {1: {"dev_rw": 0.9}, 2: {"dev_rw": 0.7}, 3: {"dev_rw": 0.8}}
    chosen, table = choose_epoch(folds, final)
    assert chosen == 2  # 0.65 against 0.61 and 0.65 for epoch 3: a tie goes to the earlier epoch
    assert table[2]["held_out"] == [0.66, 0.64]
    assert table[1]["held_out_mean"] == pytest.approx(0.61)


def test_only_epochs_that_every_run_finished_count():
    folds = [fold(0.60, 0.70), fold(0.60)]  # the second fold run was stopped during epoch 2
    chosen, table = choose_epoch(folds, {1: {}, 2: {}})
    assert chosen == 1 and list(table) == [1]
    with pytest.raises(SystemExit):
        choose_epoch([fold(0.6)], {})  # the run on all folds finished no epoch


def test_a_slim_checkpoint_unpacks_to_the_weights_it_was_trained_with(tmp_path, monkeypatch):
    from transformers import MPNetConfig, MPNetModel

    n_base, width = stance_model.MPNET_BASE_VOCAB, 8
    config = MPNetConfig(vocab_size=n_base, hidden_size=width, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=16)
    MPNetModel(config, add_pooling_layer=False).save_pretrained(tmp_path / "backbone")
    monkeypatch.setattr(stance_model, "MPNET_DIR", tmp_path / "backbone")
    backbone = load_file(str(tmp_path / "backbone" / "model.safetensors"))["embeddings.word_embeddings.weight"]
    # What a run that started from a half-precision copy of the backbone holds: those rows, rounded,
    # then two trained marker rows, and the rest of the model.
    markers = torch.randn(2, width)
    state = {"bert.embeddings.word_embeddings.weight": torch.cat([backbone.half().float(), markers]),
             "classifier.weight": torch.randn(3, 2 * width), "span_close_id": torch.tensor(7)}
    save_file(state, str(tmp_path / "full.safetensors"))

    slim_checkpoint.pack(str(tmp_path / "full.safetensors"), str(tmp_path / "slim.safetensors"), "mpnet", "float16")
    slim = load_file(str(tmp_path / "slim.safetensors"))
    assert slim["bert.embeddings.word_embeddings.weight"].shape == (2, width)
    meta = slim_checkpoint.unpack(str(tmp_path / "slim.safetensors"), str(tmp_path / "back.safetensors"), "mpnet")
    back = load_file(str(tmp_path / "back.safetensors"))

    assert meta["base_rows_dtype"] == "float16"
    rows = back["bert.embeddings.word_embeddings.weight"]
    assert torch.equal(rows[:n_base], state["bert.embeddings.word_embeddings.weight"][:n_base])
    assert torch.allclose(rows[n_base:], markers, atol=1e-3)
    assert torch.allclose(back["classifier.weight"], state["classifier.weight"], atol=1e-3)
    assert back["classifier.weight"].dtype == torch.float32 and back["span_close_id"].item() == 7
    with pytest.raises(SystemExit):
        slim_checkpoint.unpack(str(tmp_path / "slim.safetensors"), str(tmp_path / "x.safetensors"), "minilm")
