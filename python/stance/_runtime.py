"""Pointing the library at the ONNX Runtime shared library of the ``onnxruntime`` wheel.

The Rust library loads ONNX Runtime at run time and honours ``ORT_DYLIB_PATH``.
The Python package depends on ``onnxruntime`` (or works with ``onnxruntime-gpu``,
which installs the same ``onnxruntime`` package with a CUDA build), whose
``onnxruntime/capi/`` folder holds that library. It is found without importing
``onnxruntime`` (its Python module is large and not needed).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ._stance import ORT_LIBRARY_NAME, ORT_VERSION

ENV_VAR = "ORT_DYLIB_PATH"


def find_onnxruntime_library() -> Path | None:
    """The ONNX Runtime library of the installed ``onnxruntime`` package, or ``None``.

    Prefers the file of the release the library is built against
    (``libonnxruntime.so.1.31.1`` on Linux); another ``libonnxruntime*`` file
    in the same folder is returned otherwise, and loading it reports a version
    mismatch clearly.
    """
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        capi = Path(location) / "capi"
        exact = capi / ORT_LIBRARY_NAME
        if exact.is_file():
            return exact
        others = sorted(p for p in capi.glob("*onnxruntime*") if p.is_file() and _is_runtime_library(p.name))
        if others:
            return others[0]
    return None


def _is_runtime_library(name: str) -> bool:
    # The C API library, not the Python binding (onnxruntime_pybind11_state*) or the provider plug-ins.
    return name.startswith(("libonnxruntime.", "onnxruntime.dll")) and "providers" not in name


def configure() -> None:
    """Sets ``ORT_DYLIB_PATH`` to the ``onnxruntime`` package's library unless it is already set."""
    if os.environ.get(ENV_VAR):
        return
    library = find_onnxruntime_library()
    if library is not None:
        os.environ[ENV_VAR] = str(library)


def runtime_library() -> str | None:
    """The ONNX Runtime library analyzers load: ``ORT_DYLIB_PATH`` (set on import
    of :mod:`stance` to the ``onnxruntime`` package's library unless you set it
    first), or ``None`` when neither is available and the library's own search
    applies (see the project README, "The ONNX Runtime library")."""
    return os.environ.get(ENV_VAR) or None


__all__ = ["ORT_VERSION", "configure", "find_onnxruntime_library", "runtime_library"]
