"""Type stubs of the native module ``stance._stance`` (built from python/src/lib.rs)."""

from collections.abc import Mapping
from typing import Any

ORT_VERSION: str
"""The ONNX Runtime release the library is built and tested against."""
ORT_LIBRARY_NAME: str
"""The file name of that release's shared library on this platform."""
VERSION: str
"""The version of the stance library."""

_ActorSpec = tuple[str, str, list[str], list[str], list[str]]

class NativeAnalyzer:
    """The Rust analyzer; use :class:`stance.Analyzer`."""

    def __init__(
        self,
        *,
        builtin: list[str] | None,
        custom: list[_ActorSpec],
        actor_file: str | None,
        model: str | None,
        device: str,
        threads: int | None,
        sessions: int | None,
        token_budget: int | None,
        max_batch_rows: int | None,
        document_context: float | None,
    ) -> None: ...
    def info(self) -> dict[str, Any]: ...
    def actors(self) -> list[_ActorSpec]: ...
    def score_chunk(self, ids: list[str], texts: list[str], separately: bool) -> list[Any]: ...
    def score_chunk_columns(
        self, ids: list[str], texts: list[str], separately: bool
    ) -> tuple[dict[str, list[Any]], list[tuple[int, BaseException]]]: ...
    def score_sentences(self, sentences: list[str]) -> list[dict[str, Any]]: ...

class ActorStats:
    """Statistics of one actor over a document or a corpus: sentence, mention and
    document counts, label counts, mean score, standard deviation and 95%
    confidence interval.

    Scores are summed as exact integers (score x 2^32), so merging is exact and
    order-independent: the statistics of shards, threads or worker processes
    merged in any order equal those of one run, bit for bit. Pickles, copies
    and compares by value.
    """

    def __init__(self) -> None:
        """Empty statistics (no sentences)."""
    def add(self, p_unfavorable: float, p_neutral: float, p_favorable: float, mentions: int = 1) -> None:
        """Adds one scored (sentence, actor) pair of the open document from its
        probabilities and mention count. With no document open (new, merged,
        ended, copied or unpickled statistics) the pair starts a new document,
        which is counted: build one ``ActorStats`` per document and ``merge``
        them, or call ``end_document`` between documents.

        Raises ``ValueError`` naming the values when they are not probabilities:
        each in [0, 1] (NaN is not) and summing to 1 within 0.001."""
    def end_document(self) -> None:
        """Ends the open document, if any: the next ``add`` starts a new one."""
    def merge(self, other: ActorStats) -> None:
        """Adds another document's, shard's or worker's statistics, in place. Exact and
        order-independent. The result has no open document: the next ``add`` starts a new one."""
    def __add__(self, other: ActorStats) -> ActorStats:
        """A new ``ActorStats`` holding both."""
    def __iadd__(self, other: ActorStats) -> ActorStats: ...
    @property
    def sentences(self) -> int:
        """Scored (sentence, actor) pairs."""
    @property
    def mentions(self) -> int:
        """Mentions of the actor in those sentences."""
    @property
    def documents(self) -> int:
        """Documents in which the actor was scored at least once."""
    @property
    def unfavorable(self) -> int:
        """Sentences labelled unfavorable."""
    @property
    def neutral(self) -> int:
        """Sentences labelled neutral."""
    @property
    def favorable(self) -> int:
        """Sentences labelled favorable."""
    def mean(self) -> float:
        """Mean stance score in [-1, 1] (0.0 when empty)."""
    def std(self) -> float:
        """Sample standard deviation of the score (0.0 with fewer than two sentences)."""
    def ci95(self) -> tuple[float, float]:
        """95% confidence interval of the mean, clipped to [-1, 1]: clustered by
        document over two or more documents (an article's sentences are not
        independent), over sentences within one; ``(mean, mean)`` with fewer than
        two sentences."""
    def label_shares(self) -> dict[str, float]:
        """Share of each label: ``{"unfavorable": ..., "neutral": ..., "favorable": ...}``."""
    def to_dict(self) -> dict[str, Any]:
        """As an actor entry of ``summary.json``, with the exact sums ``sum_q32`` / ``sum_sq_q64``
        and the per-document ``doc_*`` sums. A figure without a value is ``None``: ``mean`` and
        ``share_*`` without a sentence, ``std``, ``ci95_low`` and ``ci95_high`` with fewer than two."""
    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ActorStats:
        """Reads what ``to_dict`` wrote (or an actor entry of a run's ``summary.json``)."""
    def __eq__(self, other: object) -> bool: ...
    def __copy__(self) -> ActorStats:
        """An equal copy with no open document, as an unpickled one: the next ``add`` starts a new document."""
    def __deepcopy__(self, memo: Any) -> ActorStats:
        """As ``__copy__``."""
