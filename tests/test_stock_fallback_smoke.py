"""Chapter 5 runs without the real data, and refuses parameters that cannot work.

nbval skips the chapter when the IBM or Microsoft file is absent (its committed outputs came
from the real files), so these papermill runs are what exercise the fallback path: tiny
parameters, the data directory unset, through ``scripts/run_notebooks.py --output-dir``
(the book's own reproduction path, which leaves the committed notebook untouched).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chapter_runs import ChapterRun, run_without_data

from tutorials_lib.data import DATA_ENV

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "05_stock_lstm.md"
SMALL = {
    "SEEDS": "[0, 1]",
    "OVERVIEW_TICKERS": '["IBM", "MSFT"]',
    "MSFT_LAG": 10,
    "MSFT_EPOCHS": 1,
    "MSFT_BATCH1_EPOCHS": 2,
    "MSFT_BATCH1_STEPS": 2,
    "RETURNS_MAX_EPOCHS": 1,
    "IBM_LAG": 10,
    "IBM_UNITS": 4,
    "IBM_LAYERS": 2,
    "IBM_EPOCHS": 1,
    "IBM_BATCH_SIZE": 256,
    "MAX_SHIFT": 2,
}


def _run(tmp_path: Path, parameters: dict) -> ChapterRun:
    return run_without_data(CHAPTER, tmp_path, parameters)


@pytest.mark.slow
def test_stock_chapter_runs_on_the_fallback_package(tmp_path):
    run = _run(tmp_path, SMALL)
    assert run.process.returncode == 0, run.process.stderr[-3000:]
    text = run.stdout
    for ticker in ("IBM", "MSFT"):
        assert re.search(rf"{ticker}: Data: bokeh_sampledata \S+ stocks\.{ticker} ", text)
    assert f"(real file not used: ${DATA_ENV} is not set)" in text
    # The fallback runs 2000-03-01 to 2013-03-01: the last full year is 2012.
    assert "IBM: column 'high', test year 2012 (the last full year in the data)" in text
    assert "test days 2012-01-03 to 2012-12-31 (250)" in text
    # 3270 days, lag 10: 3260 windows, floor(0.8 * 3260) = 2608 in training.
    assert "3260 windows: 2608 train, 652 test" in text
    assert "training inputs and statistics unchanged when the test prices change: True" in text
    verdict = r"(beats|is worse than|is better than|is not shown to differ from) persistence"
    assert re.search(rf"four-layer network \(1 epoch\) {verdict}", text)
    assert re.search(rf"returns network {verdict}", text)
    assert not run.errors()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MSFT_COLUMN", "closing", "column 'closing' is not in MSFT"),
        ("IBM_TEST_YEAR", 2017, "test_year 2017 has no rows"),
        ("IBM_LAG", 5000, r"IBM_LAG \(5000\) must be shorter than the training span"),
        ("OVERVIEW_TICKERS", '["IBM", "MSFT", "TSLA"]', "ticker must be one of"),
    ],
)
def test_bad_parameters_stop_the_chapter_with_a_clear_error(tmp_path, name, value, message):
    result = _run(tmp_path, {**SMALL, name: value}).process
    assert result.returncode != 0
    assert "FAILED: book/05_stock_lstm.md" in result.stderr
    assert re.search(message, result.stderr), result.stderr[-2000:]
    assert not list(tmp_path.glob("*.ipynb"))
