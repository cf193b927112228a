"""Where one update of chapter 4's trainer spends its time, on one thread.

Chapter 4 trains LSTM(256) -> Dense(1) on batches of 7 windows of 7 days with
:class:`tutorials_lib.training.ParallelLSTMTrainer`: 146 updates per epoch, 200 epochs per
run. This script splits one update into its parts and times each part as a compiled loop over
an epoch's batches (the chapter's data, windowing and batch plan), best of ``--repeats`` (5):

* ``update``: the trainer's own compiled epoch of one copy (forward, written-out backward
  pass, global-norm clipping, TensorFlow's fused Adam kernel on the weight variables);
* ``forward``: the forward pass and the loss alone;
* ``forward and backward``: the same plus the gradients, without clipping or Adam;
* ``matrix products``: every matrix product of one update, with the same shapes and the same
  calls as the trainer makes, each timed in a loop of its own; the time of an empty loop of the
  same construction is subtracted. The recurrent product in Keras' layout, ``h @ U``, which
  the trainer does not make, is timed beside them for comparison.

The backward pass is ``forward and backward`` minus ``forward``; clipping and Adam are the
update minus ``forward and backward`` (with the epoch loop's own cost per batch).
Outside the products, the time goes to element-wise work and TensorFlow's cost per operation.
A product's time includes adding the loop's scalar to one of its inputs. Results go to stdout and, as JSON, to
``benchmarks/results/lstm_update_profile.json``.

    PYTHONPATH=. .venv/bin/python benchmarks/lstm_update_profile.py [--units 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env

configure_tensorflow_env()  # one thread per pool, as in the chapters

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
# bitcoin_epoch_time leaves the thread settings made above as they are
from bitcoin_epoch_time import BATCH, CLIP, LEARNING_RATE, LOOKBACK, training_windows  # noqa: E402
from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

# isort: split
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tutorials_lib.models import build_stacked_rnn  # noqa: E402
from tutorials_lib.training import (  # noqa: E402
    LSTMJob,
    ParallelLSTMTrainer,
    _batch_gradients,
    _batch_loss,
    _training_layout,
)
from tutorials_lib.walk_forward import batch_plan  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "lstm_update_profile.json"
PRODUCT_LOOPS = 2000  # iterations per timed product loop


def best_ms_per_iteration(fn, iterations: int, repeats: int) -> float:
    """Best of ``repeats`` calls of the compiled loop ``fn``, in ms per iteration."""
    fn()  # trace and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return 1e3 * best / iterations


def epoch_loops(units: int) -> tuple[dict, int]:
    """Timed loops over one epoch's batches: the update, forward, forward and backward."""
    X, y = training_windows()
    model = build_stacked_rnn(LOOKBACK, 1, (units,), seed=0)
    params = [tf.constant(w) for w in _training_layout(model.get_weights())]
    index, weight, n_batches = batch_plan(len(X), len(X), BATCH, True, np.random.default_rng(0))
    index, weight, n_batches = tf.constant(index), tf.constant(weight), int(n_batches)
    x, t = tf.constant(X[..., None]), tf.constant(y)
    perm = tf.constant([1, 0], dtype=tf.int32)

    def over_batches(body, state):
        return tf.while_loop(
            lambda b, *_: b < n_batches, lambda b, *s: (b + 1, *body(b, *s)), (0, *state)
        )

    def loss_and_grads(b, with_grads: bool):
        loss, forward = _batch_loss(params, x, t, index[b], weight[b], perm)
        if not with_grads:
            return loss
        grads = _batch_gradients(params, weight[b], forward, perm)
        return loss + tf.add_n([tf.reshape(g, (-1,))[0] for g in grads])  # keeps every gradient

    def losses(with_grads: bool):
        """One epoch of the forward pass (and the backward pass), summing the losses."""
        return tf.function(
            lambda: over_batches(lambda b, acc: (acc + loss_and_grads(b, with_grads),), (0.0,)),
            autograph=False,
        )

    trainer = ParallelLSTMTrainer(batch_size=BATCH, learning_rate=LEARNING_RATE, clip_norm=CLIP)
    trainer.fit([LSTMJob(model, X, y, seed=0, epochs=1)])  # sets the copy's variables
    _, epoch = trainer._epoch_function(((LOOKBACK, 1, units),))

    def update():
        """The trainer's compiled epoch over the same batches (the weights go on training)."""
        return epoch([tf.constant(0.0)], [x], [t], [index], [weight], [n_batches], perm)

    loops = {
        "update": update,
        "forward": losses(False),
        "forward and backward": losses(True),
    }
    return loops, int(n_batches)


def product_calls(units: int) -> list[tuple[str, int, float, object]]:
    """Every matrix product of one update: (name, count, GFLOP each, product of an input).

    The shapes and calls are those of ``_lstm_forward`` and ``_lstm_gradients`` for one batch
    of ``BATCH`` windows of ``LOOKBACK`` steps with one feature.
    """
    rng = np.random.default_rng(0)

    def const(*shape):
        return tf.constant(rng.standard_normal(shape).astype(np.float32))

    gates, rows, steps = 4 * units, BATCH, LOOKBACK
    recurrent_t, kernel, head = const(gates, units), const(1, gates), const(units, 1)
    recurrent = tf.constant(recurrent_t.numpy().T)  # Keras' layout, for the comparison
    x_all, dz_all, dz = const(rows * steps, 1), const(rows * steps, gates), const(rows, gates)
    h_prev = const(rows * (steps - 1), units)
    dz_later = const(rows * (steps - 1), gates)
    d_pred = const(rows, 1)
    perm = tf.constant([1, 0], dtype=tf.int32)
    h = const(rows, units)

    def gflop(m, k, n):
        return 2 * m * k * n / 1e9

    return [
        ("input part of the gates, all steps", 1, gflop(rows * steps, 1, gates),
         lambda s: tf.matmul(x_all + s, kernel)),
        ("recurrent part, U^T @ h^T, transposed", steps - 1, gflop(rows, units, gates),
         lambda s: tf.transpose(tf.matmul(recurrent_t, h + s, transpose_b=True), perm)),
        ("head, h @ w", 1, gflop(rows, units, 1), lambda s: tf.matmul(h + s, head)),
        ("back through U, dz @ U^T", steps - 1, gflop(units, gates, rows),
         lambda s: tf.matmul(dz + s, recurrent_t)),
        ("input-kernel gradient", 1, gflop(1, rows * steps, gates),
         lambda s: tf.matmul(x_all + s, dz_all, transpose_a=True)),
        ("recurrent-kernel gradient, transposed", 1, gflop(units, rows * (steps - 1), gates),
         lambda s: tf.matmul(tf.transpose(dz_later + s, perm), h_prev)),
        ("head gradient", 1, gflop(units, rows, 1),
         lambda s: tf.matmul(h + s, d_pred, transpose_a=True)),
        # not made by the trainer: the recurrent product in Keras' layout, for comparison
        ("recurrent part in Keras' layout, h @ U", 0, gflop(rows, units, gates),
         lambda s: tf.matmul(h + s, recurrent)),
    ]  # fmt: skip


def product_loop(product, iterations: int):
    """A compiled loop that computes ``product`` once per iteration, chained through a scalar."""

    @tf.function(autograph=False)
    def loop():
        return tf.while_loop(
            lambda i, s: i < iterations,
            lambda i, s: (i + 1, tf.reshape(product(s), (-1,))[0] * 0.0),
            (0, tf.constant(0.0)),
        )

    return loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    load_before = load_average()
    loops, n_batches = epoch_loops(args.units)
    parts = {name: best_ms_per_iteration(fn, n_batches, args.repeats) for name, fn in loops.items()}
    empty = best_ms_per_iteration(product_loop(lambda s: s, PRODUCT_LOOPS), PRODUCT_LOOPS,
                                  args.repeats)  # fmt: skip
    products = []
    for name, count, gflop, product in product_calls(args.units):
        each = best_ms_per_iteration(product_loop(product, PRODUCT_LOOPS), PRODUCT_LOOPS,
                                     args.repeats) - empty  # fmt: skip
        products.append({"product": name, "count": count, "ms_each": round(each, 4),
                         "ms_per_update": round(count * each, 3),
                         "gflop_per_s": round(gflop / each * 1e3, 1)})  # fmt: skip
    product_ms = sum(p["ms_per_update"] for p in products)
    update = parts["update"]
    shares = {
        "forward": parts["forward"],
        "backward": parts["forward and backward"] - parts["forward"],
        "clipping and Adam": update - parts["forward and backward"],
    }
    load_after = load_average()
    print(f"LSTM({args.units}), batches of {BATCH} windows of {LOOKBACK} steps, one thread; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")  # fmt: skip
    print(f"one update: {update:.3f} ms ({n_batches} updates an epoch)")
    for name, ms in shares.items():
        print(f"  {name:<27}{ms:8.3f} ms  {100 * ms / update:5.1f} %")
    print(f"matrix products of one update: {product_ms:.3f} ms, {100 * product_ms / update:.1f} % "
          f"(empty loop iteration {1e3 * empty:.1f} us, subtracted)")  # fmt: skip
    for p in products:
        print(f"  {p['count']} x {p['product']:<40}{p['ms_each'] * 1e3:8.1f} us each"
              f"{p['gflop_per_s']:8.1f} GFLOP/s")  # fmt: skip
    record = {
        "date": utc_stamp(),
        "machine": machine_description(),
        "units": args.units,
        "batch_size": BATCH,
        "lookback": LOOKBACK,
        "updates_per_epoch": n_batches,
        "repeats": args.repeats,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "update_ms": round(update, 3),
        "parts_ms": {name: round(ms, 3) for name, ms in shares.items()},
        "empty_loop_iteration_ms": round(empty, 4),
        "products": products,
        "products_ms": round(product_ms, 3),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {args.output}")


if __name__ == "__main__":
    main()
