"""The weight choice of choose_context.py (no model needed)."""
import json

from choose_context import choose, split_halves, write_config


def test_the_best_mean_weight_is_chosen_and_each_part_is_judged_by_the_others_choice():
    scores = {
        "f0": {0.0: 0.60, 0.5: 0.64, 1.0: 0.65},
        "f1": {0.0: 0.61, 0.5: 0.63, 1.0: 0.62},
        "f2": {0.0: 0.58, 0.5: 0.61, 1.0: 0.60},
    }
    report = choose(scores, [0.0, 0.5, 1.0])
    assert report["weight"] == 0.5  # mean 0.6267 against 0.6233 for 1.0
    # f0 held out: f1 and f2 choose 0.5; f1 held out: f0 and f2 tie (1.25), the smaller wins.
    assert report["held_out"]["f0"] == {"weight_chosen_on_the_others": 0.5, "macro_f1": 0.64, "macro_f1_alone": 0.6}
    assert report["held_out"]["f1"]["weight_chosen_on_the_others"] == 0.5
    assert report["held_out"]["f2"]["weight_chosen_on_the_others"] == 0.5
    assert report["held_out_mean"] == round((0.64 + 0.63 + 0.61) / 3, 4)
    assert report["held_out_mean_alone"] == round((0.60 + 0.61 + 0.58) / 3, 4)


def test_one_fold_is_split_by_article_into_two_halves(tmp_path):
    rows = [{"source_url": f"https://example.org/{i % 7}", "sentence_normalized": f"s{i}"} for i in range(40)]
    data = tmp_path / "fold.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    halves = [[json.loads(line) for line in p.open()] for p in split_halves(data, tmp_path)]
    assert sum(len(h) for h in halves) == len(rows)
    articles = [{r["source_url"] for r in h} for h in halves]
    assert articles[0] and articles[1] and not articles[0] & articles[1]


def test_the_choice_is_recorded_in_the_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"name": "m", "training": {"seed": 1}}))
    report = choose({"a": {0.0: 0.5, 1.0: 0.6}, "b": {0.0: 0.5, 1.0: 0.55}}, [0.0, 1.0])
    write_config(config, report, "python choose_context.py --fold x:y")
    written = json.loads(config.read_text())
    assert written["document_context"] == 1.0
    assert written["training"]["seed"] == 1
    assert written["training"]["document_context"]["held_out_mean"] == 0.575


def test_the_model_card_gets_one_section_that_a_second_choice_replaces(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"name": "m"}))
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# m\n\n## Held-out op-ed articles\n\nx\n\n## Dev metrics\n\ny\n")
    first = choose({"a": {0.0: 0.5, 1.0: 0.6}, "b": {0.0: 0.5, 1.0: 0.55}}, [0.0, 1.0])
    write_config(tmp_path / "config.json", first, "python choose_context.py --fold x:a --fold y:b")
    text = card.read_text()
    assert text.index("## Held-out") < text.index("## Document context") < text.index("## Dev metrics")
    assert "is **1**" in text and "| a | 0.500 | 0.600 | 1 |" in text and "| mean | 0.500 | 0.575 | |" in text
    second = choose({"a": {0.0: 0.5, 1.0: 0.4}, "b": {0.0: 0.5, 1.0: 0.45}}, [0.0, 1.0])
    write_config(tmp_path / "config.json", second, "python choose_context.py --fold x:a --fold y:b")
    text = card.read_text()
    assert text.count("## Document context") == 1 and "is **0**" in text and "y\n" in text
