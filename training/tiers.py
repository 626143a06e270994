"""The table of model tiers, kept once in the README and copied into every bundle's model card.

    python tiers.py            # rewrite the "Tiers" section of every models/*/MODEL_CARD.md

A user reading one bundle's card should see what the other tiers trade (size, speed, held-out op-ed
F1) without the README at hand. The README's table, between the markers below, is the one that is
edited; write_bundle.py puts it into the card of every bundle it writes, and this script refreshes the
cards already in models/ after the table changes. tests/bundles.rs checks that the cards match it.
"""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- tiers:begin -->", "<!-- tiers:end -->"
HEADING = "## Tiers"
# The section goes after the card's opening paragraph, before this heading.
BEFORE = "## Input and output"


def tier_table(readme=REPO / "README.md"):
    """The README's table of tiers, the lines between the markers (markers excluded)."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def with_section(card, heading, section, before):
    """`card` with the section under `heading` replaced by `section` (which starts with the heading),
    or `section` added before the heading `before` if the card has none."""
    if heading + "\n" in card:
        start = card.index(heading + "\n")
        end = card.index("\n## ", start + len(heading)) + 1
        return card[:start] + section + card[end:]
    at = card.index(before)
    return card[:at] + section + card[at:]


def with_tiers(card, table):
    """`card` with its Tiers section set to `table` (added before "Input and output" if absent)."""
    return with_section(card, HEADING, f"{HEADING}\n\n{table}\n\n", BEFORE)


def main():
    table = tier_table()
    for card_path in sorted((REPO / "models").glob("*/MODEL_CARD.md")):
        card = card_path.read_text(encoding="utf-8")
        updated = with_tiers(card, table)
        if updated != card:
            card_path.write_text(updated, encoding="utf-8")
            print(f"updated {card_path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
