"""The head's pooling variants (stance_model.StanceClassifier), on a tiny random BERT.

    cd training && python -m pytest test_pooling.py
"""
import torch
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertModel

from stance_model import StanceClassifier

OPEN, CLOSE = 7, 8


def tiny_classifier(close_id=None):
    config = BertConfig(vocab_size=16, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=32)
    torch.manual_seed(0)
    return StanceClassifier(BertModel(config, add_pooling_layer=False), OPEN, close_id=close_id).eval()


def test_the_span_mask_covers_each_mention_from_marker_to_marker():
    ids = torch.tensor([[1, 3, OPEN, 4, 5, CLOSE, 3, OPEN, 6, CLOSE, 2, 0],
                        [1, OPEN, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2]])  # a window that cut the [/TGT]
    mask = tiny_classifier(CLOSE).target_span_mask(ids)
    assert mask[0].tolist() == [0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0]
    assert mask[1].tolist() == [0] + [1] * 11


def test_span_pooling_changes_only_the_pooled_mean_and_the_checkpoint_says_so(tmp_path):
    span, mean = tiny_classifier(CLOSE), tiny_classifier()  # the same weights (seeded alike)
    assert "span_close_id" in span.state_dict() and "span_close_id" not in mean.state_dict()
    save_file(span.state_dict(), str(tmp_path / "model.safetensors"))
    assert int(load_file(str(tmp_path / "model.safetensors"))["span_close_id"]) == CLOSE
    ids = torch.tensor([[1, 3, OPEN, 4, CLOSE, 5, 2]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        assert not torch.equal(span(ids, mask), mean(ids, mask))
        # A sentence that is all target: both means cover the same tokens.
        whole = torch.tensor([[OPEN, 4, 5, CLOSE]])
        assert torch.allclose(span(whole, torch.ones_like(whole)), mean(whole, torch.ones_like(whole)))
