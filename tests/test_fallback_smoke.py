"""Chapter 4 runs without the real data: papermill at small parameters, data directory unset.

nbval skips the chapter when btc.csv is absent (its committed outputs came from the real file),
so this run is what exercises the fallback path, in CI as well as locally. It goes through
``scripts/run_notebooks.py --output-dir``, the book's own reproduction path, which leaves the
committed notebook untouched.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tutorials_lib.data import DATA_ENV

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "04_bitcoin.md"
SMALL = {
    "EPOCHS": 1,
    "UNITS": 8,
    "N_SEEDS": 1,
    "SCRATCH_UNITS": 4,
    "SCRATCH_STEPS": 3,
}


def stdout_of(nb) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


@pytest.mark.slow
def test_bitcoin_chapter_runs_on_the_synthetic_fallback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != DATA_ENV}
    # The kernel must import this checkout's tutorials_lib, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    params = [arg for name, value in SMALL.items() for arg in ("-p", name, str(value))]
    committed = CHAPTER.with_suffix(".ipynb").read_bytes()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "run_notebooks.py"),
            *params,
            "--output-dir",
            str(tmp_path),
            str(CHAPTER),
        ],
        env=env,
        check=True,
    )
    assert CHAPTER.with_suffix(".ipynb").read_bytes() == committed
    nb = nbformat.read(tmp_path / CHAPTER.with_suffix(".ipynb").name, as_version=4)
    text = stdout_of(nb)
    assert "Data: SYNTHETIC Bitcoin-like series (seed 0), not real prices" in text
    assert f"real file not used: ${DATA_ENV} is not set" in text
    assert "1266 windows: 1018 train, 248 test" in text  # the synthetic series has the same days
    assert "persistence (tomorrow = today)" in text
    gate = re.search(r"gate order ifco: max \|h_scratch - h_keras\| = (\S+)", text)
    assert gate is not None and float(gate.group(1)) < 1e-5
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert (
        sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 4
    )
