"""Data frames in and out: pandas, pyarrow and polars, each imported only when used."""

from __future__ import annotations

import copy
import math
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
    """``"pandas"``, ``"pyarrow"`` or ``"polars"``; ``TypeError`` for anything else."""
    module = type(frame).__module__.split(".", 1)[0]
    if module == "pandas" and hasattr(frame, "columns"):
        return "pandas"
    if module == "pyarrow" and hasattr(frame, "column_names"):
        return "pyarrow"
    if module == "polars" and hasattr(frame, "get_column"):
        return "polars"
    raise TypeError(
        f"expected a pandas DataFrame, a pyarrow Table or a polars DataFrame, got {type(frame).__module__}."
        f"{type(frame).__qualname__}"
    )


def column_names(frame: Any, kind: str) -> list[str]:
    if kind == "pyarrow":
        return list(frame.column_names)
    return [str(c) for c in frame.columns]


def column_values(frame: Any, kind: str, name: str) -> list[Any]:
    """A column as a Python list; ``KeyError`` naming the columns there are."""
    if name not in column_names(frame, kind):
        raise KeyError(f"no column {name!r}; the frame has {column_names(frame, kind)}")
    if kind == "pandas":
        return frame[name].tolist()
    if kind == "pyarrow":
        return frame.column(name).to_pylist()
    return frame.get_column(name).to_list()


def row_labels(frame: Any, kind: str) -> list[Any]:
    """Row labels used as ids when the frame has no id column: the pandas index, else row numbers."""
    if kind == "pandas":
        return frame.index.tolist()
    return list(range(frame.num_rows if kind == "pyarrow" else frame.height))


def is_missing(value: Any) -> bool:
    """``None`` or a float NaN (how pandas marks a missing text)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


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
        return frame.astype(types)
    if kind == "pyarrow":
        import pyarrow as pa

        return pa.table({name: columns[name] for name in SENTENCE_COLUMNS}, schema=arrow_schema())
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
    library computes them: equal to the ``actors`` of the run's ``summary.json``.

    Uses the columns ``document_id``, ``actor``, ``mentions`` and ``p_*``. Rows
    of one document must be contiguous, as the library writes them; a document
    is counted once per actor it mentions.
    """
    kind = frame_kind(rows)
    ids = column_values(rows, kind, "document_id")
    actors = column_values(rows, kind, "actor")
    mentions = column_values(rows, kind, "mentions")
    probabilities = [column_values(rows, kind, name) for name in ("p_unfavorable", "p_neutral", "p_favorable")]
    totals: dict[str, ActorStats] = {}
    document: dict[str, ActorStats] = {}
    previous: Any | None = object()
    for i, (doc_id, actor) in enumerate(zip(ids, actors)):
        if doc_id != previous:
            _flush(totals, document)
            previous = doc_id
        stats = document.setdefault(actor, ActorStats())
        stats.add(probabilities[0][i], probabilities[1][i], probabilities[2][i], len(mentions[i]))
    _flush(totals, document)
    return totals


def _flush(totals: dict[str, ActorStats], document: dict[str, ActorStats]) -> None:
    for actor, stats in document.items():
        if actor in totals:
            totals[actor].merge(stats)
        else:
            totals[actor] = copy.copy(stats)
    document.clear()


def extend_columns(into: dict[str, list], more: dict[str, list], names: Sequence[str] = SENTENCE_COLUMNS) -> None:
    for name in names:
        into[name].extend(more[name])
