"""How do op-eds and news portray the US, China, India — or any actor you define?

``stance`` splits text into sentences, finds the actors each sentence mentions,
and scores how the sentence portrays each of them with the embedded model (run
through ONNX Runtime, on CPU or GPU): P(unfavorable), P(neutral),
P(favorable) and a score in [-1, 1]. It adds those up per actor with counts,
means and 95% confidence intervals that merge exactly.

Example::

    import stance

    analyzer = stance.Analyzer(actors=["us", "china", "india"])
    doc = analyzer.score("Beijing has been a reliable partner. Washington keeps breaking its promises.")
    doc.stances[0].actor, doc.stances[0].label, doc.stances[0].score
    doc.actors["china"].mean(), doc.actors["china"].ci95()

    rows = analyzer.score_frame(df, text="text", id="id")   # pandas, pyarrow or polars
    stance.aggregate_frame(rows)["china"]                   # per-actor statistics

This is the Rust library ``stance`` compiled as an extension; results are the
same as the library's and the ``stance`` CLI's. ONNX Runtime comes from the
``onnxruntime`` package (``onnxruntime-gpu`` for CUDA): see
:func:`runtime_library`.
"""

from ._runtime import configure as _configure_runtime

# Before any analyzer exists: the library reads ORT_DYLIB_PATH when it first loads ONNX Runtime.
_configure_runtime()

from ._analyzer import Analyzer  # noqa: E402
from ._errors import (  # noqa: E402
    ActorError,
    ConfigError,
    DeviceError,
    InferenceError,
    InputError,
    ModelError,
    RuntimeLibraryError,
    SkippedDocumentsWarning,
    StanceError,
)
from ._frames import SENTENCE_COLUMNS, aggregate_frame  # noqa: E402
from ._results import Actor, DocumentStances, Mention, SentenceStance, aggregate  # noqa: E402
from ._runtime import find_onnxruntime_library, runtime_library  # noqa: E402
from ._stance import ORT_VERSION, VERSION, ActorStats  # noqa: E402

__version__ = VERSION

__all__ = [
    "ORT_VERSION",
    "SENTENCE_COLUMNS",
    "Actor",
    "ActorError",
    "ActorStats",
    "Analyzer",
    "ConfigError",
    "DeviceError",
    "DocumentStances",
    "InferenceError",
    "InputError",
    "Mention",
    "ModelError",
    "RuntimeLibraryError",
    "SentenceStance",
    "SkippedDocumentsWarning",
    "StanceError",
    "aggregate",
    "aggregate_frame",
    "find_onnxruntime_library",
    "runtime_library",
]
