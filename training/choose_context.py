"""Choose a bundle's document-context weight by cross-validation over held-out folds.

The library reads each sentence in its document (src/context.rs): a pair's
log-probabilities get `weight x` the mean log-probabilities of the same actor in
the document's other sentences. How much weight helps depends on the model: one
that reads single sentences less surely gains from more of its document. This
script measures each weight of a grid with `stance eval --document-context W`
on folds of the op-ed natural data that the models scoring them never trained
on, one (bundle, fold) pair per `--fold`, and

- chooses the weight with the best mean macro-F1 over the parts (ties: the
  smaller weight);
- reports, for each part, the weight chosen on the *other* parts and what it
  scores there: the estimate of what the choice is worth on unseen articles.

With one fold its articles are split into two halves by a hash of the article,
and each half is a part (cross-fitting). `--write CONFIG` records the choice in a
bundle's config.json (`document_context`, and how it was chosen under
`training.document_context`) and, when the bundle has a MODEL_CARD.md, a
"Document context" section in it.

    python choose_context.py --stance ../target/release/stance \\
        --fold ../models/stance-mini:runs/folds/natural_f0.jsonl \\
        --fold runs/natkd2-f1/bundle:runs/folds/natural_f1.jsonl \\
        --write ../models/stance-mini/config.json
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tiers import with_section

DEFAULT_GRID = "0,0.25,0.5,0.75,1,1.25"


def article_of(row: dict) -> str:
    """The article a row belongs to, as `stance eval` groups them."""
    return row.get("source_url") or row.get("primary_gid") or ""


def half_of(article: str) -> int:
    return int(hashlib.sha256(article.encode()).hexdigest(), 16) % 2


def split_halves(data: Path, out_dir: Path) -> list[Path]:
    """Writes the rows of `data` into two files, one per half of its articles."""
    paths = [out_dir / f"{data.stem}_half{h}.jsonl" for h in (0, 1)]
    files = [p.open("w") for p in paths]
    for line in data.open():
        if line.strip():
            files[half_of(article_of(json.loads(line)))].write(line)
    for f in files:
        f.close()
    return paths


def macro_f1(stance: str, bundle: str, data: Path, weight: float, threads: int) -> float:
    command = [stance, "eval", "--model", bundle, "--data", str(data),
               "--document-context", str(weight), "--threads", str(threads)]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    output = json.loads(result.stdout.strip().splitlines()[-1])
    if abs(output["document_context"] - weight) > 1e-6:
        sys.exit(f"{' '.join(command)} read with weight {output['document_context']}, not {weight}")
    return output["f1_macro"]


def best_weight(scores: dict[str, dict[float, float]], parts: list[str], grid: list[float]) -> float:
    """The weight with the best mean macro-F1 over `parts`; ties go to the smaller weight."""
    return max(grid, key=lambda w: (sum(scores[p][w] for p in parts) / len(parts), -w))


def mean_of(values: list[float]) -> float:
    return round(sum(values) / len(values), 4)


def choose(scores: dict[str, dict[float, float]], grid: list[float]) -> dict:
    parts = list(scores)
    chosen = best_weight(scores, parts, grid)
    held_out = {}
    for part in parts:
        others = [p for p in parts if p != part]
        w = best_weight(scores, others, grid)
        held_out[part] = {"weight_chosen_on_the_others": w, "macro_f1": round(scores[part][w], 4),
                          "macro_f1_alone": round(scores[part][0.0], 4)}
    return {
        "weight": chosen,
        "grid": grid,
        "macro_f1": {p: {str(w): round(f, 4) for w, f in s.items()} for p, s in scores.items()},
        "held_out": held_out,
        "held_out_mean": mean_of([h["macro_f1"] for h in held_out.values()]),
        "held_out_mean_alone": mean_of([h["macro_f1_alone"] for h in held_out.values()]),
    }


def write_config(path: Path, report: dict, command: str) -> None:
    config = json.loads(path.read_text())
    config["document_context"] = report["weight"]
    config.setdefault("training", {})["document_context"] = {
        "command": command,
        "held_out": report["held_out"],
        "held_out_mean": report["held_out_mean"],
        "held_out_mean_alone": report["held_out_mean_alone"],
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    card = path.parent / "MODEL_CARD.md"
    if card.exists():
        card.write_text(with_section(card.read_text(), CARD_HEADING, card_section(report, command), CARD_BEFORE))


CARD_HEADING = "## Document context"
CARD_BEFORE = "## Dev metrics"


def card_section(report: dict, command: str) -> str:
    """The model card's account of the weight: what was chosen, how, and what each part scored."""
    lines = [
        CARD_HEADING,
        "",
        "The library reads each sentence in its document: a pair's log-probabilities get this weight times",
        "the mean log-probabilities of the same actor in the document's other sentences (README, \"Reading a",
        f"sentence in its document\"). This bundle's weight, `document_context` in config.json, is **{report['weight']:g}**,",
        "chosen by cross-validation on op-ed articles of the natural distribution that the models scoring",
        f"them never trained on: `{command}` (from training/). Each part at the weight the other parts chose:",
        "",
        "| held-out part | macro-F1 alone | in context | weight chosen on the others |",
        "| --- | --- | --- | --- |",
    ]
    for part, h in report["held_out"].items():
        lines.append(f"| {part} | {h['macro_f1_alone']:.3f} | {h['macro_f1']:.3f} | {h['weight_chosen_on_the_others']:g} |")
    lines.append(f"| mean | {report['held_out_mean_alone']:.3f} | {report['held_out_mean']:.3f} | |")
    return "\n".join(lines) + "\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stance", default="../target/release/stance", help="the stance binary")
    parser.add_argument("--fold", action="append", required=True, metavar="BUNDLE:DATA",
                        help="a bundle and a fold of data it never trained on (repeat per fold)")
    parser.add_argument("--grid", default=DEFAULT_GRID, help=f"weights to try (default {DEFAULT_GRID})")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", type=Path, metavar="CONFIG", help="record the choice in this config.json")
    parser.add_argument("--out", type=Path, help="also write the report here")
    args = parser.parse_args()
    grid = sorted({float(w) for w in args.grid.split(",")} | {0.0})
    folds = [tuple(f.rsplit(":", 1)) for f in args.fold]
    if any(len(f) != 2 for f in folds):
        sys.exit("--fold takes BUNDLE:DATA")
    with tempfile.TemporaryDirectory() as tmp:
        parts = {}
        if len(folds) == 1:
            bundle, data = folds[0]
            for h, path in enumerate(split_halves(Path(data), Path(tmp))):
                parts[f"{data} half {h}"] = (bundle, path)
        else:
            parts = {data: (bundle, Path(data)) for bundle, data in folds}
        scores = {}
        for name, (bundle, data) in parts.items():
            scores[name] = {w: macro_f1(args.stance, bundle, data, w, args.threads) for w in grid}
            print(name, " ".join(f"{w:g}:{f:.4f}" for w, f in scores[name].items()), file=sys.stderr)
    report = choose(scores, grid)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.write:
        write_config(args.write, report, "python choose_context.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
