"""The model input format, defined once and shared with the Rust library.

The Rust side (`src/encode.rs`) implements exactly the same steps; the parity
fixture `tests/data/encoding_parity.jsonl` (made by `make_parity_fixture.py`)
proves both produce the same token ids.

Format "marked_pair":
  1. Wrap every mention of the target in the sentence with the marker tokens:
     "... [TGT]Beijing[/TGT] has been ..." (no extra spaces).
  2. Segment A = the marked sentence, segment B = the text of the first mention.
  3. Tokenize both without special tokens; B is cut to `max_target_tokens`.
  4. If A is too long for `max_length`, keep a window of A that starts a quarter
     of the budget before the first opening marker (so the target stays in view).
  5. input_ids = [CLS] A [SEP] B [SEP]; token_type_ids 0 for [CLS] A [SEP], 1 after.
"""
import hashlib
import json
from pathlib import Path

MARKER_OPEN = "[TGT]"
MARKER_CLOSE = "[/TGT]"
MAX_LENGTH = 128
MAX_TARGET_TOKENS = 16
LABELS = ["unfavorable", "neutral", "favorable"]
POLARITY_TO_LABEL = {2.0: 0, 4.0: 1, 6.0: 2}


def input_format():
    """The `input_format` object recorded in a bundle's config.json."""
    return {
        "kind": "marked_pair",
        "marker_open": MARKER_OPEN,
        "marker_close": MARKER_CLOSE,
        "max_length": MAX_LENGTH,
        "max_target_tokens": MAX_TARGET_TOKENS,
    }


def mark(sentence, spans):
    """Insert markers around each (start, end) char span; spans sorted, non-overlapping."""
    out, pos = [], 0
    for start, end in spans:
        out += [sentence[pos:start], MARKER_OPEN, sentence[start:end], MARKER_CLOSE]
        pos = end
    out.append(sentence[pos:])
    return "".join(out)


def clean_spans(spans):
    """Sort, drop empty and overlapping spans (the first of two overlapping wins)."""
    kept = []
    for start, end in sorted(set(spans)):
        if end <= start or (kept and start < kept[-1][1]):
            continue
        kept.append((start, end))
    return kept


class Encoder:
    """Encodes (sentence, target spans) pairs with a tokenizers.Tokenizer."""

    def __init__(self, tokenizer, fmt=None):
        fmt = fmt or input_format()
        self.tok = tokenizer
        self.max_length = fmt["max_length"]
        self.max_target_tokens = fmt["max_target_tokens"]
        self.open_id = tokenizer.token_to_id(fmt["marker_open"])
        # MPNet (the teacher) says <s>/</s>; its vocabulary also holds BERT's unused
        # [CLS]/[SEP], so <s> is looked up first. MiniLM's WordPiece says [CLS]/[SEP].
        self.cls_id = _first_id(tokenizer, "<s>", "[CLS]")
        self.sep_id = _first_id(tokenizer, "</s>", "[SEP]")
        # Not part of the encoding: the id input_ids are right-padded with (training, ONNX
        # checks, the bundle's tokens.pad). MPNet's vocabulary also has BERT's [PAD] (4), but
        # its position ids count the tokens that are not <pad> (1), so <pad> comes first.
        self.pad_id = _first_id(tokenizer, "<pad>", "[PAD]")
        assert None not in (self.open_id, self.cls_id, self.sep_id, self.pad_id), "tokenizer lacks markers"

    def encode(self, sentence, spans):
        spans = clean_spans(spans)
        start, end = spans[0]
        a = self.tok.encode(mark(sentence, spans), add_special_tokens=False).ids
        b = self.tok.encode(sentence[start:end], add_special_tokens=False).ids
        b = b[: self.max_target_tokens]
        budget = self.max_length - 3 - len(b)
        if len(a) > budget:
            first = a.index(self.open_id) if self.open_id in a else 0
            begin = max(0, min(first - budget // 4, len(a) - budget))
            a = a[begin : begin + budget]
        ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
        types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        return ids, types


def _first_id(tokenizer, *tokens):
    """The id of the first of `tokens` the vocabulary has (None if none)."""
    for token in tokens:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return None


def read_examples(path):
    """Yield (sentence, spans, label, meta) from a NewsMTSC-format JSONL file."""
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            sentence = row["sentence_normalized"]
            for t in row["targets"]:
                spans = [(t["from"], t["to"])]
                spans += [(m["from"], m["to"]) for m in t.get("further_mentions") or []]
                label = POLARITY_TO_LABEL[float(t["polarity"])]
                meta = {"line": line_no, "gid": t.get("Input.gid"), "confidence": t.get("confidence"),
                        "article": article_of(row), "actor": t.get("actor") or t.get("mention")}
                yield sentence, spans, label, meta


# Dev-split name of a held-out fold of opeds/natural.jsonl: natural_f0 ... natural_f4. Such a
# split is reported next to the dev splits but never chooses anything.
HELD_OUT_PREFIX = "natural_f"


def article_of(row):
    """The article a NewsMTSC-format row comes from: its `source_url`, else its `primary_gid`."""
    return row.get("source_url") or row.get("primary_gid")


def article_fold(article, folds):
    """The cross-validation fold (0 .. folds-1) of an article: a stable hash of its key, so every
    sentence of one article lands in the same fold, on every machine and in every run."""
    digest = hashlib.sha256((article or "").encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % folds


def load_tokenizer(path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(Path(path)))
