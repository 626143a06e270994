"""Data frames in and out: pandas, pyarrow and polars give the same sentence rows."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import THREADS, read_jsonl, run_cli

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
    with pytest.raises(TypeError, match="expected a pandas DataFrame, a pyarrow Table or RecordBatch or a polars"):
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
    # A byte-order mark and blanks is as empty (the CLI drops the mark from what it reads).
    with pytest.raises(stance.InputError, match="^m: empty text$"):
        analyzer.score_frame(pd.DataFrame({"id": ["a", "m"], "text": ["China helps.", "\ufeff \u3000"]}))


def test_a_frame_without_mentions_has_typed_empty_columns(analyzer):
    rows = analyzer.score_frame(pd.DataFrame({"text": ["Nothing to see.", "Still nothing."]}))
    assert rows.empty and list(rows.columns) == list(stance.SENTENCE_COLUMNS)
    assert str(rows["score"].dtype) == "float64" and str(rows["end"].dtype) == "int64"
    # The types of a frame with rows: a batch without mentions converts to the same schema.
    full = analyzer.score_frame(pd.DataFrame({"text": ["China spoke."]}))
    assert dict(rows.dtypes) == dict(full.dtypes)
    assert pa.Table.from_pandas(rows, schema=stance._frames.arrow_schema(), preserve_index=False).num_rows == 0
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


def test_a_lone_surrogate_in_a_frame_fails_that_document_only(analyzer):
    # An object column: pandas' own string columns (pyarrow) refuse such a str already.
    documents = pd.DataFrame(
        {"id": ["a", "b", "c"], "text": ["China is bad.", "China \ud800.", "India."]}, dtype=object
    )
    with pytest.raises(stance.InputError, match=r"^b: text is not valid Unicode"):
        analyzer.score_frame(documents)
    with pytest.warns(stance.SkippedDocumentsWarning, match="b: text is not valid Unicode"):
        rows = analyzer.score_frame(documents, errors="skip", batch_size=3)
    assert rows["document_id"].tolist() == ["a", "c"]


def test_pandas_missing_values_are_missing_texts(analyzer):
    documents = pd.DataFrame({"id": ["a", "b", "c"], "text": pd.array(["China is bad.", None, pd.NA], dtype="string")})
    with pytest.raises(stance.InputError, match="^b: missing text$"):
        analyzer.score_frame(documents)
    with pytest.warns(stance.SkippedDocumentsWarning) as caught:
        rows = analyzer.score_frame(documents, errors="skip")
    assert rows["document_id"].tolist() == ["a"]
    assert caught[0].message.skipped == [("b", "missing text"), ("c", "missing text")]


def test_ids_that_pandas_reads_as_floats_are_those_of_the_cli(analyzer, stance_cli, tmp_path):
    """pandas reads an integer id column with a gap as floats: the ids are still the CLI's, and
    the missing one gets an id of its own (the CLI's is FILE:LINE), not "nan"."""
    (tmp_path / "ids.csv").write_text("id,text\n1,China is bad.\n,China is good.\n3,India is fine.\n,China.\n")
    run_cli(stance_cli, ["score", "ids.csv", "--out", "run", "--threads", str(THREADS), "--quiet"], tmp_path)
    cli_ids = [row["document_id"] for row in read_jsonl(tmp_path / "run" / "sentences.jsonl")]
    assert cli_ids == ["1", "ids.csv:3", "3", "ids.csv:5"]
    documents = pd.read_csv(tmp_path / "ids.csv")
    assert str(documents["id"].dtype) == "float64"
    rows = analyzer.score_frame(documents)
    assert rows["document_id"].tolist() == ["1", "<row 1>", "3", "<row 3>"]
    assert stance.aggregate_frame(rows)["china"].documents == 3
    nullable = documents.astype({"id": "Int64"}).set_index(pd.Index([10, 20, 30, 40]))
    assert analyzer.score_frame(nullable)["document_id"].tolist() == ["1", "<row 20>", "3", "<row 40>"]
    # Without an id column a row is named by its label, and by its position where that is missing too.
    unlabelled = pd.DataFrame({"text": ["China.", "India."]}, index=[7, float("nan")])
    assert analyzer.score_frame(unlabelled, id=None)["document_id"].tolist() == ["7", "<text 1>"]


def test_rows_whose_label_is_missing_are_named_by_position_never_nan(analyzer):
    """A missing id falls back to the row label, and to the position where that is missing too:
    in a float, object or nullable index, as a Decimal NaN, or in every level of a MultiIndex."""
    texts = ["China is bad.", "China is good.", "India is fine.", "China."]
    indexes = {
        "float": (pd.Index([7.0, math.nan, 9.0, math.nan]), "7", "9"),
        "object": (pd.Index(["a", None, "c", math.nan], dtype=object), "a", "c"),
        "nullable": (pd.Index([7, None, 9, None], dtype="Int64"), "7", "9"),
        "decimal": (pd.Index([Decimal(7), Decimal("NaN"), Decimal(9), Decimal("NaN")], dtype=object), "7", "9"),
        "multi": (
            pd.MultiIndex.from_tuples([("a", "b"), (math.nan, math.nan), ("c", "d"), (None, None)]),
            "('a', 'b')",
            "('c', 'd')",
        ),
    }
    for kind, (index, first, third) in indexes.items():
        by_label = analyzer.score_frame(pd.DataFrame({"text": texts}, index=index), id=None)
        assert by_label["document_id"].unique().tolist() == [first, "<text 1>", third, "<text 3>"], kind
        documents = pd.DataFrame({"id": ["x", None, math.nan, pd.NA], "text": texts}, index=index)
        by_id = analyzer.score_frame(documents)["document_id"].unique().tolist()
        assert by_id == ["x", "<text 1>", f"<row {third}>", "<text 3>"], kind


def test_aggregate_frame_counts_consecutive_documents_that_share_an_id(analyzer):
    texts = ["China is bad.", "China is great.", "China is a partner."]
    documents = pd.DataFrame({"id": ["x", "x", "y"], "text": texts})
    expected = stance.aggregate(analyzer.score_many(texts, ids=["x", "x", "y"]))
    assert expected["china"].documents == 3
    assert stance.aggregate_frame(analyzer.score_frame(documents)) == expected
    # A document's own rows, in any order, are still one document.
    rows = analyzer.score_frame(pd.DataFrame({"id": ["a"], "text": ["India and China met. China left. India too."]}))
    shuffled = rows.iloc[::-1]
    assert stance.aggregate_frame(shuffled) == stance.aggregate_frame(rows)
    assert stance.aggregate_frame(shuffled)["china"].documents == 1


def test_aggregate_frame_names_the_row_whose_values_are_no_probabilities(analyzer):
    rows = analyzer.score_frame(pd.DataFrame({"id": ["a", "b"], "text": ["China is bad.", "India is bad."]}))
    rows.loc[1, "p_neutral"] = math.nan
    with pytest.raises(ValueError, match=r"^row 1 \(document b, actor india\): p_unfavorable=.*p_neutral=NaN"):
        stance.aggregate_frame(rows)


def test_aggregate_frame_totals_have_no_open_document():
    """The totals of a frame of one document do not extend that document: a pair added starts another."""
    rows = pd.DataFrame(
        {
            "document_id": ["a", "a"],
            "sentence_index": [0, 1],
            "actor": ["china", "china"],
            "mentions": [[{"start": 0, "end": 5, "text": "China"}]] * 2,
            "p_unfavorable": [0.25, 0.5],
            "p_neutral": [0.0, 0.0],
            "p_favorable": [0.75, 0.5],
        }
    )
    total = stance.aggregate_frame(rows)["china"]
    assert (total.documents, total.sentences) == (1, 2)
    total.add(0.5, 0.0, 0.5)
    assert (total.documents, total.sentences) == (2, 3)


def test_score_frame_warning_lists_every_skipped_document(analyzer):
    documents = pd.DataFrame({"id": [f"d{i}" for i in range(9)], "text": ["China."] + [""] * 8})
    with pytest.warns(stance.SkippedDocumentsWarning, match=r"\(3 more, in the warning's `skipped`\)") as caught:
        analyzer.score_frame(documents, errors="skip", batch_size=4)
    assert caught[0].message.skipped == [(f"d{i}", "empty text") for i in range(1, 9)]


def test_duplicate_and_integer_column_names(analyzer):
    twice = pd.DataFrame([["China.", "x"]], columns=["text", "text"])
    with pytest.raises(ValueError, match="the frame has 2 columns named 'text'"):
        analyzer.score_frame(twice)
    with pytest.raises(ValueError, match="the frame has 2 columns named 'text'"):
        analyzer.score_frame(pa.Table.from_arrays([pa.array(["China."]), pa.array(["x"])], names=["text", "text"]))
    # pd.DataFrame(texts) names its column 0, an int: it is found by that label.
    numbered = pd.DataFrame(["China is bad.", "India is bad."])
    rows = analyzer.score_frame(numbered, text=0)
    assert rows["document_id"].tolist() == ["0", "1"] and rows["actor"].tolist() == ["china", "india"]
    with pytest.raises(KeyError, match=r"no column '0'; the frame has \[0\] \(pass 0, a int, not the str '0'\)"):
        analyzer.score_frame(numbered, text="0")


def test_a_text_of_another_type_fails_its_document_only(analyzer):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": ["China rose.", 42, "The US fell."]})
    with pytest.warns(stance.SkippedDocumentsWarning, match="b: text must be str, not int"):
        rows = analyzer.score_frame(frame, errors="skip")
    assert rows["document_id"].tolist() == ["a", "c"]
    with pytest.warns(stance.SkippedDocumentsWarning) as caught:
        results = analyzer.score_many(["China rose.", 42, ""], errors="skip")
    assert [r is None for r in results] == [False, True, True]
    assert caught[0].filename == __file__  # named at the caller's line, not inside the package
    # Raised in order: the first document that cannot be scored, whatever its error.
    with pytest.raises(stance.InputError, match="0: empty text"):
        analyzer.score_many(["", 5])
    with pytest.raises(TypeError, match="0: text must be str, not int"):
        analyzer.score_many([5, ""])


def test_frame_subclasses_and_record_batches(analyzer):
    class Articles(pd.DataFrame):
        pass

    rows = analyzer.score_frame(Articles({"id": ["a"], "text": ["China rose."]}))
    assert rows["document_id"].tolist() == ["a"]
    batch = pa.RecordBatch.from_pylist([{"id": "a", "text": "China rose."}, {"id": "b", "text": "No one."}])
    out = analyzer.score_frame(batch)
    assert isinstance(out, pa.RecordBatch) and out.schema == stance._frames.arrow_schema()
    assert out.column("document_id").to_pylist() == ["a"]
    assert stance.aggregate_frame(out) == stance.aggregate_frame(out.to_pandas())
    empty = analyzer.score_frame(pa.RecordBatch.from_pylist([{"id": "b", "text": "No one."}]))
    assert isinstance(empty, pa.RecordBatch) and empty.num_rows == 0


def test_numpy_ids_and_batch_sizes_read_as_python_numbers(analyzer):
    import numpy as np

    results = analyzer.score_many(["China rose."], ids=np.array([1.0], dtype="float32"), batch_size=np.int64(4))
    assert results[0].id == "1"
    assert analyzer.score_many(["China rose."], ids=[np.float64(2.5)])[0].id == "2.5"


def test_aggregate_frame_refuses_mentions_read_back_as_text(analyzer):
    rows = analyzer.score_frame(pd.DataFrame({"id": ["a"], "text": ["China rose."]}))
    rows["mentions"] = rows["mentions"].astype(str)
    with pytest.raises(TypeError, match="row 0 .*mentions must be a list of mentions, got str"):
        stance.aggregate_frame(rows)
