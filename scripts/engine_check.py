"""What scripts/spark-score.py and scripts/ray-score.py share: the reference run of
`stance score` on the same documents and the comparison of an engine's results with it.

Driver-side only: nothing here is shipped to the engines' worker processes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Sentence rows must agree with the CLI's to this (probabilities and scores).
TOLERANCE = 1e-6


def run_cli(stance_bin, docs, cores):
    """`stance score --out` on `docs`: (sentence rows, summary.json actors, seconds), or None
    (after printing its standard error) when the CLI fails outright."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run(
            [str(stance_bin), "score", str(docs), "--out", f"{tmp}/run"] + ["--threads", str(cores), "--quiet"],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return None
        rows = [json.loads(line) for line in Path(f"{tmp}/run/sentences.jsonl").read_text().splitlines()]
        summary = json.loads(Path(f"{tmp}/run/summary.json").read_text())
    return rows, summary["actors"], seconds


def compare(engine_rows, cli_rows, summary, exact, cli_actors, engine="engine") -> list:
    """Differences between the engine's results and the CLI's, as readable strings."""
    problems = []

    def key(row):
        return (row["document_id"], row["sentence_index"], row["actor"])

    mine = {key(r): r for r in engine_rows}
    theirs = {key(r): r for r in cli_rows}
    if len(mine) != len(engine_rows) or mine.keys() != theirs.keys():
        problems.append(f"row keys differ: {len(engine_rows)} {engine} rows, {len(cli_rows)} CLI rows")
    for k in mine.keys() & theirs.keys():
        for field, value in theirs[k].items():
            got = mine[k][field]
            if field == "mentions":
                got = [dict(m) for m in got]
            if isinstance(value, float):
                if abs(got - value) > TOLERANCE:
                    problems.append(f"{k} {field}: {got} != {value}")
            elif got != value:
                problems.append(f"{k} {field}: {got!r} != {value!r}")
    scored = {a: s for a, s in cli_actors.items() if s["sentences"] > 0}
    if summary.keys() != scored.keys() or exact.keys() != scored.keys():
        problems.append(f"actors differ: {engine} {sorted(summary)}, exact {sorted(exact)}, CLI {sorted(scored)}")
    for actor in summary.keys() & scored.keys():
        for field in ("sentences", "documents", "mentions", "unfavorable", "neutral", "favorable"):
            if summary[actor][field] != scored[actor][field] or exact[actor][field] != scored[actor][field]:
                problems.append(f"{actor} {field}: {engine} {summary[actor][field]}, CLI {scored[actor][field]}")
        for field in ("mean", "std"):
            if _figures_differ(summary[actor][field], scored[actor][field]):
                problems.append(f"{actor} {field}: {engine} {summary[actor][field]}, CLI {scored[actor][field]}")
        for field in ("mean", "std", "ci95_low", "ci95_high"):
            if _figures_differ(exact[actor][field], scored[actor][field]):
                problems.append(f"{actor} {field}: exact {exact[actor][field]}, CLI {scored[actor][field]}")
    return problems[:20]


def _figures_differ(mine, theirs) -> bool:
    """Whether two statistics differ. A figure without a value (the spread of a single
    sentence) is null in summary.json, None or NaN from an engine: equal to each other."""

    def missing(x):
        return x is None or (isinstance(x, float) and math.isnan(x))

    if missing(mine) or missing(theirs):
        return missing(mine) != missing(theirs)
    return abs(mine - theirs) > TOLERANCE


def report(engine, prefix, n_docs, n_rows, timings, exact, cli_actors, problems):
    """Print what one engine run measured and found as JSON; the exit status (1 on any problem).

    `timings` holds the engine's "score" and "aggregate" seconds and the CLI's "cli" seconds;
    `prefix` names the engine's keys (`spark_score_seconds`, ...).
    """
    result = {
        "engine": engine,
        "documents": n_docs,
        "sentence_rows": n_rows,
        f"{prefix}_score_seconds": round(timings["score"], 2),
        f"{prefix}_documents_per_second": round(n_docs / timings["score"], 1),
        f"{prefix}_aggregate_seconds": round(timings["aggregate"], 2),
        "cli_seconds": round(timings["cli"], 2),
        "cli_documents_per_second": round(n_docs / timings["cli"], 1),
        "exact_sums_equal": all(exact[a]["sum_q32"] == cli_actors[a]["sum_q32"] for a in exact if a in cli_actors),
        "problems": problems,
    }
    print(json.dumps(result, indent=2))
    return 1 if problems else 0
