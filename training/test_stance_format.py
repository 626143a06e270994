"""The context part of the input format (stance_format.Encoder with `context_tokens`).

    cd training && python -m pytest test_stance_format.py      # needs requirements.txt + pytest

Uses the shipped stance-mini tokenizer. The plain format must be what it was (a context-reading
format adds a third part and changes nothing before it), the third part is the *end* of the
sentence before, and a pair that fills `max_length` gets no context rather than a shorter window.
"""
from pathlib import Path

from stance_format import Encoder, input_format, load_tokenizer

TOKENIZER = Path(__file__).resolve().parent.parent / "models" / "stance-mini" / "tokenizer.json"
SENTENCE = "However, it cannot compete with the depth of China's involvement in Pakistan."
SPANS = [(SENTENCE.index("China"), SENTENCE.index("China") + len("China"))]
CONTEXT = "The US has offered aid to Islamabad for decades, but its influence has waned badly."


def encoders(context_tokens):
    tok = load_tokenizer(TOKENIZER)
    return tok, Encoder(tok), Encoder(tok, input_format(context_tokens=context_tokens))


def test_context_is_a_third_part_after_the_pair():
    tok, plain, reading = encoders(48)
    ids, types = plain.encode(SENTENCE, SPANS)
    with_ids, with_types = reading.encode(SENTENCE, SPANS, context=CONTEXT)
    context_ids = tok.encode(CONTEXT, add_special_tokens=False).ids
    assert with_ids == ids + context_ids + [plain.sep_id]
    assert with_types == types + [1] * (len(context_ids) + 1)
    assert reading.encode(SENTENCE, SPANS, context="") == (ids, types)
    assert plain.encode(SENTENCE, SPANS, context=CONTEXT) == (ids, types)


def test_context_keeps_the_words_next_to_the_sentence():
    tok, plain, reading = encoders(5)
    ids, _types = plain.encode(SENTENCE, SPANS)
    with_ids, _ = reading.encode(SENTENCE, SPANS, context=CONTEXT)
    assert with_ids[len(ids):-1] == tok.encode(CONTEXT, add_special_tokens=False).ids[-5:]


def test_a_full_pair_gets_no_context():
    _tok, plain, reading = encoders(48)
    long_sentence = "word " * 300 + SENTENCE
    spans = [(s + 1500, e + 1500) for s, e in SPANS]
    assert reading.encode(long_sentence, spans, context=CONTEXT) == plain.encode(long_sentence, spans)
    assert len(plain.encode(long_sentence, spans)[0]) == plain.max_length


def test_the_held_out_check_compares_pairs_without_their_context():
    # train.check_not_held_out compares soft-label rows (no sentence before) with held-out pairs.
    from train import pair_part

    _tok, plain, reading = encoders(48)
    ids, _types = plain.encode(SENTENCE, SPANS)
    assert pair_part(reading.encode(SENTENCE, SPANS, context=CONTEXT)[0], reading.sep_id) == tuple(ids)
    assert pair_part(ids, plain.sep_id) == tuple(ids)
