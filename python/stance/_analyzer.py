"""`stance.Analyzer`: the library's analyzer in Python's idiom."""

from __future__ import annotations

import itertools
import numbers
import os
import sys
import threading
import warnings
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any, Union

from . import _frames
from ._errors import ActorError, ConfigError, InputError, SkippedDocumentsWarning
from ._results import Actor, DocumentStances, SentenceStance
from ._stance import NativeAnalyzer

__all__ = ["Analyzer"]

PathLike = Union[str, "os.PathLike[str]"]

_ERRORS = ("raise", "skip")

# How many skipped documents a SkippedDocumentsWarning's message names (its `skipped` has them all).
_SKIPPED_SHOWN = 5


class Analyzer:
    """Scores how sentences portray actors (the US, China, India, ... or your own).

    Args:
        actors: built-in actor ids (``"us"``, ``"china"``, ``"india"``,
            ``"pakistan"``, ``"russia"``; case-insensitive, and "USA", "PRC"...
            are accepted) and/or :class:`Actor` objects of your own; ``None``
            means US, China and India. Built-in ids come first, in the order
            given, then your actors (one with a built-in id adds its aliases to it).
        model: a model bundle directory (``model.onnx``, ``tokenizer.json``,
            ``config.json``); ``None`` for the model embedded in the package.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (needs ``onnxruntime-gpu``
            in place of ``onnxruntime``). A device that cannot be had is an
            error, never a silent fall-back to the CPU.
        threads: inference threads in all (ONNX Runtime sessions x intra-op
            threads); ``None`` for one per core. Segmentation and tokenization
            run on a process-wide pool of one thread per core; set
            ``RAYON_NUM_THREADS`` before the first analyzer is built to bound it.
        actor_file: a ``.toml`` or ``.json`` file of actors (the format of the
            CLI's ``--actor-file``), added to the actors above.
        sessions, token_budget, max_batch_rows: batching and session-pool
            settings of the Rust builder (defaults suit CPUs and GPUs).
        document_context: how much a document's other sentences about an
            actor weigh in each sentence's stance toward it; ``None`` for the
            weight chosen for the model (its ``config.json``, else 0.5),
            ``0`` to read every sentence alone (as :meth:`score_sentences`
            always does).

    Raises:
        ConfigError: unknown actor id or device, impossible settings (the
            message names the parameter): a count below 1 or not an integer,
            ``threads`` beyond 4 per core (each holds a model session), ...
        ActorError: an invalid actor or actor file (the message names the file and line where
            the problem is in a file).
        ModelError: a model directory that is missing or incomplete.
        RuntimeLibraryError: ONNX Runtime could not be loaded.
        DeviceError: the GPU asked for cannot be used.

    An analyzer is safe to share between threads; scoring releases the GIL.
    It pickles as its settings, so Spark, Ray or multiprocessing workers
    rebuild it on their side (building takes a second: do it once per worker).

    Example::

        import stance
        analyzer = stance.Analyzer(actors=["us", "china", "india"])
        doc = analyzer.score("Beijing has been a reliable partner. Washington keeps breaking its promises.")
        for s in doc.stances:
            print(s.actor, s.label, round(s.score, 2), s.text)
        doc.actors["china"].mean()
    """

    def __init__(
        self,
        actors: Iterable[str | Actor] | None = None,
        model: PathLike | None = None,
        device: str = "cpu",
        threads: int | None = None,
        *,
        actor_file: PathLike | None = None,
        sessions: int | None = None,
        token_budget: int | None = None,
        max_batch_rows: int | None = None,
        document_context: float | None = None,
    ) -> None:
        self._settings = _settings(
            actors, model, device, threads, actor_file, sessions, token_budget, max_batch_rows, document_context
        )
        actor_list = self._settings["actors"]
        builtin: list[str] | None = None
        custom: list[tuple[str, str, list[str], list[str], list[str]]] = []
        if actor_list is not None:
            builtin = []
            for actor in actor_list:
                if isinstance(actor, str):
                    builtin.append(_builtin_actor_id(actor))
                elif isinstance(actor, Actor):
                    custom.append(_actor_spec(actor))
                else:
                    raise TypeError(f"actors: expected actor ids (str) or stance.Actor, got {type(actor).__name__}")
        settings = self._settings
        self._native = NativeAnalyzer(
            builtin=builtin,
            custom=custom,
            actor_file=settings["actor_file"],
            model=settings["model"],
            device=settings["device"],
            threads=settings["threads"],
            sessions=settings["sessions"],
            token_budget=settings["token_budget"],
            max_batch_rows=settings["max_batch_rows"],
            document_context=settings["document_context"],
        )
        saturation = self._native.info()["int8_saturation_warning"]
        if saturation:
            warnings.warn(saturation, RuntimeWarning, stacklevel=2)

    @classmethod
    def shared(
        cls,
        actors: Iterable[str | Actor] | None = None,
        model: PathLike | None = None,
        device: str = "cpu",
        threads: int | None = None,
        *,
        actor_file: PathLike | None = None,
        sessions: int | None = None,
        token_budget: int | None = None,
        max_batch_rows: int | None = None,
        document_context: float | None = None,
    ) -> Analyzer:
        """The process's analyzer for these settings, built on the first call and
        returned by every later one (thread-safe). Arguments as for :class:`Analyzer`.

        For worker processes that run many tasks (Spark's Python workers, Ray
        actors, a ``multiprocessing`` pool): the model is loaded once per
        process, not once per task. An analyzer unpickled in a process is this
        shared one too.
        """
        settings = _settings(
            actors, model, device, threads, actor_file, sessions, token_budget, max_batch_rows, document_context
        )
        key = repr(sorted(settings.items()))
        with _SHARED_LOCK:
            analyzer = _SHARED.get(key)
            if analyzer is None:
                analyzer = cls(**settings)
                _SHARED[key] = analyzer
            return analyzer

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (_rebuild, (self._settings,))

    def __repr__(self) -> str:
        info = self.info
        return f"Analyzer(actors={info['actors']}, model={info['model']!r}, device={info['device']!r})"

    @property
    def info(self) -> dict[str, Any]:
        """What runs: ``model``, ``model_origin``, ``precision``, ``batch_invariant``
        (documents share batches exactly), ``int8_sums_saturate`` (the model's int8
        sums need VNNI, which this CPU lacks) and ``int8_saturation_warning`` (then
        what to tell a user, else None), ``device`` (the one actually used),
        ``sessions``, ``intra_threads``, ``token_budget``, ``max_batch_rows``,
        ``max_length``, ``actors``, ``document_context`` (the weight in use), and
        the ``onnxruntime`` and ``stance`` versions."""
        return self._native.info()

    @property
    def actors(self) -> list[Actor]:
        """The actors looked for, in order, with all their aliases, exclusions and short names."""
        return [Actor(*spec) for spec in self._native.actors()]

    def score(self, text: str, id: str | None = None) -> DocumentStances:
        """Segments ``text`` into sentences, finds the actors in each and scores
        every (sentence, actor) pair.

        Args:
            text: the document. A leading byte-order mark (U+FEFF) stays in
                it, so that offsets index this string (the CLI drops it from
                what it reads: its offsets are one less).
            id: the document's id in the result and in error messages (default
                ``"<text>"``); converted as the ids of :meth:`score_many`.

        Raises:
            InputError: the text is missing (``None``, NaN), empty or blank (a
                byte-order mark counts as blank), or not valid Unicode (a lone
                UTF-16 surrogate), as in :meth:`score_many`.
            TypeError: the text is another type (a number).
            InferenceError: the tokenizer or ONNX Runtime failed.
        """
        doc_id = "<text>" if _frames.is_missing(id) else _id_text(id)
        if not isinstance(text, str):
            problem = _problem(doc_id, text)
            raise problem if problem else TypeError(f"{_printable(doc_id)}: text must be str")
        (result,) = self._score_chunk([doc_id], [text], True)
        if isinstance(result, BaseException):
            raise result
        return DocumentStances._from_native(result)

    def score_many(
        self,
        texts: Iterable[str],
        ids: Iterable[Any] | None = None,
        *,
        batch_size: int = 256,
        errors: str = "raise",
        batch_across_documents: bool = False,
    ) -> list[DocumentStances | None]:
        """Scores many documents; one result per text, in order.

        Works through ``texts`` ``batch_size`` documents at a time with the GIL
        released, so other Python threads run meanwhile (and Ctrl-C is seen
        between batches).

        Args:
            texts: the documents (any iterable of ``str``, not one ``str``).
            ids: one id per text (not one ``str``), converted with ``str``,
                except that a whole-number float is written as an integer (``1.0``
                as ``"1"``: pandas makes an integer column with a missing value
                float); default: the positions ``"0"``, ``"1"``, ... A missing id
                (``None``, NaN, ``pd.NA``) becomes ``"<text N>"``, N being the
                document's position.
            batch_size: documents handed to the library at once.
            errors: ``"raise"`` (default): the first document that cannot be
                scored raises (:class:`InputError` naming its id, for an empty or
                missing text, or a text or id that is not valid Unicode).
                ``"skip"``: its result is ``None``, and one
                :class:`SkippedDocumentsWarning` per call lists the documents
                skipped (its ``skipped`` attribute has every id and reason).
            batch_across_documents: pack sentences of different documents into
                the same batches even when the model is not batch-invariant
                (a GPU, or a bundle that does not say so): faster for many short
                documents, but scores then vary in their last bits (~1e-7) with
                the company a document keeps. By default each document's scores
                are exactly those of :meth:`score` and of ``stance score --out``;
                the shipped model on the CPU is batch-invariant and shares
                batches across documents exactly anyway.
        """
        batch_size = self._check_iteration(texts, ids, batch_size, errors)
        # The warning of skipped documents names the caller of score_many, a frame further out.
        return list(self._iter_scores(texts, ids, batch_size, errors, batch_across_documents, warn_level=4))

    def iter_scores(
        self,
        texts: Iterable[str],
        ids: Iterable[Any] | None = None,
        *,
        batch_size: int = 256,
        errors: str = "raise",
        batch_across_documents: bool = False,
    ) -> Iterator[DocumentStances | None]:
        """Like :meth:`score_many`, lazily: memory stays bounded by ``batch_size``
        documents whatever the length of ``texts`` (a generator over a large file works).

        With ``errors="skip"``, the :class:`SkippedDocumentsWarning` comes when
        the iteration ends, or when it is stopped early (the generator closed
        or collected) for the documents skipped until then."""
        batch_size = self._check_iteration(texts, ids, batch_size, errors)
        return self._iter_scores(texts, ids, batch_size, errors, batch_across_documents)

    @staticmethod
    def _check_iteration(texts: Iterable[str], ids: Iterable[Any] | None, batch_size: int, errors: str) -> int:
        """The arguments of score_many and iter_scores checked, before any document is read; the batch size."""
        batch_size = _check_options(batch_size, errors)
        _check_not_one_str(texts, "texts", "a document", " (score(text) scores one text)")
        if ids is not None:
            _check_not_one_str(ids, "ids", "an id")
        return batch_size

    def _iter_scores(
        self,
        texts: Iterable[str],
        ids: Iterable[Any] | None,
        batch_size: int,
        errors: str,
        batch_across_documents: bool,
        warn_level: int = 3,
    ) -> Iterator[DocumentStances | None]:
        skipped: list[tuple[str, str]] = []
        try:
            for chunk_ids, chunk_texts in _chunks(texts, ids, batch_size):
                results = self._score_chunk(chunk_ids, chunk_texts, not batch_across_documents)
                for doc_id, result in zip(chunk_ids, results):
                    if isinstance(result, BaseException):
                        if errors == "raise":
                            raise result
                        skipped.append(_skipped(doc_id, result))
                        yield None
                    else:
                        yield DocumentStances._from_native(result)
        finally:
            # Also when the consumer stops early: the documents skipped so far are still reported.
            _warn_skipped(skipped, warn_level)

    def score_sentences(self, sentences: Sequence[str]) -> list[SentenceStance]:
        """Scores sentences as given, without splitting them: one entry per
        (sentence, actor mentioned), ``sentence_index`` being the position in
        ``sentences`` and offsets relative to that sentence (annotated data
        such as NewsMTSC comes one sentence per record). Each is read alone: a
        model that reads the sentence before gets it only from whole texts.

        Raises:
            TypeError: ``sentences`` is one ``str``, or holds something else than ``str``.
            InputError: a sentence is not valid Unicode (a lone UTF-16 surrogate).
        """
        _check_not_one_str(sentences, "sentences", "a sentence")
        sentences = list(sentences)
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise TypeError(f"sentence {i}: expected str, got {type(s).__name__}")
            problem = _unicode_problem("text", s)
            if problem:
                raise InputError(f"sentence {i}: {problem}")
        return [SentenceStance._from_native(row) for row in self._native.score_sentences(sentences)]

    def score_frame(
        self,
        frame: Any,
        text: Hashable = "text",
        id: Hashable | None = "id",
        *,
        batch_size: int = 256,
        errors: str = "raise",
        batch_across_documents: bool = False,
    ) -> Any:
        """Scores the documents of a data frame into a frame of sentence rows.

        Takes a pandas DataFrame, a pyarrow Table or RecordBatch or a polars DataFrame and
        returns the same kind, one row per (sentence, actor) pair with the
        columns of ``sentences.jsonl``: ``document_id``, ``sentence_index``,
        ``start``, ``end``, ``text``, ``actor``, ``mentions`` (a list of
        ``{start, end, text}``), ``p_unfavorable``, ``p_neutral``,
        ``p_favorable``, ``score``, ``label``, ``truncated``. Rows of a document
        are contiguous, in sentence then actor order; documents in frame order.
        A document that mentions no actor has no rows.

        Args:
            frame: the documents, one per row.
            text: the column holding the text: its name or, in pandas, its
                label as it is (the column ``0`` of ``pd.DataFrame(texts)``).
            id: the column holding the document id, converted as the ids of
                :meth:`score_many` (so an id column that pandas made float for a
                missing value gives ``"1"``, not ``"1.0"``). ``None`` uses the
                row labels (the pandas index, else the row number), as does the
                default ``"id"`` when there is no such column. A missing id
                (``None``, NaN, ``pd.NA``) becomes ``"<row L>"``, L being the
                row's label (the CLI says ``"FILE:LINE"`` for these), or
                ``"<text N>"``, N being its position, where the label is missing
                too (a NaN in the index, or in every level of a MultiIndex): never
                "nan", which all such rows would share.
            batch_size, errors, batch_across_documents: as for :meth:`score_many`;
                with ``errors="skip"`` a document that cannot be scored (an empty
                or missing text, say) has no rows.

        Raises:
            KeyError: ``text`` (or an ``id`` given explicitly) is not a column.
            ValueError: several columns have that name.
            InputError: with ``errors="raise"``, a document that cannot be
                scored: an empty or missing text, or a text or id that is not
                valid Unicode (the message starts with its id).

        :func:`stance.aggregate_frame` turns the result into per-actor
        :class:`ActorStats`, the ``summary.json`` of a CLI run.
        """
        batch_size = _check_options(batch_size, errors)
        kind = _frames.frame_kind(frame)
        texts = _frames.column_values(frame, kind, text)
        labels = _frames.row_labels(frame, kind)
        ids = None
        if id is not None and not (id == "id" and id not in _frames.column_names(frame, kind)):
            ids = _frames.column_values(frame, kind, id)
        columns = _frames.empty_columns()
        skipped: list[tuple[str, str]] = []
        for chunk_ids, chunk_texts in _chunks(texts, ids, batch_size, labels=labels):
            found, failures = self._score_chunk_columns(chunk_ids, chunk_texts, not batch_across_documents)
            if failures and errors == "raise":
                raise failures[0][1]
            skipped.extend(_skipped(chunk_ids[position], error) for position, error in failures)
            _frames.extend_columns(columns, found)
        _warn_skipped(skipped)
        return _frames.build_frame(columns, kind)

    def _score_chunk_columns(
        self, ids: list[str], texts: list[Any], separately: bool
    ) -> tuple[dict[str, list], list[tuple[int, BaseException]]]:
        """Sentence-row columns for a chunk, and ``(position, exception)`` per failed document, in order."""
        valid, failures = _check_texts(ids, texts)
        found = _frames.empty_columns()
        if valid:
            found, native_failures = self._native.score_chunk_columns(
                [ids[i] for i in valid], [texts[i] for i in valid], separately
            )
            failures.extend((valid[position], error) for position, error in native_failures)
        failures.sort(key=lambda failure: failure[0])
        return found, failures

    def _score_chunk(self, ids: list[str], texts: list[Any], separately: bool) -> list[Any]:
        """Native results for a chunk: a result dict or an exception per document."""
        valid, failures = _check_texts(ids, texts)
        results: list[Any] = [None] * len(texts)
        for i, error in failures:
            results[i] = error
        if valid:
            native = self._native.score_chunk([ids[i] for i in valid], [texts[i] for i in valid], separately)
            for i, result in zip(valid, native):
                results[i] = result
        return results


_SHARED: dict[str, Analyzer] = {}
_SHARED_LOCK = threading.Lock()


def _rebuild(settings: dict[str, Any]) -> Analyzer:
    return Analyzer.shared(**settings)


def _settings(
    actors: Iterable[str | Actor] | str | Actor | None,
    model: PathLike | None,
    device: str,
    threads: int | None,
    actor_file: PathLike | None,
    sessions: int | None,
    token_budget: int | None,
    max_batch_rows: int | None,
    document_context: float | None,
) -> dict[str, Any]:
    """The constructor's arguments, checked and normalised: what an analyzer
    pickles as, and the key of `shared`."""
    if isinstance(actors, (str, Actor)):
        actors = [actors]
    if not isinstance(device, str):
        raise ConfigError(f"invalid configuration: device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    # Paths are made absolute, so that a pickled analyzer reads the same files in a worker started
    # in another directory.
    return {
        "actors": None if actors is None else list(actors),
        "model": None if model is None else os.path.abspath(os.fspath(model)),
        "device": device,
        "threads": _count("threads", threads),
        "actor_file": None if actor_file is None else os.path.abspath(os.fspath(actor_file)),
        "sessions": _count("sessions", sessions),
        "token_budget": _count("token_budget", token_budget),
        "max_batch_rows": _count("max_batch_rows", max_batch_rows),
        "document_context": _weight(document_context),
    }


def _count(name: str, value: Any) -> int | None:
    """A count setting as an int, checked here: the library takes unsigned sizes,
    and a negative one would otherwise be an OverflowError that names nothing."""
    if value is None:
        return None
    # Python's and numpy's integers; not True, 2.0 or "2".
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"invalid configuration: {name} must be an integer (or None), got {value!r}")
    count = int(value)
    if count < 1:
        raise ConfigError(f"invalid configuration: {name} must be at least 1 (or None), got {count}")
    if count > sys.maxsize:
        raise ConfigError(f"invalid configuration: {name} ({count}) is too large")
    return count


def _weight(value: Any) -> float | None:
    """``document_context`` as a float; whether it is at least 0 the library checks, with its message."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"invalid configuration: document_context must be a number (or None), got {value!r}")
    return float(value)


def _check_options(batch_size: int, errors: str) -> int:
    """``batch_size`` as an int (Python's or numpy's integers), checked with ``errors``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}, got {errors!r}")
    return int(batch_size)


def _check_not_one_str(values: Any, name: str, entry: str, hint: str = "") -> None:
    """Refuses one ``str`` (or bytes) where a list is expected, which iterating
    would silently turn into one entry per character."""
    if isinstance(values, (str, bytes)):
        raise TypeError(
            f"{name} must be a list (or other iterable) of {name}, not one {type(values).__name__}: "
            f"each character would be {entry}{hint}"
        )


def _chunks(
    texts: Iterable[Any], ids: Iterable[Any] | None, size: int, labels: Iterable[Any] | None = None
) -> Iterator[tuple[list[str], list[Any]]]:
    """``(ids, texts)`` lists of at most ``size`` documents; a length mismatch is an error.

    Ids are made text by :func:`_id_text`. Without ``ids``, a document's id is
    its label: its entry in ``labels`` (a frame's row labels), else its
    position. A missing id (``None``, NaN, ``pd.NA``) is ``"<row LABEL>"``
    with ``labels``, ``"<text POSITION>"`` without: never "nan", which all such
    documents would share, nor the bare label, which may be another document's id.
    """
    text_iter = iter(texts)
    id_iter = iter(ids) if ids is not None else None
    label_iter = iter(labels) if labels is not None else itertools.count()
    placeholder = "<row {}>" if labels is not None else "<text {}>"
    position = 0
    while True:
        chunk_texts: list[Any] = []
        chunk_ids: list[str] = []
        for t in text_iter:
            chunk_texts.append(t)
            index = position + len(chunk_texts) - 1
            raw_label = next(label_iter)
            given = raw_label if id_iter is None else next(id_iter, _END)
            if given is _END:
                raise ValueError(f"fewer ids than texts: no id for text {index}")
            chunk_ids.append(
                _id_text(given) if not _frames.is_missing(given) else _missing_id(placeholder, raw_label, index)
            )
            if len(chunk_texts) == size:
                break
        if not chunk_texts:
            if id_iter is not None and next(id_iter, _END) is not _END:
                raise ValueError(f"more ids than texts ({position} texts)")
            return
        position += len(chunk_texts)
        yield chunk_ids, chunk_texts


_END = object()


def _missing_id(placeholder: str, label: Any, index: int) -> str:
    """The id of a document without one: by its row label, or by its position where the label
    is missing too (a NaN index label would give every such row one id)."""
    if _frames.is_missing(label):
        return f"<text {index}>"
    return placeholder.format(_id_text(label))


def _id_text(value: Any) -> str:
    """A document id as text: ``str(value)``, but a whole-number float as an
    integer, since pandas reads an integer id column with a missing value as
    floats (``1`` as ``1.0``) and the CLI, reading the same file, says ``"1"``."""
    # numpy's float32 and float64 too (numbers.Real), not ints or bools (Integral).
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        number = float(value)
        if number.is_integer():
            return str(int(number))
    return str(value)


def _check_texts(ids: list[str], texts: list[Any]) -> tuple[list[int], list[tuple[int, BaseException]]]:
    """Positions of the texts to score, and the error of each document that cannot
    be (see :func:`_problem`), as the library's own failures are: raised in order,
    or skipped."""
    valid: list[int] = []
    failures: list[tuple[int, BaseException]] = []
    for i, (doc_id, text) in enumerate(zip(ids, texts)):
        problem = _problem(doc_id, text)
        if problem is None:
            valid.append(i)
        else:
            failures.append((i, problem))
    return valid, failures


def _problem(doc_id: str, text: Any) -> BaseException | None:
    """Why a document cannot be handed to the library, or ``None``: an
    ``InputError`` for a missing text (``None``, NaN, ``pd.NA``, ``pd.NaT``) or
    an id or text that is not valid Unicode, a ``TypeError`` for a text of
    another type (a number in a text column). An empty text (blanks, after a
    leading byte-order mark) the library refuses itself, with an ``InputError``
    "ID: empty text"."""
    if not isinstance(text, str):
        if _frames.is_missing(text):
            return InputError(f"{_printable(doc_id)}: missing text")
        return TypeError(f"{_printable(doc_id)}: text must be str, not {type(text).__name__}")
    problem = _unicode_problem("id", doc_id) or _unicode_problem("text", text)
    return InputError(f"{_printable(doc_id)}: {problem}") if problem else None


def _unicode_problem(what: str, value: str) -> str | None:
    """Why ``value`` is no Unicode text the library can take (it takes UTF-8), or ``None``.

    A Python ``str`` may hold lone UTF-16 surrogates (U+D800 to U+DFFF), which
    are no characters: ``json.loads`` makes one of the escape ``"\\ud800"``, and
    decoding bad bytes with ``errors="surrogateescape"`` makes them too.
    """
    if value.isascii():  # the common case, answered without encoding anything
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        surrogate = ord(value[error.start])
        return (
            f"{what} is not valid Unicode: character {error.start} is U+{surrogate:04X}, half of a UTF-16 "
            f'surrogate pair with no other half (json.loads makes one of "\\\\u{surrogate:04x}", and decoding '
            f'with errors="surrogateescape" makes them of bad bytes); clean the {what} first'
        )
    return None


def _builtin_actor_id(actor_id: str) -> str:
    """``actor_id``, checked to be text the library can take (a ``ConfigError`` names it otherwise)."""
    problem = _unicode_problem("actor id", actor_id)
    if problem:
        raise ConfigError(f"actors: {_printable(actor_id)!r}: {problem}")
    return actor_id


def _actor_spec(actor: Actor) -> tuple[str, str, list[str], list[str], list[str]]:
    """The library's form of an :class:`Actor`; an ``ActorError`` that names the actor and
    the entry when one of its texts is not valid Unicode (the library takes UTF-8)."""
    entries = [("id", actor.id), ("name", actor.name)]
    for kind, values in (("alias", actor.aliases), ("exclusion", actor.exclusions), ("short name", actor.short_names)):
        entries += [(kind, value) for value in values]
    for kind, value in entries:
        problem = isinstance(value, str) and _unicode_problem(kind, value)
        if problem:
            raise ActorError(f"actor {_printable(str(actor.id))!r}, {kind} {_printable(value)!r}: {problem}")
    return actor.id, actor.name, list(actor.aliases), list(actor.exclusions), list(actor.short_names)


def _printable(doc_id: str) -> str:
    """An id for a message: lone surrogates written as escapes (``\\ud800``), since they cannot be printed."""
    return doc_id.encode("utf-8", "backslashreplace").decode("utf-8")


def _skipped(doc_id: str, error: BaseException) -> tuple[str, str]:
    """``(id, reason)`` of a skipped document: the error's message less the id it starts with."""
    message = str(error)
    prefix = f"{_printable(doc_id)}: "
    return doc_id, message[len(prefix) :] if message.startswith(prefix) else message


def _warn_skipped(skipped: list[tuple[str, str]], stacklevel: int = 3) -> None:
    """One warning for the documents skipped in a call: the first few in its
    message, every one in its ``skipped``. ``stacklevel`` is warnings.warn's, here:
    the default 3 names the frame two calls out from this function's caller."""
    if not skipped:
        return
    shown = "; ".join(f"{_printable(doc_id)}: {reason}" for doc_id, reason in skipped[:_SKIPPED_SHOWN])
    if len(skipped) > _SKIPPED_SHOWN:
        shown += f"; ... ({len(skipped) - _SKIPPED_SHOWN} more, in the warning's `skipped`)"
    message = f"{len(skipped)} document(s) not scored: {shown}"
    warnings.warn(SkippedDocumentsWarning(message, skipped), stacklevel=stacklevel)
