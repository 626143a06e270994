#!/usr/bin/env python3
"""Score a corpus with Ray Data (a local cluster) and check it against `stance score`.

    scripts/ray-score.sh                      # installs what it needs, then runs this
    python scripts/ray-score.py --docs corpus.jsonl --stance-bin target/release/stance

Reads JSON Lines documents (`id`, `text`) with Ray Data, scores them with
`map_batches` and a callable class (one `stance.Analyzer` per Ray actor),
aggregates per actor with Ray (built-in aggregates, and exactly with
`stance.ActorStats` in `map_groups`), then runs `stance score --out` on the
same file and checks that sentence rows agree to 1e-6 and per-actor
statistics match `summary.json`. Prints what it measured as JSON and exits
non-zero on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa

TOLERANCE = 1e-6


# --- The code users copy: scoring and aggregating with Ray Data -----------------------------


class ScoreDocuments:
    """map_batches: documents (`id`, `text`) in, sentence rows out (a fixed Arrow
    schema, also for batches without mentions). Each Ray actor builds one analyzer."""

    def __init__(self, threads: int = 1):
        import stance

        self.analyzer = stance.Analyzer(threads=threads)

    def __call__(self, docs: pa.Table) -> pa.Table:
        return self.analyzer.score_frame(docs, text="text", id="id")


def with_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns for Ray's aggregates: mentions per row, one column per label."""
    out = rows[["document_id", "actor", "score"]].copy()
    out["mention_count"] = rows["mentions"].map(len)
    for label in ("unfavorable", "neutral", "favorable"):
        out[label] = (rows["label"] == label).astype("int64")
    return out


def exact_actor_stats(rows: pd.DataFrame) -> pd.DataFrame:
    """map_groups per actor: exact statistics (what `summary.json` holds) as JSON."""
    import stance

    rows = rows.sort_values(["document_id", "sentence_index"], kind="stable")
    stats = stance.aggregate_frame(rows)
    return pd.DataFrame([{"actor": actor, "stats": json.dumps(s.to_dict())} for actor, s in stats.items()])


# --- The check ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True, help="JSON Lines documents with `id` and `text`")
    parser.add_argument("--stance-bin", type=Path, required=True, help="the stance CLI, for the reference run")
    parser.add_argument("--cores", type=int, default=2, help="CPUs of the local Ray cluster: one scoring actor each")
    args = parser.parse_args()

    # Workers inherit this: one rayon thread per actor, so N actors use N cores.
    os.environ["RAYON_NUM_THREADS"] = "1"
    import ray
    from ray.data.aggregate import Count, Mean, Std, Sum

    ray.init(num_cpus=args.cores, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)

    documents = ray.data.read_json(str(args.docs)).select_columns(["id", "text"]).materialize()
    n_docs = documents.count()
    start = time.perf_counter()
    rows = documents.map_batches(
        ScoreDocuments,
        batch_format="pyarrow",
        batch_size=256,
        compute=ray.data.ActorPoolStrategy(size=args.cores),
        num_cpus=1,
    ).materialize()
    n_rows = rows.count()
    ray_seconds = time.perf_counter() - start
    start = time.perf_counter()
    summary = {
        r["actor"]: r
        for r in rows.map_batches(with_counts, batch_format="pandas")
        .groupby("actor")
        .aggregate(
            Count(alias_name="sentences"),
            Sum("mention_count", alias_name="mentions"),
            Mean("score", alias_name="mean"),
            Std("score", ddof=1, alias_name="std"),
            Sum("unfavorable", alias_name="unfavorable"),
            Sum("neutral", alias_name="neutral"),
            Sum("favorable", alias_name="favorable"),
        )
        .take_all()
    }
    for actor, n in rows.groupby(["actor", "document_id"]).count().groupby("actor").count().to_pandas().values:
        summary[actor]["documents"] = int(n)
    exact = {
        r["actor"]: json.loads(r["stats"])
        for r in rows.groupby("actor").map_groups(exact_actor_stats, batch_format="pandas").take_all()
    }
    aggregate_seconds = time.perf_counter() - start
    ray_rows = rows.to_pandas().to_dict("records")
    engine = f"ray {ray.__version__}, {args.cores} CPUs"
    ray.shutdown()

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run(
            [str(args.stance_bin), "score", str(args.docs), "--out", f"{tmp}/run"]
            + ["--threads", str(args.cores), "--quiet"],
            capture_output=True,
            text=True,
        )
        cli_seconds = time.perf_counter() - start
        if done.returncode not in (0, 1):
            print(done.stderr, file=sys.stderr)
            return 2
        cli_rows = [json.loads(line) for line in Path(f"{tmp}/run/sentences.jsonl").read_text().splitlines()]
        cli_summary = json.loads(Path(f"{tmp}/run/summary.json").read_text())

    problems = compare(ray_rows, cli_rows, summary, exact, cli_summary["actors"])
    report = {
        "engine": engine,
        "documents": n_docs,
        "sentence_rows": n_rows,
        "ray_score_seconds": round(ray_seconds, 2),
        "ray_documents_per_second": round(n_docs / ray_seconds, 1),
        "ray_aggregate_seconds": round(aggregate_seconds, 2),
        "cli_seconds": round(cli_seconds, 2),
        "cli_documents_per_second": round(n_docs / cli_seconds, 1),
        "exact_sums_equal": all(
            exact[a]["sum_q32"] == cli_summary["actors"][a]["sum_q32"] for a in exact if a in cli_summary["actors"]
        ),
        "problems": problems,
    }
    print(json.dumps(report, indent=2))
    return 1 if problems else 0


def compare(engine_rows, cli_rows, summary, exact, cli_actors) -> list:
    """Differences between the engine's results and the CLI's, as readable strings."""
    problems = []

    def key(row):
        return (row["document_id"], row["sentence_index"], row["actor"])

    mine = {key(r): r for r in engine_rows}
    theirs = {key(r): r for r in cli_rows}
    if len(mine) != len(engine_rows) or mine.keys() != theirs.keys():
        problems.append(f"row keys differ: {len(engine_rows)} engine rows, {len(cli_rows)} CLI rows")
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
        problems.append(f"actors differ: engine {sorted(summary)}, exact {sorted(exact)}, CLI {sorted(scored)}")
    for actor in summary.keys() & scored.keys():
        for field in ("sentences", "documents", "mentions", "unfavorable", "neutral", "favorable"):
            if summary[actor][field] != scored[actor][field] or exact[actor][field] != scored[actor][field]:
                problems.append(f"{actor} {field}: engine {summary[actor][field]}, CLI {scored[actor][field]}")
        for field in ("mean", "std"):
            if abs(summary[actor][field] - scored[actor][field]) > TOLERANCE:
                problems.append(f"{actor} {field}: engine {summary[actor][field]}, CLI {scored[actor][field]}")
        for field in ("mean", "std", "ci95_low", "ci95_high"):
            if abs(exact[actor][field] - scored[actor][field]) > TOLERANCE:
                problems.append(f"{actor} {field}: exact {exact[actor][field]}, CLI {scored[actor][field]}")
    return problems[:20]


if __name__ == "__main__":
    sys.exit(main())
