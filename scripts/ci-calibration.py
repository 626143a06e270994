#!/usr/bin/env python3
"""Are the corpus means' 95% intervals as wide as they should be?

Reads the predictions of `stance eval --predictions FILE` (one line per pair, with its
article) and, per actor, compares two intervals of the mean score:

- over sentences, as if every (sentence, actor) pair were an independent draw;
- clustered by article, as the library computes it (`ActorStats::ci95`).

The check: split the articles at random into two halves, many times; both halves come
from one corpus, so their means should differ "significantly" (|z| > 1.96) in 5% of
splits. An interval that is too narrow raises that share.

    stance eval --model mini --data natural.jsonl --predictions preds.jsonl
    python3 scripts/ci-calibration.py preds.jsonl [--splits 2000] [--min-articles 100]

Three per-pair values are checked: the gold scores (-1 / 0 / +1), the model's scores, and
their difference (score - gold), whose mean is the per-actor bias `stance eval` reports with
a clustered interval (`difference_ci95`).
"""
import argparse
import collections
import json
import math
import random

GOLD_SCORE = {"unfavorable": -1.0, "neutral": 0.0, "favorable": 1.0}


def read_groups(path, field):
    """actor -> list of per-article score lists, in file order."""
    groups = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            row = json.loads(line)
            if row.get("article") is None:
                raise SystemExit(f"{path}:{number}: no article; the data needs source_url or primary_gid")
            gold, score = GOLD_SCORE[row["gold"]], float(row["score"])
            value = {"gold": gold, "score": score, "difference": score - gold}[field]
            groups[row["actor"]][row["article"]].append(value)
    return {actor: list(by_article.values()) for actor, by_article in groups.items()}


def mean_and_errors(articles):
    """Mean, and its standard error over sentences and clustered by article."""
    scores = [x for article in articles for x in article]
    n, d = len(scores), len(articles)
    mean = sum(scores) / n
    sentence_se = math.sqrt(sum((x - mean) ** 2 for x in scores) / (n - 1) / n)
    residual = sum((sum(a) - mean * len(a)) ** 2 for a in articles)
    article_se = math.sqrt(d / (d - 1) * residual) / n
    return mean, sentence_se, article_se


def false_difference_rates(articles, splits, rng):
    """Share of random article halves whose means differ with |z| > 1.96, per interval kind."""
    articles = list(articles)
    flagged = [0, 0]
    for _ in range(splits):
        rng.shuffle(articles)
        half = len(articles) // 2
        a, b = mean_and_errors(articles[:half]), mean_and_errors(articles[half:])
        for kind in (0, 1):
            z = (a[0] - b[0]) / math.hypot(a[1 + kind], b[1 + kind])
            flagged[kind] += abs(z) > 1.96
    return [count / splits for count in flagged]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions")
    parser.add_argument("--splits", type=int, default=2000)
    parser.add_argument("--min-articles", type=int, default=100, help="skip actors in fewer articles")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| value | actor | pairs | articles | mean | half width: sentences / articles | false differences: sentences / articles |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for field in ("gold", "score", "difference"):
        rng = random.Random(args.seed)
        for actor, articles in sorted(read_groups(args.predictions, field).items()):
            if len(articles) < args.min_articles:
                continue
            mean, sentence_se, article_se = mean_and_errors(articles)
            rates = false_difference_rates(articles, args.splits, rng)
            pairs = sum(map(len, articles))
            print(
                f"| {field} | {actor} | {pairs} | {len(articles)} | {mean:+.3f} | "
                f"{1.96 * sentence_se:.3f} / {1.96 * article_se:.3f} | {rates[0]:.1%} / {rates[1]:.1%} |"
            )


if __name__ == "__main__":
    main()
