"""tapt.py: which text it reads and how it masks (needs PyTorch; no model or data).

    python -m pytest training/test_tapt.py
"""
import json

import torch

from stance_format import article_fold
from tapt import mask_tokens, oped_sentences


def write_rows(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def article_in_fold(fold, folds=5, avoid=None):
    """A made-up article URL whose fold is (or, with avoid, is not) `fold`."""
    for i in range(1000):
        url = f"https://example.org/{i}"
        if (article_fold(url, folds) == fold) != bool(avoid):
            return url
    raise AssertionError("no such article")


def test_the_held_out_folds_text_is_left_out_and_sentences_before_are_read(tmp_path):
    held, kept = article_in_fold(2), article_in_fold(2, avoid=True)
    write_rows(tmp_path / "opeds" / "train.jsonl", [
        {"source_url": held, "sentence_normalized": "Balanced pick.", "targets": []},
    ])
    write_rows(tmp_path / "opeds" / "natural.jsonl", [
        {"source_url": kept, "sentence_normalized": "Kept one.", "context_before": "Before it.", "targets": []},
        {"source_url": kept, "sentence_normalized": "Kept two.", "context_before": "Kept one.", "targets": []},
        {"source_url": held, "sentence_normalized": "Held out.", "context_before": "Also held.", "targets": []},
    ])
    texts = oped_sentences(tmp_path, holdout_fold=2, folds=5)
    # train.jsonl's articles are not natural folds: all of them are read.
    assert texts == ["Balanced pick.", "Before it.", "Kept one.", "Kept two."]
    assert "Held out." in oped_sentences(tmp_path, holdout_fold=-1, folds=5)


def test_masking_predicts_only_real_tokens_at_the_rate_asked():
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (64, 50))
    ids[:, 0], ids[:, -1] = 101, 102
    special = torch.isin(ids, torch.tensor([101, 102]))
    inputs, targets = mask_tokens(ids, special, mask_id=103, n_vocab=1000, rate=0.15, gen=gen)
    chosen = targets != -100
    assert not chosen[special].any()
    assert torch.equal(targets[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    assert 0.12 < chosen.float().sum() / (~special).sum() < 0.18
    masked = (inputs == 103) & chosen
    assert 0.7 < masked.sum() / chosen.sum() < 0.9
