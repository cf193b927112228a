"""Chapter 6 runs without the real data: papermill at tiny parameters, data directory unset.

nbval skips the chapter when the IBM file is absent (its committed outputs came from the real
file), so this run is what exercises the fallback path: IBM's real 2000-2013 prices from
``bokeh_sampledata``, with the test year derived from the data (2012, the last full year). It
goes through ``scripts/run_notebooks.py --output-dir``, which leaves the committed notebook
untouched.
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
CHAPTER = ROOT / "book" / "06_gru_closed_loop.md"
TINY = {
    "SEEDS": "[0, 1]",
    "N_VARIANT_SEEDS": 2,
    "UNITS": 4,
    "LAYERS": 2,
    "GRU_BATCH": 256,
    "LSTM_BATCH": 256,
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
def test_gru_chapter_runs_on_the_bokeh_fallback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != DATA_ENV}
    # The kernel must import this checkout's tutorials_lib, whatever is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    params = [arg for name, value in TINY.items() for arg in ("-p", name, str(value))]
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
    assert "Data: bokeh_sampledata" in text and "stocks.IBM" in text
    assert f"real file not used: ${DATA_ENV} is not set" in text
    # bokeh's IBM runs 2000-03-01 to 2013-03-01: the last full calendar year is 2012
    assert "test year 2012 (the last full calendar year in the data)" in text
    assert "training: 2000-03-01 to 2011-12-30" in text
    days = re.search(r"closed-loop RMSE over the (\d+) test days", text)
    assert days is not None and 245 <= int(days.group(1)) <= 255
    assert "one compiled model vs fit_seeded, seed 1: max |prediction difference| = 0" in text
    assert "GRU vs persistence (2 seeds): mean RMSE" in text
    assert "GRU vs flat forecast (2 seeds): mean RMSE" in text
    assert "bidirectional LSTM vs LSTM (2 seeds)" in text
    flat = re.search(r"flat forecast (\d+\.\d\d); best constant in hindsight (\d+\.\d\d)", text)
    assert flat is not None and float(flat.group(2)) <= float(flat.group(1))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # figures are glued: their mime type is application/papermill.record/image/png
    images = sum(
        any(key.endswith("image/png") for key in o.get("data", {}))
        for c in nb.cells
        for o in c.get("outputs", [])
    )
    assert images >= 4
