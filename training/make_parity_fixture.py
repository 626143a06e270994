"""Write tests/data/encoding_parity.jsonl: hand-written cases encoded by stance_format.Encoder.

The Rust encoder (src/encode.rs) must produce exactly these input_ids and
token_type_ids from the same sentence and spans. Spans are [from, to) offsets
in Unicode code points (Python string indices), like NewsMTSC's `from`/`to`:
not bytes and not UTF-16 units, which matters for the accented, emoji and CJK
cases below. Some cases pass spans unsorted, duplicated or overlapping on
purpose: the encoder cleans them (clean_spans) before marking.

    python make_parity_fixture.py            # -> ../tests/data/encoding_parity.jsonl
    python make_parity_fixture.py --tokenizer ../tests/data/tiny-model-two-inputs/tokenizer.json \
        --out ../tests/data/encoding_parity_mpnet.jsonl   # MPNet's tokenizer: <s> A </s> B </s>
    python make_parity_fixture.py --other-markers --out ../tests/data/encoding_parity_others.jsonl
    python make_parity_fixture.py --context-tokens 48 --out ../tests/data/encoding_parity_context.jsonl

With --other-markers the tokenizer gets [OTH]/[/OTH] added (as make_tokenizer.py --other-markers
adds them) and the cases are OTHER_CASES: each pair also has the spans of the sentence's other
actors (`others`), which the format wraps in those markers. With --context-tokens N the format
reads the sentence before (`context`) as a third part, and the cases are CONTEXT_CASES.
"""
import argparse
import json
from pathlib import Path

from tokenizers import AddedToken

from stance_format import OTHER_CLOSE, OTHER_OPEN, Encoder, clean_spans, input_format_of, load_tokenizer
from stance_model import DEFAULT_TOKENIZER, TRAINING_DIR

DEFAULT_OUT = TRAINING_DIR.parent / "tests" / "data" / "encoding_parity.jsonl"

LONG_PREFIX = (
    "Over the past decade, as supply chains were rerouted, tariffs were raised and lowered and raised again, "
    "ministers met in one glittering capital after another, think tanks published report after report on "
    "resilience, de-risking, friend-shoring and strategic autonomy, and commentators on every continent "
    "declared the end of globalisation at least twice a year, the one constant in the region's economic "
    "story, whether measured by port traffic, by foreign direct investment or by the sheer number of "
    "factories that opened along the coast, and whether the story was told by bankers in air-conditioned "
    "towers, by farmers watching the price of fertiliser double, or by diplomats who spent their evenings "
    "drafting communiqués that nobody would read, "
)

# (name, sentence, mentions): a mention is a substring (all its occurrences), a
# (substring, k) pair (its k-th occurrence, from 0) or an explicit [from, to] span.
CASES = [
    ("one_mention_start", "China has quietly become the largest creditor in the developing world.", ["China"]),
    ("one_mention_end", "The only winner of this long and pointless standoff is Russia.", ["Russia"]),
    ("mention_is_whole_sentence", "India", ["India"]),
    ("several_mentions",
     "Washington talks about a rules-based order, yet Washington bends those rules whenever it suits Washington.",
     ["Washington"]),
    ("two_aliases", "Beijing insists that China seeks no hegemony, but its neighbours are not convinced.",
     ["Beijing", "China"]),
    ("possessive_outside_span", "America's allies are tired of being lectured about burden sharing.", [("America", 0)]),
    ("possessive_inside_span", "Pakistan's army chief promised stability and delivered another crisis.", ["Pakistan's"]),
    ("curly_quotes", "\u201cBeijing\u2019s patience is not infinite,\u201d the editorial warned, \u201cand "
                     "neither is Tokyo\u2019s.\u201d", ["Tokyo"]),
    ("accents", "Critics in Brasília and Bogotá say Washington only remembers Latin America at election time.",
     ["Brasília"]),
    ("accent_in_target_text", "The Côte d'Ivoire delegation walked out, and Côte d'Ivoire won the argument.",
     ["Côte d'Ivoire"]),
    ("emoji", "Pakistan \U0001F1F5\U0001F1F0 celebrated the deal as a triumph \U0001F389, while commentators in "
              "India merely shrugged \U0001F937.", ["India"]),
    ("emoji_before_target", "\U0001F6A8 Breaking: Iran rejects the proposal outright.", ["Iran"]),
    ("cjk", "Xi Jinping (\u4e60\u8fd1\u5e73) reminded cadres that China will never bow to pressure.", ["China"]),
    ("abbreviation_with_dots", "The U.S.-brokered ceasefire held for a week before the U.S. lost interest.",
     [("U.S.", 0), ("U.S.", 1)]),
    ("hyphen_compound", "US-China rivalry now shapes every decision made in Canberra.", ["China"]),
    ("parentheses", "A familiar pattern (blame the West, court Moscow) served the junta well.", ["Moscow"]),
    ("all_caps", "CHINA IS NOT YOUR ENEMY, the headline shouted in letters a foot high.", ["CHINA"]),
    ("whitespace_tabs_newline", "Japan\tremains cautious;  Seoul,\nby contrast, is in a hurry.", ["Seoul"]),
    ("unsorted_duplicate_spans", "Israel says Israel acted alone; few outside Israel believe it.",
     [[44, 50], [0, 6], [12, 18], [0, 6]]),
    ("overlapping_spans", "The Saudi Arabian government denied every report.", [[4, 17], [10, 17], [4, 9]]),
    ("numbers_and_currency", "Sri Lanka owes roughly $7.4bn to bilateral lenders, 52% of it to China.", ["Sri Lanka"]),
    ("long_sentence_target_near_end",
     LONG_PREFIX + "has been that Vietnam kept building while everyone else kept talking.", ["Vietnam"]),
    ("long_sentence_target_at_start",
     "Bangladesh, " + LONG_PREFIX + "kept exporting garments regardless.", ["Bangladesh"]),
    ("long_sentence_target_in_middle",
     LONG_PREFIX + "was Indonesia, which " + LONG_PREFIX.lower() + "simply kept growing.", ["Indonesia"]),
    ("long_target_text",
     "Yesterday the Ministry of Foreign Affairs, Foreign Employment and International Cooperation of "
     "the Democratic Socialist Republic of Sri Lanka issued a statement that satisfied nobody.",
     ["Ministry of Foreign Affairs, Foreign Employment and International Cooperation of the Democratic "
      "Socialist Republic of Sri Lanka"]),
    ("long_sentence_and_long_target",
     LONG_PREFIX + "was the stubborn optimism of the Ministry of Foreign Affairs and International Cooperation "
     "of the Democratic Socialist Republic of Sri Lanka.",
     ["Ministry of Foreign Affairs and International Cooperation of the Democratic Socialist Republic of Sri Lanka"]),
    # Control tokens spelled in the text are read as words: no marker, separator or CLS of the text's own.
    ("special_token_strings_in_text",
     "Typing [TGT] or [sep] or <s> or [[MASK]] next to China [/TGT] changes nothing, <UNK> aside.", ["China"]),
    # A marker spelled first must not anchor the window the model reads: the target stays in view.
    ("long_sentence_quoting_a_marker_first", "[TGT] " + LONG_PREFIX + "was that Cambodia kept building.",
     ["Cambodia"]),
]

# (name, sentence, target mentions, other actors' mentions), mentions as in CASES.
OTHER_CASES = [
    ("other_after_target", "China backed the plan, while India stayed silent.", ["China"], ["India"]),
    ("other_before_target", "India stayed silent while China backed the plan.", ["China"], ["India"]),
    ("others_around_target", "Delhi and Washington both blamed Beijing, and Delhi said so twice.",
     ["Beijing"], ["Delhi", "Washington"]),
    ("other_overlapping_target_is_dropped", "US-China rivalry now shapes every decision made in Canberra.",
     ["US-China"], ["China", "Canberra"]),
    ("unsorted_duplicate_others", "Pakistan blamed India for the attack, while the US urged restraint.",
     ["India"], [[48, 50], [0, 8], [48, 50], [0, 3]]),
    ("empty_other_span", "Russia.", ["Russia"], [[3, 3]]),
    ("no_others", "Japan, long cautious, is now rearming.", ["Japan"], []),
    ("others_with_accents_and_emoji", "Brasília \U0001F1E7\U0001F1F7 and Bogotá say Washington only remembers "
     "Latin America at election time.", ["Washington"], ["Brasília", "Bogotá"]),
    ("other_cut_by_the_window",
     "Bangladesh, " + LONG_PREFIX + "kept exporting garments to Vietnam regardless.", ["Bangladesh"], ["Vietnam"]),
    ("other_before_the_window",
     "Myanmar watched as " + LONG_PREFIX + "was Indonesia, which simply kept growing.", ["Indonesia"], ["Myanmar"]),
]

# (name, sentence, target mentions, the sentence before), mentions as in CASES.
CONTEXT_CASES = [
    ("short_context", "China backed the plan.", ["China"], "The summit had stalled for two days."),
    ("context_spelling_control_tokens", "China backed the plan.", ["China"], "He wrote [SEP] and [CLS] in [TGT]."),
    ("no_context", "China backed the plan.", ["China"], ""),
    ("whitespace_context", "China backed the plan.", ["China"], "  \n "),
    ("context_longer_than_n", "Washington said nothing.", ["Washington"], LONG_PREFIX + "and then it ended."),
    ("context_with_accents_emoji_cjk", "Tokyo, by contrast, is in a hurry.", ["Tokyo"],
     "Critics in Brasília \U0001F1E7\U0001F1F7 and Bogotá cheered Xi Jinping (\u4e60\u8fd1\u5e73) loudly."),
    ("sentence_fills_the_input", LONG_PREFIX + "has been that Vietnam kept building.", ["Vietnam"],
     "Nobody saw it coming."),
    ("sentence_leaves_little_room", LONG_PREFIX[:480] + " and so India waited.", ["India"], LONG_PREFIX),
    ("very_long_context", "Washington said nothing.", ["Washington"], LONG_PREFIX * 30 + "and then it ended."),
    ("long_context_without_spaces_in_little_room", LONG_PREFIX[:480] + " and so India waited.", ["India"],
     "\u4e2d" * 4000 + " x"),
    ("form_feed_in_long_context", LONG_PREFIX[:480] + " and so India waited.", ["India"],
     ("word\x0c" * 3000) + "end"),
    ("context_with_markers_text", "Russia refused.", ["Russia"], "The envoy wrote [TGT] in the memo, oddly."),
    ("long_target_and_context", "The Democratic Socialist Republic of Sri Lanka and its creditors met again.",
     ["Democratic Socialist Republic of Sri Lanka"], "Talks had collapsed twice before."),
]


def find_spans(sentence, mentions):
    spans = []
    for m in mentions:
        if isinstance(m, list):
            spans.append(m)
            continue
        text, nth = (m, None) if isinstance(m, str) else m
        found, pos = [], sentence.find(text)
        while pos >= 0:
            found.append([pos, pos + len(text)])
            pos = sentence.find(text, pos + 1)
        assert found, f"{text!r} not in {sentence!r}"
        spans += found if nth is None else [found[nth]]
    return spans


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", default=str(DEFAULT_TOKENIZER))
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--other-markers", action="store_true", help="OTHER_CASES, with [OTH]/[/OTH] added")
    p.add_argument("--context-tokens", type=int, default=0, help="CONTEXT_CASES, the sentence before read")
    args = p.parse_args(argv)
    tok = load_tokenizer(args.tokenizer)
    cases = [(name, sentence, mentions, [], "") for name, sentence, mentions in CASES]
    if args.other_markers:
        tok.add_special_tokens([AddedToken(OTHER_OPEN, normalized=False), AddedToken(OTHER_CLOSE, normalized=False)])
        cases = [(*case, "") for case in OTHER_CASES]
    if args.context_tokens:
        cases = [(name, sentence, mentions, [], context) for name, sentence, mentions, context in CONTEXT_CASES]
    encoder = Encoder(tok, input_format_of(tok, args.context_tokens))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    stats = {"truncated": 0, "target_cut": 0}
    with open(args.out, "w", encoding="utf-8") as f:
        for name, sentence, mentions, other_mentions, context in cases:
            spans = find_spans(sentence, mentions)
            others = find_spans(sentence, other_mentions)
            ids, types = encoder.encode(sentence, [tuple(s) for s in spans], [tuple(s) for s in others], context)
            first = clean_spans([tuple(s) for s in spans])[0]
            if len(tok.encode(sentence, add_special_tokens=False).ids) + 3 > encoder.max_length:
                stats["truncated"] += 1
            if len(tok.encode(sentence[first[0]:first[1]], add_special_tokens=False).ids) > encoder.max_target_tokens:
                stats["target_cut"] += 1
            row = {"name": name, "sentence": sentence, "spans": spans, "input_ids": ids, "token_type_ids": types}
            if args.other_markers:
                row["others"] = others
            if args.context_tokens:
                row["context"] = context
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {len(cases)} cases, {stats['truncated']} longer than max_length, "
          f"{stats['target_cut']} with the target cut to {encoder.max_target_tokens} tokens")


if __name__ == "__main__":
    main()
