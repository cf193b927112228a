"""Every chapter's .md (reviewed source) and .ipynb (executed, rendered) have the same inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))


def test_there_are_chapters():
    assert CHAPTERS, "no book/NN_*.md chapters found"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_pair_has_identical_inputs(md: Path):
    nb = md.with_suffix(".ipynb")
    assert nb.is_file(), f"{md.name} has no executed {nb.name}: run `make book`"
    # jupytext --diff exits 0 even when the files differ, so its output is what counts.
    result = subprocess.run(
        [sys.executable, "-m", "jupytext", "--diff", str(md), str(nb)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "", f"{md.name} and {nb.name} differ:\n{result.stdout}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_fully_executed(md: Path):
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unrun = [i for i, c in enumerate(code) if c.execution_count is None]
    errors = [i for i, c in enumerate(code) for o in c.outputs if o.get("output_type") == "error"]
    assert not unrun, f"{md.name}: code cells {unrun} were never executed"
    assert not errors, f"{md.name}: code cells {errors} hold an error output"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{md.name}: cells ran out of order"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_holds_the_parameters(md: Path):
    nb = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", []), (
        f"{md.name}: the first code cell must be tagged `parameters`"
    )
    assert nb.metadata.kernelspec.name == "python3"
