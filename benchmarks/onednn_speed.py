"""Time LSTM training with TensorFlow's oneDNN optimisations on and off.

The book runs with ``TF_ENABLE_ONEDNN_OPTS=0`` (see ``tutorials_lib.repro``): it silences a
start-up notice that nbval cannot reproduce, and the committed outputs depend on the choice
(on and off differ in the last bits). This script measures what that costs. Each setting runs
in a fresh process, because the variable is read when TensorFlow is imported; settings are
interleaved over the repeats so background load affects both alike.

    .venv/bin/python benchmarks/onednn_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKLOAD = r"""
import json, time
import numpy as np
import keras
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(2048, 30, 1)).astype("float32")
y = x[:, -1, :]
results = {}
for name, layer in [("LSTM(64)", keras.layers.LSTM(64)), ("GRU(64)", keras.layers.GRU(64))]:
    model = keras.Sequential([keras.Input((30, 1)), layer, keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # warm-up: tracing, allocation
    start = time.perf_counter()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    results[name] = {"seconds": time.perf_counter() - start,
                     "loss": repr(history.history["loss"][-1])}
print(json.dumps(results))
"""


def run(onednn: str) -> dict:
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=onednn, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", WORKLOAD], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[tuple[str, str], list[float]] = {}
    losses: dict[tuple[str, str], set[str]] = {}
    for _ in range(args.repeats):
        for onednn in ("0", "1"):
            for model, r in run(onednn).items():
                times.setdefault((model, onednn), []).append(r["seconds"])
                losses.setdefault((model, onednn), set()).add(r["loss"])
    print(f"3 epochs, 2048 sequences of 30 steps, batch 32; median of {args.repeats} runs")
    print(f"{'model':<10} {'oneDNN off (s)':>15} {'oneDNN on (s)':>14} {'off / on':>9}  same loss?")
    for model in sorted({m for m, _ in times}):
        off = statistics.median(times[(model, "0")])
        on = statistics.median(times[(model, "1")])
        repeatable = len(losses[(model, "0")]) == 1 and len(losses[(model, "1")]) == 1
        same = losses[(model, "0")] == losses[(model, "1")]
        print(
            f"{model:<10} {off:>15.2f} {on:>14.2f} {off / on:>9.2f}  "
            f"repeatable per setting: {repeatable}; off == on: {same}"
        )


if __name__ == "__main__":
    main()
