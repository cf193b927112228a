"""Chapter 6 runs without the real data: papermill at tiny parameters, data directory unset.

nbval skips the chapter when the IBM file is absent (its committed outputs came from the real
file), so this run is what exercises the fallback path: IBM's real 2000-2013 prices from
``bokeh_sampledata``, with the test year derived from the data (2012, the last full year). It
goes through ``scripts/run_notebooks.py --output-dir``, which leaves the committed notebook
untouched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chapter_runs import run_without_data

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


@pytest.mark.slow
def test_gru_chapter_runs_on_the_bokeh_fallback(tmp_path):
    run = run_without_data(CHAPTER, tmp_path, TINY)
    assert run.process.returncode == 0, run.process.stderr[-3000:]
    text = run.stdout
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
    assert not run.errors()
    assert run.images() >= 4  # glued figures: application/papermill.record/image/png
