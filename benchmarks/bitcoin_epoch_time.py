"""Print the time of one training epoch of chapter 4's network, by width and training loop.

Chapter 4 trains LSTM(units) -> Dense(1) on 7-day windows of Bitcoin closes, scaled on the
training span by ``scaled_windows`` (1018 windows, 146 batches of 7), with Adam and the
gradients clipped at global norm 4. Two choices of the chapter rest on these figures: its
default width (64 units; the source's 256 are in ``book/params/04_bitcoin_source.yaml``) and
its training loop, one compiled TensorFlow function per epoch instead of Keras' ``fit``.
Reported: wall and CPU seconds of the first epoch (which includes tracing) and the median of
the later ones. On a 2-core machine CPU seconds over wall seconds shows how busy both cores
were; under load, CPU seconds are the steadier figure.

    .venv/bin/python benchmarks/bitcoin_epoch_time.py [--epochs 4] [--units 64 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

from tutorials_lib.repro import configure_tensorflow_env

configure_tensorflow_env()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tutorials_lib.data import load_bitcoin  # noqa: E402
from tutorials_lib.models import build_stacked_rnn  # noqa: E402
from tutorials_lib.repro import set_seed  # noqa: E402
from tutorials_lib.walk_forward import batch_plan  # noqa: E402
from tutorials_lib.windows import scaled_windows  # noqa: E402

LOOKBACK, BATCH, CLIP, LEARNING_RATE = 7, 7, 4.0, 1e-3
FIRST_TEST_DAY = 1025  # the chapter's split: 1018 training windows of 7 days


def training_windows() -> tuple[np.ndarray, np.ndarray]:
    close = load_bitcoin()["close"].to_numpy()
    windows = scaled_windows(close, LOOKBACK, train_size=FIRST_TEST_DAY)
    return windows.X_train[..., None].astype("float32"), windows.y_train.astype("float32")


def fit_epochs(units: int, X, y, epochs: int) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of each epoch of ``model.fit`` with Adam(global_clipnorm)."""
    set_seed(0)
    model = build_stacked_rnn(LOOKBACK, 1, (units,), seed=0)
    model.compile(keras.optimizers.Adam(LEARNING_RATE, global_clipnorm=CLIP), loss="mse")
    times = []
    for _ in range(epochs):
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def compiled_epochs(units: int, X, y, epochs: int) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of each epoch of the chapter's loop: one tf.function per epoch."""
    model = build_stacked_rnn(LOOKBACK, 1, (units,), seed=0)
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    optimizer.build(model.trainable_variables)

    @tf.function
    def epoch(x, t, index, weight, n_batches):
        variables = model.trainable_variables
        norms = tf.zeros((tf.shape(index)[0],))
        b = tf.constant(0)
        while b < n_batches:
            xb, tb, wb = tf.gather(x, index[b]), tf.gather(t, index[b]), weight[b]
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)[:, 0]
                loss = tf.reduce_sum(wb * tf.square(pred - tb)) / tf.reduce_sum(wb)
            grads = tape.gradient(loss, variables)
            clipped, norm = tf.clip_by_global_norm(grads, CLIP)
            optimizer.apply_gradients(zip(clipped, variables, strict=True))
            norms = tf.tensor_scatter_nd_update(norms, [[b]], [norm])
            b += 1
        return norms

    rng = np.random.default_rng(0)
    x, t = tf.constant(X), tf.constant(y)
    times = []
    for _ in range(epochs):
        index, weight, n_batches = batch_plan(len(X), len(X), BATCH, True, rng)
        wall, cpu = time.perf_counter(), time.process_time()
        epoch(x, t, index, weight, np.int32(n_batches)).numpy()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement (>= 2)")
    parser.add_argument("--units", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    if args.epochs < 2:
        raise ValueError(
            f"--epochs must be at least 2 (the first includes tracing), got {args.epochs}"
        )
    X, y = training_windows()
    print(f"{len(X)} windows of {LOOKBACK} days, batch {BATCH}, {args.epochs} epochs per row")
    print(f"{'loop':<16}{'units':>6}{'first wall':>12}{'first cpu':>11}{'later wall':>12}"
          f"{'later cpu':>11}")  # fmt: skip
    for units in args.units:
        for name, run in (("keras fit", fit_epochs), ("compiled epoch", compiled_epochs)):
            times = run(units, X, y, args.epochs)
            later_wall = statistics.median(w for w, _ in times[1:])
            later_cpu = statistics.median(c for _, c in times[1:])
            print(f"{name:<16}{units:>6}{times[0][0]:>11.2f}s{times[0][1]:>10.2f}s"
                  f"{later_wall:>11.2f}s{later_cpu:>10.2f}s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
