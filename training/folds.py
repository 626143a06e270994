"""Write the article-grouped folds of an op-ed file, for evaluating a model on one fold.

    python folds.py --out runs/folds                 # runs/folds/natural_f0.jsonl ... natural_f4.jsonl
    python folds.py --file opeds/train.jsonl --folds 5 --out runs/folds

Each output line is an input line unchanged; a line goes to the fold of its
article (stance_format.article_fold: a stable hash of `source_url`, else
`primary_gid`), the same assignment train.py --holdout-fold uses. The folds are
copies of the data: they stay under runs/, which git ignores.
"""
import argparse
import json
from pathlib import Path

from stance_format import article_fold, article_of

# As stance_model.DEFAULT_DATA_DIR, without importing torch.
DEFAULT_DATA_DIR = (Path(__file__).resolve().parent / "../../shared/data").resolve()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--file", default="opeds/natural.jsonl", help="NewsMTSC-format file under the data dir")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--out", required=True, help="output directory")
    args = p.parse_args(argv)

    stem = Path(args.file).stem
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = [open(out / f"{stem}_f{i}.jsonl", "w", encoding="utf-8") for i in range(args.folds)]
    counts = [0] * args.folds
    with open(Path(args.data_dir) / args.file, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            fold = article_fold(article_of(json.loads(line)), args.folds)
            files[fold].write(line if line.endswith("\n") else line + "\n")
            counts[fold] += 1
    for handle in files:
        handle.close()
    print(f"{stem}: sentences per fold {counts} -> {out}")


if __name__ == "__main__":
    main()
