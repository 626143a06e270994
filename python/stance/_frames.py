"""Data frames in and out: pandas, pyarrow and polars, each imported only when used."""

from __future__ import annotations

import decimal
import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any

from ._stance import ActorStats

# The columns of a sentence frame: the fields of `sentences.jsonl`, in order.
SENTENCE_COLUMNS: tuple[str, ...] = (
    "document_id",
    "sentence_index",
    "start",
    "end",
    "text",
    "actor",
    "mentions",
    "p_unfavorable",
    "p_neutral",
    "p_favorable",
    "score",
    "label",
    "truncated",
)

_INTEGER = ("sentence_index", "start", "end")
_FLOAT = ("p_unfavorable", "p_neutral", "p_favorable", "score")
_STRING = ("document_id", "text", "actor", "label")


def frame_kind(frame: Any) -> str:
    """``"pandas"``, ``"pyarrow"`` (a Table), ``"pyarrow-batch"`` (a RecordBatch) or
    ``"polars"``, subclasses included (a GeoDataFrame is a pandas DataFrame);
    ``TypeError`` for anything else. A frame's library is imported already: none is
    imported here."""
    pd, pa, pl = (sys.modules.get(name) for name in ("pandas", "pyarrow", "polars"))
    if pd is not None and isinstance(frame, pd.DataFrame):
        return "pandas"
    if pa is not None and isinstance(frame, pa.Table):
        return "pyarrow"
    if pa is not None and isinstance(frame, pa.RecordBatch):
        return "pyarrow-batch"
    if pl is not None and isinstance(frame, pl.DataFrame):
        return "polars"
    raise TypeError(
        "expected a pandas DataFrame, a pyarrow Table or RecordBatch or a polars DataFrame, "
        f"got {type(frame).__module__}.{type(frame).__qualname__}"
    )


def column_names(frame: Any, kind: str) -> list[Any]:
    """The column labels as they are: pandas allows any label, and its column ``0`` is not ``"0"``."""
    if kind.startswith("pyarrow"):
        return list(frame.column_names)
    return list(frame.columns)


def column_values(frame: Any, kind: str, name: Any) -> list[Any]:
    """A column as a Python list.

    ``KeyError`` naming the columns there are when none is ``name``;
    ``ValueError`` when several are (pandas and pyarrow allow that), since
    which one holds the data cannot be told.
    """
    names = column_names(frame, kind)
    count = names.count(name)
    if count == 0:
        raise KeyError(_no_column_message(name, names))
    if count > 1:
        raise ValueError(f"the frame has {count} columns named {name!r}; rename them so that one name is one column")
    if kind == "pandas":
        return frame[name].tolist()
    if kind.startswith("pyarrow"):
        return frame.column(name).to_pylist()
    return frame.get_column(name).to_list()


def _no_column_message(name: Any, names: list[Any]) -> str:
    message = f"no column {name!r}; the frame has {names}"
    # The column 0 of `pd.DataFrame([...])` is an int, not "0": say which to pass.
    alike = [label for label in names if str(label) == str(name)]
    if alike:
        message += f" (pass {alike[0]!r}, a {type(alike[0]).__name__}, not the {type(name).__name__} {name!r})"
    return message


def row_labels(frame: Any, kind: str) -> list[Any]:
    """Row labels used as ids when the frame has no id column: the pandas index, else row numbers.

    A label of a MultiIndex whose every level is missing is ``None``, as a
    missing label of a plain index is: as text, ``"(nan, nan)"``, it would be the
    id of every such row."""
    if kind == "pandas":
        labels = frame.index.tolist()
        if frame.index.nlevels > 1:
            labels = [None if all(is_missing(level) for level in label) else label for label in labels]
        return labels
    return list(range(frame.num_rows if kind.startswith("pyarrow") else frame.height))


def is_missing(value: Any) -> bool:
    """Whether ``value`` is how a data frame marks a missing value: ``None``
    (pyarrow, polars, pandas object columns), a NaN (pandas float and object
    columns; a ``Decimal`` NaN too, which pandas counts as missing), ``pd.NA``
    (pandas "string" and nullable integer columns) or ``pd.NaT``."""
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isnan(value)
    if isinstance(value, decimal.Decimal):
        return value.is_nan()
    # pandas is imported by whoever made these values; importing it here would cost the others.
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def empty_columns() -> dict[str, list]:
    return {name: [] for name in SENTENCE_COLUMNS}


def build_frame(columns: dict[str, list], kind: str) -> Any:
    """A sentence frame of the given kind, with fixed column types even when empty."""
    if kind == "pandas":
        import pandas as pd

        frame = pd.DataFrame({name: columns[name] for name in SENTENCE_COLUMNS})
        types = {name: "int64" for name in _INTEGER}
        types.update({name: "float64" for name in _FLOAT})
        types["truncated"] = "bool"
        if frame.empty:
            # Empty columns would be float64: give them the types pandas infers when rows are
            # there ("str" is object before pandas 3), so that every batch converts to one schema.
            types.update({name: "str" for name in SENTENCE_COLUMNS if name not in types})
            types["mentions"] = "object"
        return frame.astype(types)
    if kind.startswith("pyarrow"):
        import pyarrow as pa

        table = pa.table({name: columns[name] for name in SENTENCE_COLUMNS}, schema=arrow_schema())
        if kind == "pyarrow":
            return table
        # A batch in, a batch out.
        arrays = [table.column(name).combine_chunks() for name in SENTENCE_COLUMNS]
        return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema())
    import polars as pl

    mention = pl.Struct({"start": pl.Int64, "end": pl.Int64, "text": pl.String})
    schema: dict[str, Any] = {}
    for name in SENTENCE_COLUMNS:
        if name in _INTEGER:
            schema[name] = pl.Int64
        elif name in _FLOAT:
            schema[name] = pl.Float64
        elif name == "mentions":
            schema[name] = pl.List(mention)
        elif name == "truncated":
            schema[name] = pl.Boolean
        else:
            schema[name] = pl.String
    return pl.DataFrame({name: columns[name] for name in SENTENCE_COLUMNS}, schema=schema)


def arrow_schema() -> Any:
    """The pyarrow schema of a sentence table."""
    import pyarrow as pa

    mention = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])
    fields = []
    for name in SENTENCE_COLUMNS:
        if name in _INTEGER:
            fields.append((name, pa.int64()))
        elif name in _FLOAT:
            fields.append((name, pa.float64()))
        elif name == "mentions":
            fields.append((name, pa.list_(mention)))
        elif name == "truncated":
            fields.append((name, pa.bool_()))
        else:
            fields.append((name, pa.string()))
    return pa.schema(fields)


def aggregate_frame(rows: Any) -> dict[str, ActorStats]:
    """Per-actor statistics of a sentence frame (``score_frame``'s output, or
    ``sentences.jsonl`` read into pandas, pyarrow or polars), exactly as the
    library computes them: equal to those of :func:`aggregate` over the same
    documents, and to the ``actors`` of the run's ``summary.json``.

    Uses the columns ``document_id``, ``sentence_index``, ``actor``,
    ``mentions`` and ``p_*``. A document is counted once per actor it mentions,
    so the rows must say where documents begin. Rows of one document must be
    contiguous, as the library writes them (in any order among themselves); a
    new document begins where ``document_id`` changes, or where a
    (``sentence_index``, ``actor``) pair comes again under the same id (a
    document has each pair once). Two consecutive documents that share an id
    and have no such pair in common are therefore counted as one: for the
    equality, give documents ids that differ from the previous document's
    (unique ids do).

    Read ``sentences.jsonl`` with ``pd.read_json(path, lines=True,
    dtype={"document_id": str})``: without ``dtype``, pandas turns ids that
    look like numbers ("1", "01", "1.0") into the same number 1.0.

    Raises:
        KeyError: a column is missing.
        TypeError: a row's ``mentions`` is no list (a CSV round trip makes it text).
        ValueError: a row's ``p_*`` are not probabilities (each in [0, 1],
            summing to 1 within 0.001); the message names the row and document.
    """
    kind = frame_kind(rows)
    ids = column_values(rows, kind, "document_id")
    sentences = column_values(rows, kind, "sentence_index")
    actors = column_values(rows, kind, "actor")
    mentions = column_values(rows, kind, "mentions")
    probabilities = zip(*(column_values(rows, kind, name) for name in ("p_unfavorable", "p_neutral", "p_favorable")))
    totals: dict[str, ActorStats] = {}
    document: dict[str, ActorStats] = {}
    previous: Any | None = object()
    pairs: set[tuple[Any, Any]] = set()
    for row, (doc_id, sentence, actor, found, p) in enumerate(zip(ids, sentences, actors, mentions, probabilities)):
        if doc_id != previous or (sentence, actor) in pairs:
            _flush(totals, document)
            previous = doc_id
            pairs.clear()
        pairs.add((sentence, actor))
        if isinstance(found, (str, bytes)) or not hasattr(found, "__len__"):
            # A CSV round trip leaves the list as its text, whose length is no count of mentions.
            raise TypeError(
                f"row {row} (document {doc_id}, actor {actor}): mentions must be a list of mentions, "
                f"got {type(found).__name__}"
            )
        stats = document.setdefault(actor, ActorStats())
        try:
            stats.add(*p, len(found))
        except ValueError as error:
            raise ValueError(f"row {row} (document {doc_id}, actor {actor}): {error}") from None
    _flush(totals, document)
    return totals


def _flush(totals: dict[str, ActorStats], document: dict[str, ActorStats]) -> None:
    # Merged into empty totals, so that these have no open document (see `aggregate`).
    for actor, stats in document.items():
        totals.setdefault(actor, ActorStats()).merge(stats)
    document.clear()


def extend_columns(into: dict[str, list], more: dict[str, list], names: Sequence[str] = SENTENCE_COLUMNS) -> None:
    for name in names:
        into[name].extend(more[name])
