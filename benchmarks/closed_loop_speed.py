"""Cost of one generated step of chapter 6's GRU stack: compiled call vs a ``predict`` loop.

Closed-loop generation calls the model once per generated day. The source calls
``model.predict`` each time; ``tutorials_lib.forecast.closed_loop`` steps a Keras model through
one compiled call (``keras_step``), optionally compiled with XLA. The network is the chapter's:
four GRU(50) layers with dropout 0.2 on 60-day windows (untrained: the cost does not depend on
the weights). Each method is timed over whole paths, best of ``REPEATS``; "first call" is the
tracing / compilation cost paid once per model. The generated paths are compared with the
``predict`` loop's.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/closed_loop_speed.py``. Prints a table and
writes ``benchmarks/results/closed_loop_speed.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env  # imports no TensorFlow

configure_tensorflow_env(keep_existing=True, pin_threads=False)  # TensorFlow's own threads

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

from tutorials_lib.forecast import closed_loop, keras_step  # noqa: E402
from tutorials_lib.models import build_stacked_rnn  # noqa: E402
from tutorials_lib.repro import set_seed  # noqa: E402

SEED, LOOKBACK, UNITS, LAYERS, DROPOUT = 0, 60, 50, 4, 0.2
STEPS = 251  # one trading year, as generated in the chapter
PREDICT_STEPS = 25  # predict() is slow: time a shorter path and report per step
REPEATS = 3
OUT = Path(__file__).resolve().parent / "results" / "closed_loop_speed.json"


def predict_loop(model, window: np.ndarray, steps: int) -> np.ndarray:
    """The source's way: model.predict once per generated step."""
    current, path = window.copy(), []
    for _ in range(steps):
        value = float(model.predict(current.reshape(1, LOOKBACK, 1), verbose=0)[0, 0])
        path.append(value)
        current = np.append(current[1:], value)
    return np.array(path)


def best_of(fn, repeats: int = REPEATS) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    set_seed(SEED)
    model = build_stacked_rnn(LOOKBACK, 1, [UNITS] * LAYERS, cell="gru", dropout=DROPOUT, seed=SEED)
    window = np.random.default_rng(SEED).uniform(0.4, 0.6, LOOKBACK)

    rows = []
    start = time.perf_counter()
    reference = predict_loop(model, window, 1)
    first = time.perf_counter() - start
    seconds, reference = best_of(lambda: predict_loop(model, window, PREDICT_STEPS))
    rows.append(("model.predict loop (the source)", seconds / PREDICT_STEPS, first, PREDICT_STEPS))

    for label, jit in (("closed_loop, compiled call", False), ("closed_loop, XLA-compiled", True)):
        start = time.perf_counter()
        step = keras_step(model, jit_compile=jit)
        closed_loop(step, window, 1)
        first = time.perf_counter() - start
        seconds, path = best_of(lambda step=step: closed_loop(step, window, STEPS))
        gap = float(np.max(np.abs(path[:PREDICT_STEPS] - reference)))
        rows.append((label, seconds / STEPS, first, STEPS, gap))

    predict_ms = rows[0][1] * 1e3
    print(f"chapter 6 GRU stack: {LAYERS} x GRU({UNITS}), lookback {LOOKBACK}; best of {REPEATS}")
    print(f"{'method':<34} {'ms/step':>8} {'first call (s)':>15} {'speed-up':>9}  agrees")
    results = []
    for row in rows:
        label, per_step, first, steps = row[:4]
        gap = row[4] if len(row) > 4 else None
        agree = "" if gap is None else f"max gap {gap:.1e}"
        speedup = predict_ms / (per_step * 1e3)
        print(f"{label:<34} {per_step * 1e3:8.2f} {first:15.2f} {speedup:8.0f}x  {agree}")
        results.append(
            {
                "method": label,
                "ms_per_step": round(per_step * 1e3, 3),
                "first_call_s": round(first, 2),
                "steps_timed": steps,
                "max_gap_vs_predict": None if gap is None else float(f"{gap:.1e}"),
            }
        )
    payload = {
        "benchmark": "closed_loop_speed",
        "date": utc_stamp(),
        "machine": machine_description(),
        "load_average_1min": load_average()[0],
        "model": f"{LAYERS} x GRU({UNITS}), dropout {DROPOUT}, lookback {LOOKBACK}",
        "results": results,
        "speedup_vs_predict": round(predict_ms / results[1]["ms_per_step"], 1),
        "speedup_xla_vs_predict": round(predict_ms / results[2]["ms_per_step"], 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"written to {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
