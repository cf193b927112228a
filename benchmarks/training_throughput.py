"""Training throughput of each chapter's main model, and how close the largest gets to the CPU's peak.

Each model is trained by Keras' ``fit`` for a few batches on random data of the chapter's
shapes (the architecture's cost does not depend on the values): samples per second after a
warm-up epoch, the median of three timed epochs (a shared or busy CPU makes single
timings scatter). Each is timed three ways: with TensorFlow's own thread pools and its
default executor (Keras as it comes), and with TensorFlow on one thread, as the chapters run
it, on each executor: the single-threaded executor the chapters' trainers use
(:mod:`tutorials_lib.executor`) and the default one. Chapter 4's LSTM(256) is also timed
with the trainer the chapter uses, ``ParallelLSTMTrainer``, training one copy and two copies
side by side.
For chapter 7's LSTM(300) the floating-point operations of a training step are counted from the
layer sizes (forward matrix products, times 3 for the backward pass) and divided by the
measured time, then compared with the CPU's peak as measured by a large float32 matrix
product in TensorFlow on the same threads. The same product is also timed with TensorFlow on
one thread, in a child process (TensorFlow sizes its thread pools once, when it starts): the
peak to hold a single-threaded run against. Chapter 7's LSTM(300) is timed on one thread too,
once as a plain process runs it and once with ``MALLOC_TRIM_THRESHOLD_`` set as Dask's
nannies set it for their workers (see ``tutorials_lib.distributed.local_cluster``). Writes
``benchmarks/results/training_throughput.json``.

    .venv/bin/python benchmarks/training_throughput.py
    .venv/bin/python benchmarks/training_throughput.py --peak-only   # print the peak, nothing else
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env  # imports no TensorFlow

configure_tensorflow_env(keep_existing=True, pin_threads=False)  # TensorFlow's own threads
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dask  # noqa: E402
import distributed  # noqa: E402, F401  (loads Dask's distributed configuration, read below)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tutorials_lib.distributed import MALLOC_TRIM_VARIABLE  # noqa: E402
from tutorials_lib.executor import graph_executor  # noqa: E402
from tutorials_lib.models import (  # noqa: E402
    build_stacked_rnn,
    build_stateless_lstm,
    lstm_forward_flops,
)
from tutorials_lib.training import LSTMJob, ParallelLSTMTrainer  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

#: chapter -> (description, builder, lookback, features, batch size)
MODELS = {
    "03": ("LSTM(32), lookback 15, batch 1", lambda: build_stateless_lstm(15, 2, 32, seed=0), 15, 2, 1),
    "04": ("LSTM(256), window 7, batch 7, Keras fit", lambda: build_stacked_rnn(7, 1, (256,), seed=0), 7, 1, 7),
    "05": ("LSTM 128-64 + Dense 25, lag 60, batch 200",
           lambda: build_stacked_rnn(60, 1, (128, 64), dense=(25,), seed=0), 60, 1, 200),
    "05b": ("4 x LSTM(50) + dropout, lag 60, batch 32",
            lambda: build_stacked_rnn(60, 1, (50,) * 4, dropout=0.2, seed=0), 60, 1, 32),
    "06": ("4 x GRU(50) + dropout, lag 60, batch 150",
           lambda: build_stacked_rnn(60, 1, (50,) * 4, cell="gru", dropout=0.2, seed=0), 60, 1, 150),
    "07": ("LSTM(300) -> Dense 2, 100 vectors, batch 450",
           lambda: build_stacked_rnn(100, 2, (300,), outputs=2, seed=0), 100, 2, 450),
}  # fmt: skip


REPEATS = 3


def samples_per_second(
    build, lookback, features, batch, batches=20, single_threaded=False
) -> float:
    """Keras ``fit`` of a fresh ``build()``, traced and run on the chosen executor."""
    model = build()
    outputs = model.output_shape[-1]
    x = (
        np.random.default_rng(0)
        .normal(size=(batch * batches, lookback, features))
        .astype("float32")
    )
    y = np.random.default_rng(1).normal(size=(batch * batches, outputs)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    seconds = []
    with graph_executor(single_threaded):
        model.fit(x[: batch * 2], y[: batch * 2], batch_size=batch, epochs=1, verbose=0)  # warm-up
        for _ in range(REPEATS):
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
            seconds.append(time.perf_counter() - start)
    return len(x) / float(np.median(seconds))


def parallel_trainer_samples_per_second(copies: int, batches: int = 200) -> float:
    """Chapter 4's LSTM(256) trained by its own trainer: samples per second over all copies."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7 * batches, 7, 1)).astype("float32")
    y = rng.normal(size=7 * batches).astype("float32")
    trainer = ParallelLSTMTrainer(batch_size=7, clip_norm=4.0)

    def jobs(epochs):
        return [LSTMJob(build_stacked_rnn(7, 1, (256,), seed=k), x, y, seed=k, epochs=epochs)
                for k in range(copies)]  # fmt: skip

    trainer.fit(jobs(1))  # warm-up: traces the compiled epoch
    seconds = []
    for _ in range(REPEATS):
        fresh = jobs(1)  # new models, built outside the timed region
        start = time.perf_counter()
        trainer.fit(fresh)
        seconds.append(time.perf_counter() - start)
    return copies * len(x) / float(np.median(seconds))


def matmul_peak_flops(n: int = 2048, repeats: int = 10) -> float:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda a, b: tf.matmul(a, b))
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best


def one_thread_samples_per_second(chapter: str, single_threaded: bool = True) -> float:
    """A chapter's model as a one-thread process trains it; chapter 7's LSTM(300), at the
    source's batch of 450, on fewer batches (one thread is slow)."""
    _, build, lookback, features, batch = MODELS[chapter]
    batches = 8 if chapter == "07" else 20
    return samples_per_second(build, lookback, features, batch, batches, single_threaded)


def every_model(single_threaded: bool) -> str:
    """Samples per second of every chapter's model on one executor, as JSON (chapter -> rate)."""
    return json.dumps({c: one_thread_samples_per_second(c, single_threaded) for c in MODELS})


#: what a child process measures, by its command-line flag
CHILD_MEASURES = {
    "--peak-only": matmul_peak_flops,
    "--lstm300-only": lambda: one_thread_samples_per_second("07"),
    "--models-single-threaded-executor": lambda: every_model(single_threaded=True),
    "--models-default-executor": lambda: every_model(single_threaded=False),
}


def one_thread(flag: str, malloc_trim: str | None = None) -> float | dict:
    """What ``flag`` measures, with TensorFlow on one thread, in a child process.

    TensorFlow sizes its thread pools once, when it starts, and glibc reads its settings once,
    so each setting needs a process of its own. ``malloc_trim`` sets
    ``MALLOC_TRIM_THRESHOLD_`` as a Dask nanny does for its workers; None leaves it unset.
    """
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    env.pop(MALLOC_TRIM_VARIABLE, None)
    if malloc_trim is not None:
        env[MALLOC_TRIM_VARIABLE] = malloc_trim
    child = subprocess.run(
        [sys.executable, __file__, flag], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(child.stdout.strip().splitlines()[-1])  # a number or a JSON object


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] in CHILD_MEASURES:
        print(CHILD_MEASURES[sys.argv[1]]())
        return
    keras.utils.set_random_seed(0)
    rows = {}
    for chapter, (what, build, lookback, features, batch) in MODELS.items():
        rate = samples_per_second(build, lookback, features, batch)
        rows[chapter] = {"model": what, "samples_per_second": rate}
        print(f"chapter {chapter:>3}: {what:45s} {rate:10.0f} samples/s")
    for flag, key in (("--models-single-threaded-executor", "one_thread_samples_per_second"),
                      ("--models-default-executor",
                       "one_thread_default_executor_samples_per_second")):  # fmt: skip
        for chapter, rate in one_thread(flag).items():
            rows[chapter][key] = rate
    for chapter in MODELS:
        row = rows[chapter]
        print(f"chapter {chapter:>3}, one thread: {row['one_thread_samples_per_second']:7.0f} "
              f"samples/s on the single-threaded executor, "
              f"{row['one_thread_default_executor_samples_per_second']:7.0f} on the default")  # fmt: skip
    for copies in (1, 2):
        rate = parallel_trainer_samples_per_second(copies)
        what = f"LSTM(256), window 7, batch 7, ParallelLSTMTrainer, {copies} cop" + (
            "y" if copies == 1 else "ies"
        )
        rows[f"04-trainer-{copies}"] = {"model": what, "samples_per_second": rate}
        print(f"chapter  04: {what:45s} {rate:10.0f} samples/s")
    peak = matmul_peak_flops()
    peak_one_thread = one_thread("--peak-only")
    per_sample = 3.0 * lstm_forward_flops([300], 2, 100)  # training: 3 x the forward products
    flops = per_sample * rows["07"]["samples_per_second"]
    dask_trim = str(dask.config.get(f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM_VARIABLE}"))
    dask_setting = f"{MALLOC_TRIM_VARIABLE}={dask_trim}"  # what Dask's nanny gives its workers
    one_thread_rates = {  # without the trim: as measured above, in the same kind of process
        "without_malloc_trim": rows["07"]["one_thread_samples_per_second"],
        "with_dask_malloc_trim": one_thread("--lstm300-only", dask_trim),
    }
    for key, rate in one_thread_rates.items():
        setting = dask_setting if key == "with_dask_malloc_trim" else "without the trim"
        print(f"LSTM(300) on one thread, {setting}: {rate:.0f} samples/s, "
              f"{per_sample * rate / peak_one_thread:.0%} of the one-thread peak")  # fmt: skip
    out = {
        "date": utc_stamp(),
        "repeats": REPEATS,
        "load_average": load_average()[0],
        "machine": machine_description(),
        "models": rows,
        "lstm300_flops_per_sample": per_sample,
        "lstm300_flops_per_second": flops,
        "matmul_peak_flops_per_second": peak,
        "matmul_peak_one_thread_flops_per_second": peak_one_thread,
        "fraction_of_peak": flops / peak,
        "lstm300_one_thread_samples_per_second": one_thread_rates,
        "dask_malloc_trim": dask_setting,
    }
    print(f"LSTM(300): {flops / 1e9:.1f} GFLOP/s of a measured matmul peak of {peak / 1e9:.1f} "
          f"GFLOP/s ({100 * flops / peak:.0f}%); one thread: {peak_one_thread / 1e9:.1f} "
          "GFLOP/s")  # fmt: skip
    path = ROOT / "benchmarks" / "results" / "training_throughput.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
