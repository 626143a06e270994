"""Write a bundle tokenizer: the backbone's WordPiece plus the two target markers.

    python make_tokenizer.py OUT.json               # all-MiniLM-L6-v2 (markers 30522/30523)
    python make_tokenizer.py OUT.json --backbone mpnet   # the all-mpnet-base-v2 teacher (30527/30528)

The markers are added as special tokens, so they are never split or lower-cased;
truncation and padding are removed because the input format (stance_format.py)
does both itself.
"""
import argparse
from pathlib import Path

from tokenizers import AddedToken, Tokenizer

from stance_format import MARKER_CLOSE, MARKER_OPEN
from stance_model import backbone_dir


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="../models/stance-mini/tokenizer.json")
    p.add_argument("--backbone", choices=("minilm", "mpnet"), default="minilm")
    args = p.parse_args(argv)
    tok = Tokenizer.from_file(str(backbone_dir(args.backbone) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    tok.add_special_tokens([AddedToken(MARKER_OPEN, normalized=False), AddedToken(MARKER_CLOSE, normalized=False)])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(args.out))
    print(f"wrote {args.out}: vocab {tok.get_vocab_size()}, markers {tok.token_to_id(MARKER_OPEN)}/{tok.token_to_id(MARKER_CLOSE)}")


if __name__ == "__main__":
    main()
