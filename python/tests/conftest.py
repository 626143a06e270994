"""Shared fixtures: the test articles, one analyzer per model, and the `stance` CLI.

The CLI is the reference the Python results are compared with. It is taken
from ``STANCE_BIN`` when set, else built with ``cargo build --bin stance`` in
the repository (a no-op after ``cargo test``, as in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import stance

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent
DATA = TESTS / "data"
ARTICLES = DATA / "articles.jsonl"
TINY_MODEL = REPO / "tests" / "data" / "tiny-model"

# Threads for every analyzer and CLI run of the tests: the same on both sides,
# so that scores agree to the last bit (they agree to ~1e-6 whatever it is).
THREADS = 2


@pytest.fixture(scope="session")
def articles() -> list[dict[str, str]]:
    return [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def analyzer() -> stance.Analyzer:
    """The embedded model, default actors."""
    return stance.Analyzer(threads=THREADS)


@pytest.fixture(scope="session")
def stance_cli() -> Path:
    explicit = os.environ.get("STANCE_BIN")
    if explicit:
        path = Path(explicit)
        assert path.is_file(), f"STANCE_BIN={explicit} is not a file"
        return path
    subprocess.run(["cargo", "build", "--quiet", "--bin", "stance"], cwd=REPO, check=True)
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    path = Path(json.loads(metadata.stdout)["target_directory"]) / "debug" / "stance"
    assert path.is_file(), f"cargo build did not produce {path}"
    return path


def run_cli(cli: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Runs the CLI; exit status 0 or 1 (some documents failed) is a finished run."""
    done = subprocess.run([str(cli), *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode in (0, 1), f"stance {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
    return done


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
