"""Data frames in and out: pandas, pyarrow and polars give the same sentence rows."""

from __future__ import annotations

import math

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import stance


def test_pandas_round_trip(analyzer, articles):
    documents = pd.DataFrame(articles)
    rows = analyzer.score_frame(documents, text="text", id="id")
    assert isinstance(rows, pd.DataFrame)
    assert list(rows.columns) == list(stance.SENTENCE_COLUMNS)
    assert rows["document_id"].unique().tolist() == [a["id"] for a in articles if a["id"] != "no-mention"]
    assert str(rows["sentence_index"].dtype) == "int64" and str(rows["score"].dtype) == "float64"
    assert rows["truncated"].dtype == bool
    # The same as scoring each text, and offsets index each document's text.
    expected = [
        dict(s.to_dict(), document_id=a["id"]) for a in articles for s in analyzer.score(a["text"], id=a["id"]).stances
    ]
    assert rows.to_dict("records") == [{k: r[k] for k in stance.SENTENCE_COLUMNS} for r in expected]
    texts = documents.set_index("id")["text"]
    for row in rows.itertuples():
        assert texts[row.document_id][row.start : row.end] == row.text
    # Per-actor statistics from the frame equal those of the documents.
    assert stance.aggregate_frame(rows) == stance.aggregate(analyzer.score_many(documents["text"], documents["id"]))


def test_pyarrow_and_polars_give_the_same_rows_as_pandas(analyzer, articles):
    from_pandas = analyzer.score_frame(pd.DataFrame(articles))
    table = analyzer.score_frame(pa.Table.from_pylist(articles))
    assert isinstance(table, pa.Table)
    assert table.schema == stance._frames.arrow_schema()
    assert table.to_pylist() == from_pandas.to_dict("records")
    polars_rows = analyzer.score_frame(pl.DataFrame(articles))
    assert isinstance(polars_rows, pl.DataFrame)
    assert polars_rows.columns == list(stance.SENTENCE_COLUMNS)
    assert polars_rows.to_dicts() == from_pandas.to_dict("records")
    assert stance.aggregate_frame(table) == stance.aggregate_frame(polars_rows) == stance.aggregate_frame(from_pandas)


def test_ids_default_to_row_labels(analyzer):
    documents = pd.DataFrame({"body": ["China helps.", "India grows."]}, index=[10, 20])
    rows = analyzer.score_frame(documents, text="body")
    assert rows["document_id"].tolist() == ["10", "20"]
    rows = analyzer.score_frame(
        pd.DataFrame({"body": ["China.", "x", "India."], "id": ["a", "b", "c"]}), "body", id=None
    )
    assert rows["document_id"].tolist() == ["0", "2"]
    table = analyzer.score_frame(pa.table({"text": ["x", "China helps."]}))
    assert table.column("document_id").to_pylist() == ["1"]


def test_missing_columns_and_other_types_are_refused(analyzer):
    with pytest.raises(KeyError, match=r"no column 'body'; the frame has \['text'\]"):
        analyzer.score_frame(pd.DataFrame({"text": ["China."]}), text="body")
    with pytest.raises(KeyError, match="no column 'url'"):
        analyzer.score_frame(pd.DataFrame({"text": ["China."]}), id="url")
    with pytest.raises(TypeError, match="expected a pandas DataFrame, a pyarrow Table or a polars DataFrame"):
        analyzer.score_frame([{"text": "China."}])


def test_empty_and_missing_texts(analyzer):
    documents = pd.DataFrame({"id": ["a", "b", "c", "d"], "text": ["China helps.", "", None, math.nan]})
    with pytest.raises(stance.InputError, match="^b: empty text$"):
        analyzer.score_frame(documents)
    with pytest.warns(stance.SkippedDocumentsWarning, match="3 document"):
        rows = analyzer.score_frame(documents, errors="skip", batch_size=2)
    assert rows["document_id"].tolist() == ["a"]
    with pytest.raises(stance.InputError, match="^c: missing text$"):
        analyzer.score_frame(documents.iloc[[0, 2]])


def test_a_frame_without_mentions_has_typed_empty_columns(analyzer):
    rows = analyzer.score_frame(pd.DataFrame({"text": ["Nothing to see.", "Still nothing."]}))
    assert rows.empty and list(rows.columns) == list(stance.SENTENCE_COLUMNS)
    assert str(rows["score"].dtype) == "float64" and str(rows["end"].dtype) == "int64"
    assert analyzer.score_frame(pa.table({"text": ["Nothing."]})).schema == stance._frames.arrow_schema()
    assert stance.aggregate_frame(rows) == {}


def test_batching_across_documents_agrees_to_1e_6(analyzer, articles):
    documents = pd.DataFrame(articles)
    separate = analyzer.score_frame(documents, batch_size=4)
    packed = analyzer.score_frame(documents, batch_size=4, batch_across_documents=True)
    assert separate.drop(columns=["p_unfavorable", "p_neutral", "p_favorable", "score"]).equals(
        packed.drop(columns=["p_unfavorable", "p_neutral", "p_favorable", "score"])
    )
    for column in ("p_unfavorable", "p_neutral", "p_favorable", "score"):
        assert (separate[column] - packed[column]).abs().max() < 1e-6
