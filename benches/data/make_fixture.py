"""Write benches/data/fixture.jsonl: the fixed benchmark corpus.

Hand-written op-ed style sentences (written for this project) combined
deterministically into 300 documents of 4 to 18 sentences, with dates and
sources, so benchmarks see varied lengths and realistic mention densities.

    python3 benches/data/make_fixture.py
"""
import json
import random
from pathlib import Path

SENTENCES = [
    "Washington's renewed courtship of Islamabad looks like a quick win, but it rests on sand.",
    "The U.S. has been here before: aid flows, promises are made, and within a few years both sides accuse each other of bad faith.",
    "Beijing, meanwhile, has quietly deepened its ties across the region.",
    "China has financed ports, roads and power plants, and many governments describe it as a patient and reliable partner.",
    "Critics say those loans come with strings that tighten over time.",
    "India watches all of this with unease.",
    "New Delhi has built a strong partnership with the United States on technology and defence.",
    "Prime Minister Modi has been praised for steering the economy through a difficult decade.",
    "Yet Indian officials complain that the Pentagon still treats Pakistan as a useful client.",
    "Great powers that chase short-term favours end up with neither friends nor influence.",
    "The White House insists that its tariffs will bring factories home, though few economists agree.",
    "Chinese exporters have simply rerouted their goods through third countries.",
    "American farmers, who bore the brunt of the retaliation, have received billions in compensation.",
    "The CCP's leadership has made self-reliance in semiconductors a national priority.",
    "India's space programme has achieved remarkable results on a modest budget.",
    "Xi Jinping used the summit to present China as a champion of the developing world.",
    "The State Department called the election a step backward for democracy in the region.",
    "It is hard to take lectures on sovereignty from a country that ignores its neighbours' borders.",
    "Delhi's vaccine diplomacy during the pandemic won it genuine goodwill in Africa and Latin America.",
    "The Biden administration's chip export controls have slowed, but not stopped, Chinese progress.",
    "Some analysts in Beijing worry that the property slump will weigh on growth for years.",
    "Indian diplomats have skilfully kept channels open to both Moscow and Washington.",
    "The US Navy's patrols in the South China Sea are described by Beijing as provocations.",
    "Many in the Global South see the PRC as a more dependable lender than the IMF.",
    "America's alliances in Asia have rarely looked stronger, at least on paper.",
    "The Indian Ocean has become a stage for quiet naval competition.",
    "A reporter for the Washington Post asked whether the deal had been worth it.",
    "On Jan. 5, Dr. Rao told the committee that the U.S. Army had not been consulted.",
    "Trade between India and China reached a record last year despite the border standoff.",
    "Nobody in the room mentioned the elephant: the debt.",
    "The summit ended without a joint statement, which says a great deal about the mood.",
    "Observers noted that the Chinese delegation arrived late and left early.",
    "New Delhi's refusal to condemn the invasion frustrated its Western partners.",
    "The Pentagon's budget request once again prioritises the Indo-Pacific.",
    "For all the talk of decoupling, American and Chinese supply chains remain deeply intertwined.",
    "Modi's government has been accused of muzzling critics and the press.",
    "Islamabad hopes that closer ties with Washington will unlock new credit lines.",
    "Beijing's response to the floods was swift, well organised and widely praised.",
    "The U.S. Treasury has warned banks about sanctions evasion through regional hubs.",
    "India and the US signed an agreement on critical minerals, a modest but useful step.",
    "China's foreign ministry dismissed the report as groundless smears.",
    "In a long and rambling speech that touched on history, trade, technology, climate, migration and the future of the international order, the minister argued that the United States had lost the moral authority to set rules for others, that China had been unfairly blamed for problems of the West's own making, and that India, as the world's most populous democracy, deserved a permanent seat at every table where those rules are written.",
    "Markets barely reacted.",
    "The analysis above is the author's own.",
]
SOURCES = ["The Daily Ledger", "Asia Review", "Global Times of Record", "The Continental", "Harbour Post"]


def main():
    rng = random.Random(20261128)
    out = Path(__file__).with_name("fixture.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i in range(300):
            n = rng.randint(4, 18)
            paragraphs, text = [], []
            for _ in range(n):
                text.append(rng.choice(SENTENCES))
                if rng.random() < 0.3:
                    paragraphs.append(" ".join(text))
                    text = []
            paragraphs.append(" ".join(text))
            doc = {
                "id": f"doc-{i:04d}",
                "date": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "source": rng.choice(SOURCES),
                "text": "\n\n".join(p for p in paragraphs if p),
            }
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
