#!/usr/bin/env python3
"""Score a corpus with PySpark (local mode) and check it against `stance score`.

    scripts/spark-score.sh                      # installs what it needs, then runs this
    python scripts/spark-score.py --docs corpus.jsonl --stance-bin target/release/stance

Reads JSON Lines documents (`id`, `text`) into Spark, scores them with
`mapInPandas` (one `stance.Analyzer` per Python worker process, via
`Analyzer.shared`), aggregates per actor with Spark (built-in aggregates, and
exactly with `stance.ActorStats` in `applyInPandas`), then runs
`stance score --out` on the same file and checks that sentence rows agree to
1e-6 and per-actor statistics match `summary.json`. Prints what it measured as
JSON and exits non-zero on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
from engine_check import compare, report, run_cli

SENTENCE_SCHEMA = (
    "document_id string, sentence_index long, start long, end long, text string, actor string, "
    "mentions array<struct<start: long, end: long, text: string>>, p_unfavorable double, p_neutral double, "
    "p_favorable double, score double, label string, truncated boolean"
)


# --- The code users copy: scoring and aggregating with Spark -------------------------------


def score_documents(batches):
    """mapInPandas: documents (`id`, `text`) in, sentence rows out. The analyzer is
    built once per Python worker process and reused by all its tasks."""
    import stance

    analyzer = stance.Analyzer.shared(threads=1)  # one core per Spark task slot
    for docs in batches:
        yield analyzer.score_frame(docs, text="text", id="id")


def exact_actor_stats(rows: pd.DataFrame) -> pd.DataFrame:
    """applyInPandas per actor: exact statistics (what `summary.json` holds) as JSON."""
    import stance

    rows = rows.sort_values(["document_id", "sentence_index"], kind="stable")
    stats = stance.aggregate_frame(rows)
    return pd.DataFrame([{"actor": actor, "stats": json.dumps(s.to_dict())} for actor, s in stats.items()])


def spark_actor_summary(rows):
    """Per-actor statistics with Spark's own aggregates."""
    from pyspark.sql import functions as F

    return rows.groupBy("actor").agg(
        F.count("*").alias("sentences"),
        F.countDistinct("document_id").alias("documents"),
        F.sum(F.size("mentions")).alias("mentions"),
        F.avg("score").alias("mean"),
        F.stddev_samp("score").alias("std"),
        *[F.sum((F.col("label") == name).cast("long")).alias(name) for name in ("unfavorable", "neutral", "favorable")],
    )


# --- The check ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True, help="JSON Lines documents with `id` and `text`")
    parser.add_argument("--stance-bin", type=Path, required=True, help="the stance CLI, for the reference run")
    parser.add_argument("--cores", type=int, default=2, help="local[N]: worker processes, one core each")
    args = parser.parse_args()

    # Python workers inherit the driver's environment: the same interpreter, and one
    # rayon thread per worker so that N workers use N cores.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: stay on the loopback interface
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .appName("stance")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256")
        .config("spark.sql.shuffle.partitions", str(args.cores))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    documents = spark.read.json(str(args.docs)).select("id", "text").repartition(args.cores * 2)
    n_docs = documents.count()
    start = time.perf_counter()
    rows = documents.mapInPandas(score_documents, schema=SENTENCE_SCHEMA).cache()
    n_rows = rows.count()
    spark_seconds = time.perf_counter() - start
    start = time.perf_counter()
    summary = {r["actor"]: r.asDict() for r in spark_actor_summary(rows).collect()}
    exact = {
        r["actor"]: json.loads(r["stats"])
        for r in rows.groupBy("actor").applyInPandas(exact_actor_stats, "actor string, stats string").collect()
    }
    aggregate_seconds = time.perf_counter() - start
    spark_rows = [r.asDict(recursive=True) for r in rows.collect()]
    engine = f"pyspark {spark.version} local[{args.cores}]"
    spark.stop()

    cli = run_cli(args.stance_bin, args.docs, args.cores)
    if cli is None:
        return 2
    cli_rows, cli_actors, cli_seconds = cli
    problems = compare(spark_rows, cli_rows, summary, exact, cli_actors, engine="Spark")
    timings = {"score": spark_seconds, "aggregate": aggregate_seconds, "cli": cli_seconds}
    return report(engine, "spark", n_docs, n_rows, timings, exact, cli_actors, problems)


if __name__ == "__main__":
    sys.exit(main())
