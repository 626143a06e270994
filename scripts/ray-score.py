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
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
from engine_check import compare, report, run_cli

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

    cli = run_cli(args.stance_bin, args.docs, args.cores)
    if cli is None:
        return 2
    cli_rows, cli_actors, cli_seconds = cli
    problems = compare(ray_rows, cli_rows, summary, exact, cli_actors, engine="engine")
    timings = {"score": ray_seconds, "aggregate": aggregate_seconds, "cli": cli_seconds}
    return report(engine, "ray", n_docs, n_rows, timings, exact, cli_actors, problems)


if __name__ == "__main__":
    sys.exit(main())
