"""Fixtures shared by the test modules: the rendered book, built once per test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The book built strictly (-W -n --keep-going) into a temporary folder; its html/ folder.

    Session-scoped: the build tests and the browser tests share one build (and one xdist unit of
    work, worker_scope in the root conftest.py, so one worker builds it).
    """
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"jupyter-book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )
    return out / "_build" / "html"
