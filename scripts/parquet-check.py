#!/usr/bin/env python3
"""Checks `stance score --format parquet` files with readers that are not the library's:
pandas (pyarrow engine) and, when installed, DuckDB.

    python scripts/parquet-check.py [RUN_DIR]

With RUN_DIR (a finished run or merge made with --format parquet), checks its files.
Without, scores the test fixtures (tests/data/corpus/good, plus documents with
non-ASCII text, no actor and formula-like ids) into a temporary directory first,
with $STANCE (default target/debug/stance) and $MODEL (default tests/data/tiny-model).

Asserts, and prints what it checked:
  - sentences.parquet: the columns of sentences.jsonl, in order, with the README's
    types (strings, int64, mentions as a list of {start, end, text} structs, float32
    probabilities and scores, a bool), and every row equal to its JSON line;
  - documents.parquet: the columns of documents.csv with numeric types, null where the
    CSV cell is empty, every row equal to its documents.jsonl line and its numbers to
    the CSV's;
  - DuckDB (if `import duckdb` works): the same row counts and column types, and no
    row of sentences.jsonl missing from sentences.parquet (EXCEPT ALL).
Needs pandas and pyarrow (`pip install pandas pyarrow`; duckdb optional). Exit status 0 when all hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent

SENTENCE_TYPES = {
    "document_id": "string",
    "sentence_index": "int64",
    "start": "int64",
    "end": "int64",
    "text": "string",
    "actor": "string",
    "mentions": "list<struct<start: int64, end: int64, text: string>>",
    "p_unfavorable": "float",
    "p_neutral": "float",
    "p_favorable": "float",
    "score": "float",
    "label": "string",
    "truncated": "bool",
}
DOCUMENT_TYPES = {
    "document_id": "string",
    "date": "string",
    "source": "string",
    "title": "string",
    "document_sentences": "int64",
    "actor": "string",
    "actor_sentences": "int64",
    "mentions": "int64",
    "mean_score": "double",
    "unfavorable": "int64",
    "neutral": "int64",
    "favorable": "int64",
}
# Columns that may be null, and only those (empty cells of documents.csv).
NULLABLE = {"date", "source", "title", "actor", "mean_score"}
FLOATS = ("p_unfavorable", "p_neutral", "p_favorable", "score")

EXTRA_DOCUMENTS = [
    {
        "id": "=1+2",
        "source": "Zürcher Zeitung",
        "title": "Pékin 🇨🇳",
        "text": "Beijing’s envoy — 北京 — praised India’s “restraint”. Ça va, said the U.S. delegate.",
    },
    {"id": "calm", "date": "2024-05-01", "text": "The weather was calm. Markets were quiet."},
    {"id": "-7x", "text": "Washington and New Delhi signed a deal."},
]


def score_fixtures(work: Path) -> Path:
    stance = os.environ.get("STANCE", str(ROOT / "target/debug/stance"))
    model = os.environ.get("MODEL", str(ROOT / "tests/data/tiny-model"))
    extra = work / "extra.jsonl"
    extra.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in EXTRA_DOCUMENTS), encoding="utf-8")
    good = ROOT / "tests/data/corpus/good"
    inputs = [good / "articles", good / "wire.jsonl", good / "opinion.csv", extra]
    out = work / "run"
    command = [stance, "score", *map(str, inputs), "--out", str(out), "--format", "parquet", "--model", model]
    subprocess.run(command + ["--quiet"], check=True)
    return out


def json_lines(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)


def check_schema(path: Path, expected: dict[str, str], nullable: set[str]) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    check(schema.names == list(expected), f"{path.name}: columns {schema.names}")
    for field in schema:
        kind = str(field.type).replace(" not null", "").replace("element: ", "")
        check(kind == expected[field.name], f"{path.name}: {field.name} is {field.type}, not {expected[field.name]}")
        check(field.nullable == (field.name in nullable), f"{path.name}: {field.name} nullable={field.nullable}")


def check_sentences(run: Path) -> pd.DataFrame:
    path = run / "sentences.parquet"
    check_schema(path, SENTENCE_TYPES, set())
    frame = pd.read_parquet(path, engine="pyarrow")
    for name in FLOATS:
        check(frame[name].dtype == np.float32, f"{name} is {frame[name].dtype}")
    for name in ("sentence_index", "start", "end"):
        check(frame[name].dtype == np.int64, f"{name} is {frame[name].dtype}")
    check(frame["truncated"].dtype == np.bool_, f"truncated is {frame['truncated'].dtype}")
    lines = json_lines(run / "sentences.jsonl")
    check(len(frame) == len(lines), f"{len(frame)} Parquet rows, {len(lines)} JSON lines")
    for i, (row, line) in enumerate(zip(frame.itertuples(index=False), lines)):
        row = row._asdict()
        check(list(line) == list(SENTENCE_TYPES), f"line {i + 1}: fields {list(line)}")
        for name, value in line.items():
            got = row[name]
            if name in FLOATS:
                # The JSON holds the float32's shortest decimal form.
                same = np.float32(value) == got
            elif name == "mentions":
                same = [dict(m) for m in got] == value
            else:
                same = got == value
            check(same, f"sentences row {i + 1}, {name}: {got!r} != {value!r}")
    return frame


def check_documents(run: Path) -> pd.DataFrame:
    path = run / "documents.parquet"
    check_schema(path, DOCUMENT_TYPES, NULLABLE)
    frame = pd.read_parquet(path, engine="pyarrow")
    lines = json_lines(run / "documents.jsonl")
    csv = pd.read_csv(run / "documents.csv", dtype=str, keep_default_na=False)
    check(list(csv.columns) == list(DOCUMENT_TYPES), f"documents.csv columns {list(csv.columns)}")
    check(len(frame) == len(lines) == len(csv), f"{len(frame)} rows, {len(lines)} lines, {len(csv)} CSV rows")
    for i, (row, line, cells) in enumerate(zip(frame.itertuples(index=False), lines, csv.itertuples(index=False))):
        row, cells = row._asdict(), cells._asdict()
        for name in DOCUMENT_TYPES:
            got, value, cell = row[name], line[name], cells[name]
            missing = got is None or (isinstance(got, float) and np.isnan(got))
            if name == "actor" and value == "":
                value = None  # the row of a document without actors: "" in the journal, null here
            check(missing == (value is None), f"documents row {i + 1}, {name}: {got!r} vs {value!r}")
            check(missing == (cell == ""), f"documents row {i + 1}, {name}: {got!r} vs CSV {cell!r}")
            if missing:
                continue
            check(got == value, f"documents row {i + 1}, {name}: {got!r} != {value!r}")
            if DOCUMENT_TYPES[name] != "string":
                check(got == type(got)(float(cell)), f"documents row {i + 1}, {name}: {got!r} vs CSV {cell!r}")
    return frame


def check_duckdb(run: Path, sentences: int, documents: int) -> str:
    try:
        import duckdb
    except ImportError:
        return "DuckDB: not installed, skipped"
    con = duckdb.connect()
    s, d = str(run / "sentences.parquet"), str(run / "documents.parquet")
    check(con.execute(f"select count(*) from '{s}'").fetchone()[0] == sentences, "DuckDB: sentence rows")
    check(con.execute(f"select count(*) from '{d}'").fetchone()[0] == documents, "DuckDB: document rows")
    types = {row[0]: row[1] for row in con.execute(f"describe select * from '{s}'").fetchall()}
    check(types["mentions"] == 'STRUCT("start" BIGINT, "end" BIGINT, "text" VARCHAR)[]', f"DuckDB: {types['mentions']}")
    check(types["score"] == "FLOAT" and types["sentence_index"] == "BIGINT", f"DuckDB: {types}")
    columns = 'document_id, sentence_index, start, "end", text, actor, label, truncated, ' + ", ".join(
        f"{c}::FLOAT" for c in FLOATS
    )
    jsonl = str(run / "sentences.jsonl")
    missing = con.execute(
        f"select count(*) from (select {columns} from read_json_auto('{jsonl}') except all select {columns} from '{s}')"
    ).fetchone()[0]
    check(missing == 0, f"DuckDB: {missing} rows of sentences.jsonl not in sentences.parquet")
    return f"DuckDB {duckdb.__version__}: row counts, types and EXCEPT ALL against sentences.jsonl agree"


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(sys.argv[1]) if len(sys.argv) > 1 else score_fixtures(Path(tmp))
        sentences = check_sentences(run)
        documents = check_documents(run)
        duck = check_duckdb(run, len(sentences), len(documents))
    import pyarrow

    print(f"pandas {pd.__version__} (pyarrow {pyarrow.__version__} engine):")
    print(f"  sentences.parquet: {len(sentences)} rows equal to sentences.jsonl; dtypes:")
    print("    " + ", ".join(f"{k} {v}" for k, v in sentences.dtypes.astype(str).items()))
    print(f"  documents.parquet: {len(documents)} rows equal to documents.jsonl and documents.csv; dtypes:")
    print("    " + ", ".join(f"{k} {v}" for k, v in documents.dtypes.astype(str).items()))
    print(f"  {duck}")
    print(f"all checks passed in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
