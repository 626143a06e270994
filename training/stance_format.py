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
The text itself never yields a control token: each string of an added token ("[TGT]", "[SEP]",
"<s>", ...) that opens with ASCII punctuation gets a space after that character first ("[ TGT]"),
found case-blind, longest first; that changes no token of the text read as words.

With a tokenizer that also holds the "other" markers (make_tokenizer.py --other-markers), step 1
also wraps the mentions of the sentence's *other* annotated actors: "... [OTH]Islamabad[/OTH] ...",
so the model sees which words belong to someone else. Such a bundle's input_format names them
(`other_open`, `other_close`); without them the format is the plain one above.

A format with `context_tokens` N > 0 (train.py --context-tokens N) appends the sentence before
the pair's sentence in its document as a third part: [CLS] A [SEP] B [SEP] C [SEP], token type 1
for C. C is the *end* of that sentence (the words next to the pair's sentence), at most N tokens
and at most what A and B leave of `max_length`; with no sentence before (a document's first, or
data without context) the format is the plain one. A and B are encoded as without context, so a
window of A never shrinks for the context's sake.
"""
import hashlib
import json
import re
import string
from pathlib import Path

MARKER_OPEN = "[TGT]"
MARKER_CLOSE = "[/TGT]"
OTHER_OPEN = "[OTH]"
OTHER_CLOSE = "[/OTH]"
MAX_LENGTH = 128
MAX_TARGET_TOKENS = 16
LABELS = ["unfavorable", "neutral", "favorable"]
POLARITY_TO_LABEL = {2.0: 0, 4.0: 1, 6.0: 2}


def input_format(other_markers=False, context_tokens=0):
    """The `input_format` object recorded in a bundle's config.json."""
    fmt = {
        "kind": "marked_pair",
        "marker_open": MARKER_OPEN,
        "marker_close": MARKER_CLOSE,
        "max_length": MAX_LENGTH,
        "max_target_tokens": MAX_TARGET_TOKENS,
    }
    if other_markers:
        fmt.update(other_open=OTHER_OPEN, other_close=OTHER_CLOSE)
    if context_tokens:
        fmt.update(context_tokens=context_tokens)
    return fmt


def input_format_of(tokenizer, context_tokens=0):
    """The input format a bundle tokenizer was made for: the other-actor markers are used iff
    its vocabulary holds them."""
    return input_format(other_markers=tokenizer.token_to_id(OTHER_OPEN) is not None, context_tokens=context_tokens)


def mark(sentence, spans, others=(), other_markers=(OTHER_OPEN, OTHER_CLOSE), specials=None):
    """Insert the target markers around each (start, end) char span of `spans` and the other
    markers around those of `others`; all sorted and non-overlapping together. With `specials`
    (specials_pattern), the sentence's own text is defused around the markers."""
    tagged = [(s, e, MARKER_OPEN, MARKER_CLOSE) for s, e in spans]
    tagged += [(s, e, *other_markers) for s, e in others]
    out, pos = [], 0
    for start, end, open_marker, close_marker in sorted(tagged):
        out += [defuse(sentence[pos:start], specials), open_marker, defuse(sentence[start:end], specials),
                close_marker]
        pos = end
    out.append(defuse(sentence[pos:], specials))
    return "".join(out)


def specials_pattern(tokenizer):
    """A regex finding the added tokens' strings that `defuse` breaks up (None if there are none)."""
    strings = sorted({t.content for t in tokenizer.get_added_tokens_decoder().values()
                      if len(t.content) > 1 and t.content[0] in string.punctuation})
    if not strings:
        return None
    # Longest first, so that of two strings found at one place the longer is taken (as the
    # Rust side's leftmost-longest search does); ASCII-only case folding, as there.
    alternatives = sorted(strings, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in alternatives), re.IGNORECASE | re.ASCII)


def defuse(text, pattern):
    """`text` with a space after the first character of each special string in it."""
    if pattern is None:
        return text
    return pattern.sub(lambda m: m.group(0)[0] + " " + m.group(0)[1:], text)


def clean_spans(spans):
    """Sort, drop empty and overlapping spans (the first of two overlapping wins)."""
    kept = []
    for start, end in sorted(set(spans)):
        if end <= start or (kept and start < kept[-1][1]):
            continue
        kept.append((start, end))
    return kept


def clean_others(others, spans):
    """The other actors' spans that overlap neither the target's (clean) spans nor each other."""
    return [o for o in clean_spans(others) if not any(o[0] < e and s < o[1] for s, e in spans)]


class Encoder:
    """Encodes (sentence, target spans) pairs with a tokenizers.Tokenizer."""

    def __init__(self, tokenizer, fmt=None):
        fmt = fmt or input_format_of(tokenizer)
        self.tok = tokenizer
        self.other_markers = (fmt["other_open"], fmt["other_close"]) if "other_open" in fmt else None
        self.max_length = fmt["max_length"]
        self.max_target_tokens = fmt["max_target_tokens"]
        self.context_tokens = fmt.get("context_tokens", 0)
        self.open_id = tokenizer.token_to_id(fmt["marker_open"])
        # MPNet (the teacher) says <s>/</s>; its vocabulary also holds BERT's unused
        # [CLS]/[SEP], so <s> is looked up first. MiniLM's WordPiece says [CLS]/[SEP].
        self.cls_id = _first_id(tokenizer, "<s>", "[CLS]")
        self.sep_id = _first_id(tokenizer, "</s>", "[SEP]")
        # Not part of the encoding: the id input_ids are right-padded with (training, ONNX
        # checks, the bundle's tokens.pad). MPNet's vocabulary also has BERT's [PAD] (4), but
        # its position ids count the tokens that are not <pad> (1), so <pad> comes first.
        self.pad_id = _first_id(tokenizer, "<pad>", "[PAD]")
        self.specials = specials_pattern(tokenizer)
        assert None not in (self.open_id, self.cls_id, self.sep_id, self.pad_id), "tokenizer lacks markers"

    def encode(self, sentence, spans, others=(), context=""):
        """Ids and token types of one pair; `others` (the spans of the sentence's other actors)
        are marked only by a format that has the other markers, `context` (the sentence before)
        is read only by a format with `context_tokens`."""
        spans = clean_spans(spans)
        start, end = spans[0]
        if self.other_markers:
            marked = mark(sentence, spans, clean_others(others, spans), self.other_markers, self.specials)
        else:
            marked = mark(sentence, spans, specials=self.specials)
        a = self.tok.encode(marked, add_special_tokens=False).ids
        b = self.tok.encode(defuse(sentence[start:end], self.specials), add_special_tokens=False).ids
        b = b[: self.max_target_tokens]
        budget = self.max_length - 3 - len(b)
        if len(a) > budget:
            first = a.index(self.open_id) if self.open_id in a else 0
            begin = max(0, min(first - budget // 4, len(a) - budget))
            a = a[begin : begin + budget]
        ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
        types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        room = min(self.context_tokens, self.max_length - len(ids) - 1)
        c = (self.tok.encode(defuse(context, self.specials), add_special_tokens=False).ids[-room:]
             if context and room > 0 else [])
        if c:
            ids += c + [self.sep_id]
            types += [1] * (len(c) + 1)
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
            spans_of = [target_spans(t) for t in row["targets"]]
            for k, t in enumerate(row["targets"]):
                label = POLARITY_TO_LABEL[float(t["polarity"])]
                others = [s for j, spans in enumerate(spans_of) if j != k for s in spans]
                meta = {"line": line_no, "gid": t.get("Input.gid"), "confidence": t.get("confidence"),
                        "article": article_of(row), "actor": t.get("actor") or t.get("mention"),
                        "others": others, "context": row.get("context_before") or ""}
                yield sentence, spans_of[k], label, meta


def target_spans(target):
    """The (start, end) spans of a target's first and further mentions."""
    return [(target["from"], target["to"])] + [(m["from"], m["to"]) for m in target.get("further_mentions") or []]


# The natural-distribution op-ed data (every actor sentence of each article), under the data dir.
NATURAL = "opeds/natural.jsonl"

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


def read_soft_labels(path):
    """The rows of a teacher_logits.py output file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]
