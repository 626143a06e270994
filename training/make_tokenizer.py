"""Write a bundle tokenizer: the backbone's WordPiece plus the two target markers.

    python make_tokenizer.py OUT.json               # all-MiniLM-L6-v2 (markers 30522/30523)
    python make_tokenizer.py OUT.json --backbone mpnet   # the all-mpnet-base-v2 teacher (30527/30528)
    python make_tokenizer.py OUT.json --other-markers    # also [OTH]/[/OTH] for the other actors (30524/30525)

The markers are added as special tokens, so they are never split or lower-cased;
truncation and padding are removed because the input format (stance_format.py)
does both itself.
"""
import argparse
from pathlib import Path

from tokenizers import AddedToken, Tokenizer

from stance_format import MARKER_CLOSE, MARKER_OPEN, OTHER_CLOSE, OTHER_OPEN
from stance_model import backbone_dir


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="../models/stance-mini/tokenizer.json")
    p.add_argument("--backbone", choices=("minilm", "mpnet"), default="minilm")
    p.add_argument("--other-markers", action="store_true",
                   help=f"also add {OTHER_OPEN}/{OTHER_CLOSE}, which wrap the other actors' mentions (stance_format.py)")
    args = p.parse_args(argv)
    tok = Tokenizer.from_file(str(backbone_dir(args.backbone) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    markers = [MARKER_OPEN, MARKER_CLOSE] + ([OTHER_OPEN, OTHER_CLOSE] if args.other_markers else [])
    tok.add_special_tokens([AddedToken(m, normalized=False) for m in markers])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(args.out))
    print(f"wrote {args.out}: vocab {tok.get_vocab_size()}, markers " + "/".join(str(tok.token_to_id(m)) for m in markers))


if __name__ == "__main__":
    main()
