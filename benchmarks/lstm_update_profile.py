"""Where one update of chapter 4's trainer spends its time, on one thread.

Chapter 4 trains LSTM(256) -> Dense(1) on batches of 7 windows of 7 days with
:class:`tutorials_lib.training.ParallelLSTMTrainer`: 146 updates per epoch, 200 epochs per
run. This script splits one update into its parts and times each part as a compiled loop over
an epoch's batches (the chapter's data, windowing and batch plan), best of ``--repeats`` (5):

* ``update``: the trainer's own compiled batch step (forward, written-out backward pass,
  global-norm clipping, Adam), as its epoch graph calls it;
* ``update, written inline``: the same operations written into the loop, without the call;
* ``forward``: the forward pass and the loss alone;
* ``forward and backward``: the same plus the gradients, without clipping or Adam;
* ``matrix products``: every matrix product of one update, with the same shapes and the same
  calls as the trainer makes, each timed in a loop of its own; the time of an empty loop of the
  same construction is subtracted.

The backward pass is ``forward and backward`` minus ``forward``; clipping and Adam are the
inline update minus ``forward and backward``; the call costs ``update`` minus the inline update.
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
    ParallelLSTMTrainer,
    _batch_gradients,
    _batch_loss,
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
    """Compiled loops over one epoch's batches: the update, forward, forward and backward."""
    X, y = training_windows()
    trainer = ParallelLSTMTrainer(batch_size=BATCH, learning_rate=LEARNING_RATE, clip_norm=CLIP)
    weights = build_stacked_rnn(LOOKBACK, 1, (units,), seed=0).get_weights()
    params = [tf.constant(w) for w in weights]
    zeros = [tf.zeros_like(p) for p in params]
    index, weight, n_batches = batch_plan(len(X), len(X), BATCH, True, np.random.default_rng(0))
    index, weight = tf.constant(index), tf.constant(weight)
    x, t = tf.constant(X[..., None]), tf.constant(y)
    perm = tf.constant([1, 0], dtype=tf.int32)

    def over_batches(body, state):
        return tf.while_loop(
            lambda b, *_: b < n_batches, lambda b, *s: (b + 1, *body(b, *s)), (0, *state)
        )

    def loss_and_grads(b, with_grads: bool):
        loss, forward = _batch_loss(params, x, t, index[b], weight[b])
        if not with_grads:
            return loss
        grads = _batch_gradients(params, weight[b], forward, perm)
        return loss + tf.add_n([tf.reshape(g, (-1,))[0] for g in grads])  # keeps every gradient

    def updates(step):
        """One epoch of updates by ``step``, the trainer's compiled step or its Python body."""

        @tf.function(autograph=False)
        def loop():
            def body(b, p, m, v, s):
                return step(p, m, v, s, x, t, index[b], weight[b], perm)[2:]

            return over_batches(body, (params, zeros, zeros, tf.constant(0.0)))

        return loop

    def losses(with_grads: bool):
        """One epoch of the forward pass (and the backward pass), summing the losses."""
        return tf.function(
            lambda: over_batches(lambda b, acc: (acc + loss_and_grads(b, with_grads),), (0.0,)),
            autograph=False,
        )

    loops = {
        "update": updates(trainer._step_function((LOOKBACK, 1, units))),
        "update, written inline": updates(trainer._copy_step),
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
    recurrent, kernel, head = const(units, gates), const(1, gates), const(units, 1)
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
        ("recurrent part, h @ U", steps - 1, gflop(rows, units, gates),
         lambda s: tf.matmul(h + s, recurrent)),
        ("head, h @ w", 1, gflop(rows, units, 1), lambda s: tf.matmul(h + s, head)),
        ("back through U, U @ dz^T, transposed", steps - 1, gflop(units, gates, rows),
         lambda s: tf.transpose(tf.matmul(recurrent, dz + s, transpose_b=True), perm)),
        ("input-kernel gradient", 1, gflop(1, rows * steps, gates),
         lambda s: tf.matmul(x_all + s, dz_all, transpose_a=True)),
        ("recurrent-kernel gradient", 1, gflop(units, rows * (steps - 1), gates),
         lambda s: tf.matmul(h_prev + s, dz_later, transpose_a=True)),
        ("head gradient", 1, gflop(units, rows, 1),
         lambda s: tf.matmul(h + s, d_pred, transpose_a=True)),
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
        "clipping and Adam": parts["update, written inline"] - parts["forward and backward"],
        "call of the compiled step": update - parts["update, written inline"],
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
