"""The Python package gives the Rust library's results: compared with `stance score --out`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import ARTICLES, DATA, REPO, THREADS, TINY_MODEL, read_jsonl, run_cli

import stance

TOLERANCE = 1e-6
FLOAT_FIELDS = ("p_unfavorable", "p_neutral", "p_favorable", "score")
STATS_FLOATS = ("mean", "std", "ci95_low", "ci95_high", "share_unfavorable", "share_neutral", "share_favorable")
STATS_COUNTS = ("sentences", "mentions", "documents", "unfavorable", "neutral", "favorable")

CONFIGURATIONS = {
    "embedded": ([], {}),
    "actor-file": (
        ["--actors", "us,china,india,pakistan,russia", "--actor-file", str(DATA / "actors.toml")],
        {"actors": ["us", "china", "india", "pakistan", "russia"], "actor_file": DATA / "actors.toml"},
    ),
    "tiny-model": (["--model", str(TINY_MODEL)], {"model": TINY_MODEL}),
}


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def reference(request, stance_cli: Path, tmp_path_factory) -> dict[str, Any]:
    """A CLI run over the test articles and an analyzer of the same configuration."""
    cli_args, analyzer_kwargs = CONFIGURATIONS[request.param]
    out = tmp_path_factory.mktemp(request.param) / "run"
    run_cli(
        stance_cli,
        ["score", str(ARTICLES), "--out", str(out), "--threads", str(THREADS), "--quiet", *cli_args],
        out.parent,
    )
    return {
        "name": request.param,
        "out": out,
        "rows": read_jsonl(out / "sentences.jsonl"),
        "summary": json.loads((out / "summary.json").read_text(encoding="utf-8")),
        "analyzer": stance.Analyzer(threads=THREADS, **analyzer_kwargs),
    }


def assert_rows_equal(python_rows: list[dict[str, Any]], cli_rows: list[dict[str, Any]]) -> None:
    assert len(python_rows) == len(cli_rows)
    for mine, theirs in zip(python_rows, cli_rows):
        assert set(mine) == set(theirs) == set(stance.SENTENCE_COLUMNS)
        for field in stance.SENTENCE_COLUMNS:
            if field in FLOAT_FIELDS:
                assert mine[field] == pytest.approx(theirs[field], abs=TOLERANCE), (field, theirs)
            else:
                assert mine[field] == theirs[field], (field, theirs)


def assert_stats_equal(python_stats: dict[str, stance.ActorStats], summary_actors: dict[str, Any]) -> None:
    scored = {actor: entry for actor, entry in summary_actors.items() if entry["sentences"] > 0}
    assert set(python_stats) == set(scored)
    for actor, entry in scored.items():
        mine = python_stats[actor].to_dict()
        for key in STATS_COUNTS:
            assert mine[key] == entry[key], (actor, key)
        for key in STATS_FLOATS:
            assert mine[key] == pytest.approx(entry[key], abs=TOLERANCE), (actor, key)
        # The exact sums (score x 2^32) agree to the same tolerance.
        assert abs(int(mine["sum_q32"]) - int(entry["sum_q32"])) <= TOLERANCE * 2**32 * entry["sentences"]


def test_the_cli_run_covers_what_the_tests_need(reference):
    rows = reference["rows"]
    assert {row["document_id"] for row in rows} >= {"sample-oped", "partner", "unicode", "long"}
    assert any(row["truncated"] for row in rows), "the long article should be cut around the mention"
    if reference["name"] == "actor-file":
        assert {"eu", "india", "pakistan", "russia"} <= {row["actor"] for row in rows}


def test_score_frame_equals_the_cli_sentences(reference, articles):
    frame = reference["analyzer"].score_frame(pd.DataFrame(articles))
    assert list(frame.columns) == list(stance.SENTENCE_COLUMNS)
    assert_rows_equal(frame.to_dict("records"), reference["rows"])


def test_score_many_equals_the_cli_sentences_and_summary(reference, articles):
    docs = reference["analyzer"].score_many([a["text"] for a in articles], ids=[a["id"] for a in articles])
    assert [d.id for d in docs] == [a["id"] for a in articles]
    rows = [dict(s.to_dict(), document_id=d.id) for d in docs for s in d.stances]
    assert_rows_equal(rows, reference["rows"])
    assert_stats_equal(stance.aggregate(docs), reference["summary"]["actors"])
    assert sum(d.sentences for d in docs) == reference["summary"]["sentences"]


def test_score_of_each_text_equals_the_cli(reference, articles):
    by_document: dict[str, list[dict[str, Any]]] = {}
    for row in reference["rows"]:
        by_document.setdefault(row["document_id"], []).append(row)
    for article in articles:
        doc = reference["analyzer"].score(article["text"], id=article["id"])
        rows = [dict(s.to_dict(), document_id=doc.id) for s in doc.stances]
        assert_rows_equal(rows, by_document.get(article["id"], []))


def test_aggregate_frame_of_the_cli_rows_equals_the_cli_summary(reference):
    """`aggregate_frame` reads `sentences.jsonl` as pandas loads it and recomputes `summary.json`."""
    rows = pd.read_json(reference["out"] / "sentences.jsonl", lines=True, dtype=False)
    assert_stats_equal(stance.aggregate_frame(rows), reference["summary"]["actors"])


def test_offsets_index_the_python_string(analyzer, articles):
    for article in articles:
        doc = analyzer.score(article["text"])
        for s in doc.stances:
            assert article["text"][s.start : s.end] == s.text
            for m in s.mentions:
                assert article["text"][m.start : m.end] == m.text
            assert math.isclose(s.score, s.p_favorable - s.p_unfavorable, abs_tol=1e-6)
            assert math.isclose(s.p_unfavorable + s.p_neutral + s.p_favorable, 1.0, abs_tol=1e-5)


def test_sentences_jsonl_read_as_the_readme_says_keeps_ids_that_look_like_numbers(stance_cli, tmp_path):
    """pandas turns the ids "1", "01" and "1.0" all into 1.0 unless told that ids are text."""
    call = 'pd.read_json("sentences.jsonl", lines=True, dtype={"document_id": str})'
    assert call in (REPO / "README.md").read_text(encoding="utf-8")
    ids = ["1", "01", "1.0"]
    lines = [json.dumps({"id": i, "text": "China is bad. India is fine."}) for i in ids]
    (tmp_path / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_cli(stance_cli, ["score", "docs.jsonl", "--out", "run", "--threads", str(THREADS), "--quiet"], tmp_path)
    out = tmp_path / "run"
    rows = pd.read_json(out / "sentences.jsonl", lines=True, dtype={"document_id": str})
    assert rows["document_id"].unique().tolist() == ids
    assert pd.read_json(out / "sentences.jsonl", lines=True)["document_id"].unique().tolist() == [1.0]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert_stats_equal(stance.aggregate_frame(rows), summary["actors"])


def test_a_byte_order_mark_in_a_field_is_kept_by_both(analyzer, stance_cli, tmp_path):
    """The same documents fail (a mark alone is an empty text), and the one that opens with the
    mark scores alike with the same offsets: both index the field as given, mark included."""
    documents = [{"id": "a", "text": "\ufeff"}, {"id": "b", "text": "\ufeff \n"}, {"id": "c", "text": "\ufeffChina."}]
    (tmp_path / "bom.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents), encoding="utf-8")
    run_cli(stance_cli, ["score", "bom.jsonl", "--out", "run", "--threads", str(THREADS), "--quiet"], tmp_path)
    cli_failed = [(e["id"], e["reason"]) for e in read_jsonl(tmp_path / "run" / "errors.jsonl")]
    cli_rows = read_jsonl(tmp_path / "run" / "sentences.jsonl")
    with pytest.warns(stance.SkippedDocumentsWarning) as caught:
        rows = analyzer.score_frame(pd.DataFrame(documents), errors="skip").to_dict("records")
    assert caught[0].message.skipped == cli_failed == [("a", "empty text"), ("b", "empty text")]
    assert [(row["start"], row["mentions"][0]["start"]) for row in rows] == [(1, 1)]
    assert_rows_equal(rows, cli_rows)
