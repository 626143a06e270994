"""`stance.Analyzer`: the library's analyzer in Python's idiom."""

from __future__ import annotations

import itertools
import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Union

from . import _frames
from ._errors import InputError, SkippedDocumentsWarning
from ._results import Actor, DocumentStances, SentenceStance
from ._stance import NativeAnalyzer

__all__ = ["Analyzer"]

PathLike = Union[str, "os.PathLike[str]"]

_ERRORS = ("raise", "skip")


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
        ConfigError: unknown actor id or device, impossible settings.
        ActorError: an invalid actor or actor file (the message names file and line).
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
                    builtin.append(actor)
                elif isinstance(actor, Actor):
                    spec = (actor.id, actor.name, list(actor.aliases), list(actor.exclusions), list(actor.short_names))
                    custom.append(spec)
                else:
                    raise TypeError(f"actors: expected actor ids (str) or stance.Actor, got {type(actor).__name__}")
        self._native = NativeAnalyzer(
            builtin=builtin,
            custom=custom,
            actor_file=self._settings["actor_file"],
            model=self._settings["model"],
            device=device,
            threads=threads,
            sessions=sessions,
            token_budget=token_budget,
            max_batch_rows=max_batch_rows,
            document_context=document_context,
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
            text: the document.
            id: the document's id in the result and in error messages (default ``"<text>"``).

        Raises:
            InputError: the text is empty or blank.
            InferenceError: the tokenizer or ONNX Runtime failed.
        """
        doc_id = "<text>" if id is None else str(id)
        if not isinstance(text, str):
            raise TypeError(f"{doc_id}: text must be str, not {type(text).__name__}")
        (result,) = self._native.score_chunk([doc_id], [text], True)
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
            texts: the documents (any iterable of ``str``).
            ids: one id per text (converted with ``str``); default: ``"0"``, ``"1"``, ...
            batch_size: documents handed to the library at once.
            errors: ``"raise"`` (default): the first document that cannot be
                scored raises (:class:`InputError` for an empty or missing text,
                naming its id). ``"skip"``: its result is ``None``, and one
                :class:`SkippedDocumentsWarning` per call lists the documents skipped.
            batch_across_documents: pack sentences of different documents into
                the same batches even when the model is not batch-invariant
                (a GPU, or a bundle that does not say so): faster for many short
                documents, but scores then vary in their last bits (~1e-7) with
                the company a document keeps. By default each document's scores
                are exactly those of :meth:`score` and of ``stance score --out``;
                the shipped model on the CPU is batch-invariant and shares
                batches across documents exactly anyway.
        """
        return list(
            self.iter_scores(
                texts, ids, batch_size=batch_size, errors=errors, batch_across_documents=batch_across_documents
            )
        )

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
        documents whatever the length of ``texts`` (a generator over a large file works)."""
        _check_options(batch_size, errors)
        return self._iter_scores(texts, ids, batch_size, errors, batch_across_documents)

    def _iter_scores(
        self,
        texts: Iterable[str],
        ids: Iterable[Any] | None,
        batch_size: int,
        errors: str,
        batch_across_documents: bool,
    ) -> Iterator[DocumentStances | None]:
        skipped: list[str] = []
        for chunk_ids, chunk_texts in _chunks(texts, ids, batch_size):
            results = self._score_chunk(chunk_ids, chunk_texts, not batch_across_documents)
            for result in results:
                if isinstance(result, BaseException):
                    if errors == "raise":
                        raise result
                    skipped.append(str(result))
                    yield None
                else:
                    yield DocumentStances._from_native(result)
        _warn_skipped(skipped)

    def score_sentences(self, sentences: Sequence[str]) -> list[SentenceStance]:
        """Scores sentences as given, without splitting them: one entry per
        (sentence, actor mentioned), ``sentence_index`` being the position in
        ``sentences`` and offsets relative to that sentence (annotated data
        such as NewsMTSC comes one sentence per record). Each is read alone: a
        model that reads the sentence before gets it only from whole texts."""
        sentences = list(sentences)
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise TypeError(f"sentence {i}: expected str, got {type(s).__name__}")
        return [SentenceStance._from_native(row) for row in self._native.score_sentences(sentences)]

    def score_frame(
        self,
        frame: Any,
        text: str = "text",
        id: str | None = "id",
        *,
        batch_size: int = 256,
        errors: str = "raise",
        batch_across_documents: bool = False,
    ) -> Any:
        """Scores the documents of a data frame into a frame of sentence rows.

        Takes a pandas DataFrame, a pyarrow Table or a polars DataFrame and
        returns the same kind, one row per (sentence, actor) pair with the
        columns of ``sentences.jsonl``: ``document_id``, ``sentence_index``,
        ``start``, ``end``, ``text``, ``actor``, ``mentions`` (a list of
        ``{start, end, text}``), ``p_unfavorable``, ``p_neutral``,
        ``p_favorable``, ``score``, ``label``, ``truncated``. Rows of a document
        are contiguous, in sentence then actor order; documents in frame order.
        A document that mentions no actor has no rows.

        Args:
            frame: the documents, one per row.
            text: the column holding the text.
            id: the column holding the document id (converted with ``str``);
                ``None`` uses the row labels (the pandas index, else the row
                number), as does the default ``"id"`` when there is no such column.
            batch_size, errors, batch_across_documents: as for :meth:`score_many`;
                with ``errors="skip"`` a document that cannot be scored (an empty
                or missing text) has no rows.

        Raises:
            KeyError: ``text`` (or an ``id`` given explicitly) is not a column.
            InputError: with ``errors="raise"``, a document with an empty or missing text.

        :func:`stance.aggregate_frame` turns the result into per-actor
        :class:`ActorStats`, the ``summary.json`` of a CLI run.
        """
        _check_options(batch_size, errors)
        kind = _frames.frame_kind(frame)
        texts = _frames.column_values(frame, kind, text)
        if id is None or (id == "id" and id not in _frames.column_names(frame, kind)):
            ids: list[Any] = _frames.row_labels(frame, kind)
        else:
            ids = _frames.column_values(frame, kind, id)
        columns = _frames.empty_columns()
        skipped: list[str] = []
        for chunk_ids, chunk_texts in _chunks(texts, ids, batch_size):
            valid, failures = _check_texts(chunk_ids, chunk_texts)
            found = _frames.empty_columns()
            if valid:
                found, native_failures = self._native.score_chunk_columns(
                    [chunk_ids[i] for i in valid], [chunk_texts[i] for i in valid], not batch_across_documents
                )
                failures.extend((valid[position], error) for position, error in native_failures)
            if failures:
                failures.sort(key=lambda failure: failure[0])
                if errors == "raise":
                    raise failures[0][1]
                skipped.extend(str(error) for _, error in failures)
            _frames.extend_columns(columns, found)
        _warn_skipped(skipped)
        return _frames.build_frame(columns, kind)

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
    """The constructor's arguments, normalised: what an analyzer pickles as, and the key of `shared`."""
    if isinstance(actors, (str, Actor)):
        actors = [actors]
    return {
        "actors": None if actors is None else list(actors),
        "model": None if model is None else os.fspath(model),
        "device": device,
        "threads": threads,
        "actor_file": None if actor_file is None else os.fspath(actor_file),
        "sessions": sessions,
        "token_budget": token_budget,
        "max_batch_rows": max_batch_rows,
        "document_context": document_context,
    }


def _check_options(batch_size: int, errors: str) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}, got {errors!r}")


def _chunks(texts: Iterable[Any], ids: Iterable[Any] | None, size: int) -> Iterator[tuple[list[str], list[Any]]]:
    """``(ids, texts)`` lists of at most ``size``; ids default to positions; a length mismatch is an error."""
    text_iter = iter(texts)
    id_iter: Iterator[Any] = iter(ids) if ids is not None else itertools.count()
    position = 0
    while True:
        chunk_texts: list[Any] = []
        chunk_ids: list[str] = []
        for t in text_iter:
            chunk_texts.append(t)
            doc_id = next(id_iter, _END)
            if doc_id is _END:
                raise ValueError(f"fewer ids than texts: no id for text {position + len(chunk_texts) - 1}")
            chunk_ids.append(str(doc_id))
            if len(chunk_texts) == size:
                break
        if not chunk_texts:
            if ids is not None and next(id_iter, _END) is not _END:
                raise ValueError(f"more ids than texts ({position} texts)")
            return
        position += len(chunk_texts)
        yield chunk_ids, chunk_texts


_END = object()


def _check_texts(ids: list[str], texts: list[Any]) -> tuple[list[int], list[tuple[int, BaseException]]]:
    """Positions of the texts to score, and an ``InputError`` for each missing one
    (``None`` or NaN, as pandas marks it). Any other non-``str`` is a ``TypeError``."""
    valid: list[int] = []
    failures: list[tuple[int, BaseException]] = []
    for i, (doc_id, text) in enumerate(zip(ids, texts)):
        if isinstance(text, str):
            valid.append(i)
        elif _frames.is_missing(text):
            failures.append((i, InputError(f"{doc_id}: missing text")))
        else:
            raise TypeError(f"{doc_id}: text must be str, not {type(text).__name__}")
    return valid, failures


def _warn_skipped(skipped: list[str]) -> None:
    if not skipped:
        return
    shown = "; ".join(skipped[:5]) + (f"; ... ({len(skipped) - 5} more)" if len(skipped) > 5 else "")
    warnings.warn(f"{len(skipped)} document(s) not scored: {shown}", SkippedDocumentsWarning, stacklevel=3)
