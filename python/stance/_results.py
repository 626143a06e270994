"""Result types: plain dataclasses, picklable, with the fields of ``sentences.jsonl``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._stance import ActorStats

__all__ = ["Actor", "DocumentStances", "Mention", "SentenceStance", "aggregate"]


@dataclass(frozen=True)
class Actor:
    """An actor to look for: an id, a display name, the aliases that mention it,
    phrases whose alias matches are not mentions, and short names.

    Example::

        Actor("eu", "European Union", ["EU", "Brussels"], exclusions=["Brussels sprouts"])
        Actor("vdl", "Ursula von der Leyen", ["von der Leyen"], short_names=["Leyen"])

    A short name is a word of one of the actor's aliases that counts on its own
    only after that alias earlier in the same document ("Khan" after "Imran
    Khan"), and not next to another capitalized word unless it is a title
    ("Mr Khan" counts, "Sadiq Khan" does not).

    An actor whose id is a built-in one (``"china"``) adds its aliases,
    exclusions and short names to the built-in actor.

    ``aliases``, ``exclusions`` and ``short_names`` are tuples of ``str`` (any
    iterable is made one); a single ``str`` is one entry: ``Actor("eu", "EU", "EU")``
    has the alias ``"EU"``, not ``"E"`` and ``"U"``. A field of another type is a
    ``TypeError`` that names the actor and the field.

    Actors are frozen and hashable: equal actors are one key of a dict or set, and
    an analyzer (and every copy of it pickled to a worker) scores with the actor
    it was given.
    """

    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError(f"Actor id must be a str, got {type(self.id).__name__} {self.id!r}")
        if not isinstance(self.name, str):
            raise TypeError(f"Actor {self.id!r}: name must be a str, got {type(self.name).__name__} {self.name!r}")
        for name in ("aliases", "exclusions", "short_names"):
            value = getattr(self, name)
            entries = (value,) if isinstance(value, str) else tuple(value)
            for entry in entries:
                if not isinstance(entry, str):
                    raise TypeError(f"Actor {self.id!r}: {name} must hold str, got {type(entry).__name__} {entry!r}")
            # Frozen: set the normalised tuple as the dataclass's own __init__ does.
            object.__setattr__(self, name, entries)


@dataclass(frozen=True)
class Mention:
    """One mention of an actor: ``text[start:end]`` of the document (character offsets)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SentenceStance:
    """The stance of one sentence toward one actor: one line of ``sentences.jsonl``.

    Offsets are characters of the document's text, as Python indexes ``str``.
    ``score`` is ``p_favorable - p_unfavorable``, in [-1, 1]; ``label`` is the
    most probable of ``"unfavorable"``, ``"neutral"``, ``"favorable"``;
    ``truncated`` says the sentence was cut to the model's input around the mention.
    """

    sentence_index: int
    start: int
    end: int
    text: str
    actor: str
    mentions: list[Mention]
    p_unfavorable: float
    p_neutral: float
    p_favorable: float
    score: float
    label: str
    truncated: bool

    @classmethod
    def _from_native(cls, row: dict[str, Any]) -> SentenceStance:
        row = dict(row)
        row["mentions"] = [Mention(**m) for m in row["mentions"]]
        return cls(**row)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict, mentions as dicts (JSON-ready, like a ``sentences.jsonl`` line)."""
        out = dict(self.__dict__)
        out["mentions"] = [dict(m.__dict__) for m in self.mentions]
        return out


@dataclass(frozen=True)
class DocumentStances:
    """All stances found in one document, and its per-actor statistics.

    ``sentences`` counts every sentence of the document, with or without
    mentions; ``stances`` has one entry per (sentence, actor) pair, in sentence
    then actor order; ``actors`` maps each actor mentioned to its
    :class:`ActorStats` in this document.
    """

    id: str
    sentences: int
    stances: list[SentenceStance]
    actors: dict[str, ActorStats]

    @classmethod
    def _from_native(cls, doc: dict[str, Any]) -> DocumentStances:
        return cls(
            id=doc["id"],
            sentences=doc["sentences"],
            stances=[SentenceStance._from_native(s) for s in doc["stances"]],
            actors=doc["actors"],
        )

    def actor(self, id: str) -> ActorStats | None:
        """Statistics of one actor in this document, or ``None`` if it is not mentioned."""
        return self.actors.get(id)


def aggregate(documents: Iterable[DocumentStances | None]) -> dict[str, ActorStats]:
    """Per-actor statistics over many documents, merged exactly (``None`` entries,
    documents skipped by ``errors="skip"``, are ignored).

    Example::

        totals = stance.aggregate(analyzer.score_many(texts))
        totals["china"].mean(), totals["china"].ci95()
    """
    totals: dict[str, ActorStats] = {}
    for doc in documents:
        if doc is None:
            continue
        _merge_into(totals, doc.actors)
    return totals


def _merge_into(totals: dict[str, ActorStats], stats: Mapping[str, ActorStats]) -> None:
    # Totals start empty and merge the given statistics in, which leaves those as they are
    # and the totals with no open document: an `add` to a total starts a document of its own.
    for actor, actor_stats in stats.items():
        totals.setdefault(actor, ActorStats()).merge(actor_stats)
