#!/usr/bin/env python3
"""How many of the annotated (sentence, actor) pairs the built-in mention detector finds.

    cargo build --release
    python3 scripts/mention-recall.py ../shared/data/opeds/natural.jsonl ../shared/data/opeds/dev.jsonl
    python3 scripts/mention-recall.py --articles ../shared/data/opeds/natural.jsonl

For each NewsMTSC-format file with op-ed actor annotations (`targets[].actor`), runs `stance
mentions --no-split` with the five built-in actors on every sentence and compares the actors it
finds with the annotated ones of those five. Prints recall, precision and the annotated mentions
most often missed. A found actor that the annotator did not label counts against precision even
when the text does name it (annotators label country-level actors only).

With --articles the rows of one article (same `source_url`, in file order) are read as one
document, sentences separated by blank lines, as the library reads a text: a short name
("Khan") then counts after its full alias ("Imran Khan") in an earlier sentence.
"""

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ACTORS = {"US": "us", "China": "china", "India": "india", "Pakistan": "pakistan", "Russia": "russia"}


def detected(stance_bin, path):
    """{line number: set of actor ids} that `stance mentions` finds in each sentence of `path`."""
    out = subprocess.run(
        [stance_bin, "mentions", "--field", "sentence_normalized", "--no-split", "--actors", ",".join(ACTORS.values()), path],
        capture_output=True, text=True, check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        row = json.loads(line)
        found[int(row["source"].rsplit(":", 1)[1])] = {t["actor"] for t in row["targets"]}
    return found


def detected_by_article(stance_bin, path):
    """{line number: set of actor ids}, reading each article's rows as one document."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    articles = {}
    for number, row in enumerate(rows, 1):
        articles.setdefault(row.get("source_url") or f"line {number}", []).append(number)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as tmp:
        order = list(articles.values())
        for numbers in order:
            text = "\n\n".join(rows[n - 1]["sentence_normalized"] for n in numbers)
            tmp.write(json.dumps({"text": text}) + "\n")
        tmp.flush()
        out = subprocess.run(
            [stance_bin, "mentions", "--field", "text", "--actors", ",".join(ACTORS.values()), tmp.name],
            capture_output=True, text=True, check=True,
        ).stdout
    by_article = collections.defaultdict(list)
    for line in out.splitlines():
        row = json.loads(line)
        by_article[int(row["source"].rsplit(":", 1)[1])].append(row)
    found = {}
    for index, numbers in enumerate(order, 1):
        for number in numbers:
            # The splitter may cut a row into several sentences: take every piece inside it.
            sentence = rows[number - 1]["sentence_normalized"]
            found[number] = {t["actor"] for r in by_article[index] if r["sentence_normalized"] in sentence
                             for t in r["targets"]}
    return found


def compare(path, found):
    hits = missed = extra = 0
    missed_mentions = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            row = json.loads(line)
            gold = {ACTORS[t["actor"]]: t["mention"] for t in row["targets"] if t["actor"] in ACTORS}
            got = found.get(number, set())
            hits += len(gold.keys() & got)
            missed += len(gold.keys() - got)
            extra += len(got - gold.keys())
            missed_mentions.update(gold[a] for a in gold.keys() - got)
    return hits, missed, extra, missed_mentions


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--articles", action="store_true", help="read each article's rows as one document")
    p.add_argument("--stance", default=str(Path(__file__).resolve().parent.parent / "target/release/stance"))
    args = p.parse_args()
    for path in args.files:
        find = detected_by_article if args.articles else detected
        hits, missed, extra, missed_mentions = compare(path, find(args.stance, path))
        print(f"{Path(path).name}: {hits + missed} annotated pairs, found {hits}, missed {missed}, "
              f"found but not annotated {extra}; recall {hits / (hits + missed):.4f}, "
              f"precision {hits / (hits + extra):.4f}")
        print(f"  most often missed: {missed_mentions.most_common(10)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
