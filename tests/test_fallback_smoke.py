"""Chapter 4 runs without the real data: papermill at small parameters, data directory unset.

nbval skips the chapter when btc.csv is absent (its committed outputs came from the real file),
so this run is what exercises the fallback path, in CI as well as locally. It goes through
``scripts/run_notebooks.py --output-dir``, the book's own reproduction path, which leaves the
committed notebook untouched.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chapter_runs import run_without_data

from tutorials_lib.data import DATA_ENV
from tutorials_lib.results import RESULTS_ENV, load_results

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "04_bitcoin.md"
SMALL = {
    "EPOCHS": 1,
    "UNITS": 8,
    "N_SEEDS": 1,
    "SCRATCH_UNITS": 4,
    "SCRATCH_STEPS": 3,
}


def expected_batches(first_val_day: int, first_test_day: int, lookbacks, batch: int) -> int:
    """Batches trained at SMALL (one epoch, one seed): every training window once per epoch.

    Per price lookback: the epoch search (windows before the validation slice) and one refit
    (all training windows); the same for the returns model on 7-day windows (one day shorter
    series); and the leaky-scaler refit of the 7-day price model.
    """
    batches = 0
    for lookback, offset in [(lb, 0) for lb in lookbacks] + [(7, 1)]:
        for cut in (first_val_day, first_test_day):
            batches += -(-(cut - offset - lookback) // batch)
    return batches + -(-(first_test_day - 7) // batch)


@pytest.mark.slow
def test_bitcoin_chapter_runs_on_the_synthetic_fallback(tmp_path):
    run = run_without_data(
        CHAPTER, tmp_path, SMALL, extra_env={RESULTS_ENV: str(tmp_path / "results")}
    )
    assert run.process.returncode == 0, run.process.stderr[-3000:]
    text = run.stdout
    assert "Data: SYNTHETIC Bitcoin-like series (seed 0), not real prices" in text
    assert f"real file not used: ${DATA_ENV} is not set" in text
    assert "1266 windows: 1018 train, 248 test" in text  # the synthetic series has the same days
    assert "persistence (tomorrow = today)" in text
    # Every configuration gets a verdict against persistence, worded by the tests' outcome.
    for label in ("3-day price", "7-day price", "7-day returns", "leaky-scaler"):
        line = re.search(rf"^- .*the {label} LSTM.*$", text, flags=re.MULTILINE)
        assert line is not None, label
        assert re.search(r"beats|do not separate", line.group(0)), line.group(0)
        assert "DM test on the 248 test days" in line.group(0)
    # The clipping count covers every batch trained: 1025 = first test day, 102 validation days.
    clip = re.search(r"clipped: (\d+) of (\d+) batches", text)
    assert clip is not None
    assert int(clip.group(2)) == expected_batches(1025 - 102, 1025, (3, 7), batch=7)
    assert int(clip.group(1)) <= int(clip.group(2))
    gate = re.search(r"gate order ifco: max \|h_scratch - h_keras\| below (\S+)", text)
    assert gate is not None and float(gate.group(1)) <= 1e-5
    assert not run.errors()
    assert run.images() >= 6
    # The remove-cell record of the source's experiments, written because RESULTS_ENV is set.
    parameters, experiments = load_results(tmp_path / "results" / "04_bitcoin.json")
    assert parameters["UNITS"] == SMALL["UNITS"] and parameters["data"] == "synthetic"
    assert [e.source for e in experiments] == ["001", "001"]
    for e in experiments:
        assert e.units == "USD" and e.baseline_name == "persistence (tomorrow = today)"
        assert e.value > 0 and e.baseline > 0 and 0 <= e.dm_pvalue <= 1
        assert e.n_seeds == SMALL["N_SEEDS"]
