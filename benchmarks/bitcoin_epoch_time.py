"""Print the time of a 200-epoch training run of chapter 4's network, by training loop.

Chapter 4 trains LSTM(units) -> Dense(1) on 7-day windows of Bitcoin closes, scaled on the
training span by ``scaled_windows`` (1018 windows, 146 batches of 7), with Adam and the
gradients clipped at global norm 4; at the source's settings, for 200 epochs. Loops timed:

* ``keras fit``: ``model.fit`` with ``Adam(global_clipnorm=4)``, one epoch per call;
* ``compiled epoch``: the single-model loop chapter 4 used to train with, one compiled
  TensorFlow function per epoch (``tf.clip_by_global_norm``, ``GradientTape``), and two
  variants of it: the Keras layer unrolled over the 7 steps, and the epoch compiled by XLA;
* ``parallel xS``: :class:`tutorials_lib.training.ParallelLSTMTrainer` training S models at
  once (one compiled graph, written-out backward pass, recurrent kernel kept transposed,
  TensorFlow's fused Adam kernel); its time per model is the time per run divided by S.

Each loop is timed for a few epochs: the first (which includes tracing, or XLA compilation)
and the median of the later ones. A 200-epoch run is estimated as the first epoch plus 199
later ones. On a 2-core machine other jobs inflate wall times; CPU seconds (user + system,
all threads) are the steadier figure, but they include the time TensorFlow's worker threads
spin while waiting, which grows with the load. ``--threads 1`` removes that spinning.
Results go to stdout and, as JSON, to ``benchmarks/results/bitcoin_epoch_time.json``, one
entry per thread setting (a run replaces the entry of its own setting only).

    .venv/bin/python benchmarks/bitcoin_epoch_time.py [--epochs 4] [--units 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env

configure_tensorflow_env(pin_threads=False)  # threads: --threads, else TensorFlow's default

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tutorials_lib.data import load_bitcoin  # noqa: E402
from tutorials_lib.models import build_stacked_rnn, lstm_forward_flops  # noqa: E402
from tutorials_lib.repro import set_seed  # noqa: E402
from tutorials_lib.training import LSTMJob, ParallelLSTMTrainer, TapeTrainer  # noqa: E402
from tutorials_lib.walk_forward import batch_plan  # noqa: E402
from tutorials_lib.windows import scaled_windows  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

LOOKBACK, BATCH, CLIP, LEARNING_RATE = 7, 7, 4.0, 1e-3
FIRST_TEST_DAY = 1025  # the chapter's split: 1018 training windows of 7 days
RUN_EPOCHS = 200  # the source's epoch count
RESULTS = Path(__file__).resolve().parent / "results" / "bitcoin_epoch_time.json"

Times = list[tuple[float, float]]  # (wall, cpu) seconds of each epoch


def training_windows() -> tuple[np.ndarray, np.ndarray]:
    close = load_bitcoin()["close"].to_numpy()
    windows = scaled_windows(close, LOOKBACK, train_size=FIRST_TEST_DAY)
    return windows.X_train.astype("float32"), windows.y_train.astype("float32")


class Clock:
    """Wall and CPU seconds since the last ``lap``."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def fit_epochs(units: int, X, y, epochs: int) -> Times:
    """Each epoch of ``model.fit`` with Adam(global_clipnorm)."""
    set_seed(0)
    model = build_stacked_rnn(LOOKBACK, 1, (units,), seed=0)
    model.compile(keras.optimizers.Adam(LEARNING_RATE, global_clipnorm=CLIP), loss="mse")
    times, clock = [], Clock()
    for _ in range(epochs):
        model.fit(X[..., None], y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(clock.lap())
    return times


def compiled_epochs(
    units: int, X, y, epochs: int, *, unroll: bool = False, jit_compile: bool = False
) -> Times:
    """Each epoch of TapeTrainer's compiled loop (GradientTape, one model), as chapter 4 ran it."""
    model = keras.Sequential(
        [
            keras.Input((LOOKBACK, 1)),
            keras.layers.LSTM(units, unroll=unroll, seed=0),
            keras.layers.Dense(1),
        ]
    )
    model.set_weights(build_stacked_rnn(LOOKBACK, 1, (units,), seed=0).get_weights())
    compiled = TapeTrainer(
        batch_size=BATCH, learning_rate=LEARNING_RATE, clip_norm=CLIP, jit_compile=jit_compile
    ).epoch_function(model)
    rng = np.random.default_rng(0)
    x, t = tf.constant(X[..., None]), tf.constant(y)
    times, clock = [], Clock()
    for _ in range(epochs):
        index, weight, n_batches = batch_plan(len(X), len(X), BATCH, True, rng)
        compiled(x, t, index, weight, np.int32(n_batches))[1].numpy()
        times.append(clock.lap())
    return times


def parallel_epochs(units: int, X, y, epochs: int, copies: int) -> Times:
    """The first epoch (tracing included) and the mean later epoch of S models at once."""
    trainer = ParallelLSTMTrainer(batch_size=BATCH, learning_rate=LEARNING_RATE, clip_norm=CLIP)

    def jobs(n_epochs: int) -> list[LSTMJob]:
        return [
            LSTMJob(build_stacked_rnn(LOOKBACK, 1, (units,), seed=s), X, y, s, n_epochs)
            for s in range(copies)
        ]

    first, later = jobs(1), jobs(epochs - 1)  # built before the clock starts
    clock = Clock()
    trainer.fit(first)
    times = [clock.lap()]
    trainer.fit(later)  # one call: epochs - 1 epochs; the trainer reports no per-epoch times
    wall, cpu = clock.lap()
    return times + [(wall / (epochs - 1), cpu / (epochs - 1))] * (epochs - 1)


LOOPS = {
    "keras fit": lambda u, X, y, e: fit_epochs(u, X, y, e),
    "compiled epoch": lambda u, X, y, e: compiled_epochs(u, X, y, e),
    "compiled epoch, unrolled": lambda u, X, y, e: compiled_epochs(u, X, y, e, unroll=True),
    "compiled epoch, XLA": lambda u, X, y, e: compiled_epochs(u, X, y, e, jit_compile=True),
}


def summary(name: str, units: int, copies: int, times: Times) -> dict:
    first_wall, first_cpu = times[0]
    wall = statistics.median(w for w, _ in times[1:])
    cpu = statistics.median(c for _, c in times[1:])
    run_wall = first_wall + (RUN_EPOCHS - 1) * wall
    run_cpu = first_cpu + (RUN_EPOCHS - 1) * cpu
    return {
        "loop": name, "units": units, "models": copies,
        "first_epoch_wall_s": round(first_wall, 3), "first_epoch_cpu_s": round(first_cpu, 3),
        "epoch_wall_s": round(wall, 4), "epoch_cpu_s": round(cpu, 4),
        "run_wall_s": round(run_wall, 1), "run_cpu_s": round(run_cpu, 1),
        "run_wall_per_model_s": round(run_wall / copies, 1),
        "run_cpu_per_model_s": round(run_cpu / copies, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement (>= 2)")
    parser.add_argument("--units", type=int, nargs="+", default=[256])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 4],
                        help="models trained at once by the parallel trainer")  # fmt: skip
    parser.add_argument("--loops", nargs="+", default=list(LOOPS), choices=list(LOOPS))
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow intra- and inter-op threads (0: its default)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.epochs < 2:
        raise ValueError(
            f"--epochs must be at least 2 (the first includes tracing), got {args.epochs}"
        )
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    X, y = training_windows()
    load_before = load_average()
    print(f"{len(X)} windows of {LOOKBACK} days, batch {BATCH}, {args.epochs} epochs timed per "
          f"row; {os.cpu_count()} CPUs, threads: {args.threads or 'default'}; load average "
          f"{load_before[0]:.1f}")  # fmt: skip
    print(f"a run = the first epoch + {RUN_EPOCHS - 1} later ones; 'per model' = run / models")
    header = (f"{'loop':<26}{'units':>6}{'models':>7}{'first cpu':>10}{'epoch wall':>11}"
              f"{'epoch cpu':>10}{'run wall':>10}{'run cpu':>9}{'per model wall':>15}"
              f"{'per model cpu':>14}{'GFLOP/CPU-s':>12}")  # fmt: skip
    print(header)
    rows = []
    for units in args.units:
        runs = [(name, 1, LOOPS[name]) for name in args.loops]
        runs += [(f"parallel x{s}", s, None) for s in args.copies]
        for name, copies, loop in runs:
            if loop is None:
                times = parallel_epochs(units, X, y, args.epochs, copies)
            else:
                times = loop(units, X, y, args.epochs)
            row = summary(name, units, copies, times)
            # training: about 3x the forward products (see lstm_forward_flops)
            flop = RUN_EPOCHS * len(X) * 3 * lstm_forward_flops([units], 1, LOOKBACK)
            row["run_tflop_per_model"] = round(flop / 1e12, 3)
            row["gflop_per_cpu_s"] = round(flop / row["run_cpu_per_model_s"] / 1e9, 1)
            rows.append(row)
            print(f"{name:<26}{units:>6}{copies:>7}{row['first_epoch_cpu_s']:>9.2f}s"
                  f"{row['epoch_wall_s']:>10.3f}s{row['epoch_cpu_s']:>9.3f}s"
                  f"{row['run_wall_s']:>9.0f}s{row['run_cpu_s']:>8.0f}s"
                  f"{row['run_wall_per_model_s']:>14.0f}s{row['run_cpu_per_model_s']:>13.0f}s"
                  f"{row['gflop_per_cpu_s']:>12.1f}", flush=True)  # fmt: skip
    load_after = load_average()
    print(f"load average at the end: {load_after[0]:.1f}")
    # One entry per thread setting: a run with another setting keeps this one's entry.
    args.output.parent.mkdir(parents=True, exist_ok=True)
    record = json.loads(args.output.read_text()) if args.output.exists() else {}
    record[f"threads: {args.threads or 'default'}"] = {
        "date": utc_stamp(),
        "machine": machine_description(),
        "epochs_timed": args.epochs,
        "windows": len(X),
        "lookback": LOOKBACK,
        "batch_size": BATCH,
        "run_epochs": RUN_EPOCHS,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rows": rows,
    }
    args.output.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
