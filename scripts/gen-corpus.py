#!/usr/bin/env python3
"""Generate a synthetic op-ed corpus as JSON Lines, for load, memory and resume tests.

    python3 scripts/gen-corpus.py --size-mb 200 --out /tmp/c200.jsonl
    python3 scripts/gen-corpus.py --size-mb 20 --out /tmp/c20.jsonl

Each line is {"id", "date", "source", "title", "text"}. Documents have 1 to ~80
sentences (a long tail), sentences 4 to ~120 words (a few far longer, to
exercise truncation), about two thirds of them mention one or more of the
built-in actors through their aliases, and dates span 2018-2024 over 40
sources. The text is nonsense with the shape of news; the output is the same
for the same --seed and --size-mb.
"""

import argparse
import json
import random
import sys

ACTORS = {
    "us": ["the United States", "Washington", "the U.S.", "America", "the White House", "the Pentagon", "Biden", "American officials"],
    "china": ["China", "Beijing", "Xi Jinping", "Chinese officials", "the Chinese government", "the PRC"],
    "india": ["India", "New Delhi", "Modi", "Indian diplomats", "the Indian government"],
    "pakistan": ["Pakistan", "Islamabad", "Pakistani officials"],
    "russia": ["Russia", "Moscow", "the Kremlin", "Putin"],
}
VERBS = [
    "warned", "praised", "criticised", "accused", "welcomed", "rebuked", "courted", "ignored", "reassured",
    "threatened", "thanked", "lectured", "defended", "undermined", "supported", "blamed",
]
OBJECTS = [
    "its neighbours", "the trade deal", "the climate agreement", "the border talks", "foreign investors",
    "the United Nations", "its allies", "the summit", "the sanctions regime", "the shipping lanes",
]
CLAUSES = [
    "over the disputed frontier", "after months of quiet diplomacy", "despite mounting pressure at home",
    "in a statement on Tuesday", "according to people familiar with the talks", "for the third time this year",
    "while markets watched nervously", "as analysts had predicted", "in a rare public rebuke",
    "with little to show for it", "on the sidelines of the summit", "before the vote in parliament",
]
FILLER = [
    "The weather was mild and the markets were calm.", "Nobody expects a quick resolution.",
    "Critics called the plan vague.", "The minister did not answer questions.", "Prices rose again in March.",
    "The report runs to four hundred pages.", "Turnout was lower than expected.",
]
SOURCES = [f"{a} {b}" for a in ["Daily", "Weekly", "Morning", "Evening", "Global"] for b in ["Herald", "Times", "Post", "Ledger", "Review", "Tribune", "Courier", "Observer"]]


def mention(rng):
    actor = rng.choice(list(ACTORS))
    return rng.choice(ACTORS[actor])


def sentence(rng):
    if rng.random() < 0.33:
        return rng.choice(FILLER)
    subject = mention(rng)
    obj = mention(rng) if rng.random() < 0.4 else rng.choice(OBJECTS)
    words = [subject, rng.choice(VERBS), obj]
    # Sentence length: mostly short, a long tail, and rarely very long (beyond the model's input).
    extra = min(int(rng.expovariate(1 / 1.5)), 12)
    if rng.random() < 0.002:
        extra = 60
    words += [rng.choice(CLAUSES) for _ in range(extra)]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def document(rng, index):
    n = max(1, min(int(rng.lognormvariate(2.0, 0.8)), 80))
    return {
        "id": f"doc-{index:08d}",
        "date": f"{rng.randint(2018, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "source": rng.choice(SOURCES),
        "title": f"{mention(rng)} and the {rng.choice(OBJECTS).split()[-1]}",
        "text": " ".join(sentence(rng) for _ in range(n)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=float, required=True, help="target size in MB (10^6 bytes)")
    parser.add_argument("--out", required=True, help="output .jsonl path, or - for stdout")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    target = int(args.size_mb * 1_000_000)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    written, index = 0, 0
    with out:
        while written < target:
            line = json.dumps(document(rng, index), ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            index += 1
    print(f"{index} documents, {written} bytes -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
