"""More in-domain pairs for distillation: op-ed training sentences about another country.

    python swap_actors.py ../../shared/data/opeds/train.jsonl --out runs/unlabelled/opeds_train_swapped.jsonl

For every labelled target whose mentions are all a country's name, adjective or
capital ("China", "Chinese", "Beijing"), writes the sentence with those mentions
replaced by the same forms of another country ("India", "Indian", "New Delhi"),
chosen with a fixed seed among the countries the sentence does not already name.
Only that target is listed, without a label: the teacher reads the new sentence
and its soft label is what the student learns. The op-ed dev split is never used.

Why: the student's gap to the teacher is widest on op-eds, where the labelled
pairs are few (3,181). The swapped sentences keep the op-eds' wording and
argument structure while changing who is portrayed, so the student sees more of
the domain and cannot lean on a country's name for its stance.

Output: `stance mentions`-shaped JSONL (sentence_normalized, targets with actor,
from, to, mention, further_mentions) plus "origin": "swapped" and the source
sentence's primary_gid, which teacher_logits.py reads with --unlabelled.
"""
import argparse
import json
import random
import re
from pathlib import Path

# name, adjective, capital of each country a swap may bring in.
COUNTRIES = {
    "US": ("America", "American", "Washington"),
    "China": ("China", "Chinese", "Beijing"),
    "India": ("India", "Indian", "New Delhi"),
    "Pakistan": ("Pakistan", "Pakistani", "Islamabad"),
    "Russia": ("Russia", "Russian", "Moscow"),
    "Japan": ("Japan", "Japanese", "Tokyo"),
    "Iran": ("Iran", "Iranian", "Tehran"),
    "Bangladesh": ("Bangladesh", "Bangladeshi", "Dhaka"),
}
# Other surface forms in the data -> (country, form index).
EXTRA_FORMS = {"US": ("US", 0), "U.S.": ("US", 0), "United States": ("US", 0), "USA": ("US", 0),
               "Delhi": ("India", 2)}
US_NOUNS_AFTER_THE = tuple(name for name, form in EXTRA_FORMS.items() if form == ("US", 0))


def surface_forms():
    forms = dict(EXTRA_FORMS)
    for country, names in COUNTRIES.items():
        forms.update({name: (country, index) for index, name in enumerate(names)})
    return forms


FORMS = surface_forms()
MENTIONED = re.compile(r"\b(" + "|".join(re.escape(f) for f in sorted(FORMS, key=len, reverse=True)) + r")(?!\w)")


def countries_named(sentence):
    return {FORMS[m.group(1)][0] for m in MENTIONED.finditer(sentence)}


def target_spans(target):
    spans = [(target["from"], target["to"])] + [(m["from"], m["to"]) for m in target.get("further_mentions", [])]
    return sorted(spans)


def replace_spans(sentence, spans, new_country):
    """The sentence with each span swapped for new_country's form; the new spans, or None if a
    span is not a country form."""
    out, new_spans, at = [], [], 0
    for start, end in spans:
        form = FORMS.get(sentence[start:end])
        if form is None:
            return None
        # "the United States" -> "America", not "the America".
        if sentence[start:end] in US_NOUNS_AFTER_THE and sentence[max(0, start - 4):start].lower() == "the ":
            start -= 4
        out.append(sentence[at:start])
        word = COUNTRIES[new_country][form[1]]
        begin = sum(len(piece) for piece in out)
        out.append(word)
        new_spans.append((begin, begin + len(word)))
        at = end
    out.append(sentence[at:])
    return "".join(out), new_spans


def swapped_rows(rows, seed):
    rng = random.Random(seed)
    for row in rows:
        sentence = row["sentence_normalized"]
        named = countries_named(sentence)
        for target in row["targets"]:
            choices = sorted(set(COUNTRIES) - named - {target.get("actor")})
            if not choices:
                continue
            new_country = rng.choice(choices)
            swapped = replace_spans(sentence, target_spans(target), new_country)
            if swapped is None:
                continue
            text, spans = swapped
            first, *rest = spans
            yield {
                "primary_gid": row.get("primary_gid"), "origin": "swapped",
                "sentence_normalized": text,
                "targets": [{"actor": new_country, "from": first[0], "to": first[1], "mention": text[first[0]:first[1]],
                             "further_mentions": [{"from": a, "to": b, "mention": text[a:b]} for a, b in rest]}],
            }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="NewsMTSC-format training file (op-eds train)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    with open(args.input, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    n = 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for out in swapped_rows(rows, args.seed):
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
            n += 1
    targets = sum(len(r["targets"]) for r in rows)
    print(f"{args.out}: {n} swapped pairs from {targets} targets in {len(rows)} sentences")


if __name__ == "__main__":
    main()
