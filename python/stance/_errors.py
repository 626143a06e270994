"""Exceptions raised by :mod:`stance`.

Every error of the library is a :class:`StanceError`; each kind also derives
from the built-in exception a Python caller would expect (an unknown actor id
is a ``ValueError``, a missing ONNX Runtime a ``RuntimeError``), so either can
be caught. The messages are the Rust library's and the CLI's. Files that cannot
be read raise the usual ``OSError`` subclasses (``FileNotFoundError``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ActorError",
    "ConfigError",
    "DeviceError",
    "InferenceError",
    "InputError",
    "ModelError",
    "RuntimeLibraryError",
    "SkippedDocumentsWarning",
    "StanceError",
]


class StanceError(Exception):
    """Base class of the errors raised by :mod:`stance`."""


class ConfigError(StanceError, ValueError):
    """An option has an impossible value: unknown device or actor id, ``threads=0``..."""


class ActorError(StanceError, ValueError):
    """An actor definition (an ``Actor`` or an actor file) is invalid; the message names the file and line."""


class InputError(StanceError, ValueError):
    """A document cannot be scored (empty or missing text); the message starts with its id."""


class ModelError(StanceError, OSError):
    """A model bundle is missing a file, or a file in it is unreadable or corrupt."""


class RuntimeLibraryError(StanceError, RuntimeError):
    """The ONNX Runtime shared library could not be found or loaded; the message says where it looked."""


class DeviceError(StanceError, RuntimeError):
    """The requested device (a CUDA GPU) cannot be used. There is never a silent fall-back to the CPU."""


class InferenceError(StanceError, RuntimeError):
    """The tokenizer or ONNX Runtime failed while scoring."""


class SkippedDocumentsWarning(UserWarning):
    """Documents were left out because they could not be scored (``errors="skip"``).

    The message names the first few; ``skipped`` lists them all, as
    ``(document id, reason)`` pairs in input order, e.g. ``("b", "empty text")``.
    Catch the warning to read it::

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", stance.SkippedDocumentsWarning)
            rows = analyzer.score_frame(df, errors="skip")
        failed = [pair for w in caught if issubclass(w.category, stance.SkippedDocumentsWarning)
                  for pair in w.message.skipped]
    """

    def __init__(self, message: str, skipped: Iterable[tuple[str, str]] = ()) -> None:
        # Only the message in `args`: it is what str() and the warnings module show.
        super().__init__(message)
        self.skipped: list[tuple[str, str]] = list(skipped)
