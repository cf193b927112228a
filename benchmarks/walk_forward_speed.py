"""Wall time of the source-style walk-forward loop vs the compiled trainer, same data, same run.

Chapter 3's base configuration: the seeded cointegrated pair (60 steps), lookback 15, inputs
scaled to [-1, 1] by a scaler fitted on the first step's rows only (``scaled_windows``),
LSTM(32) -> Dropout(0.3) -> Dense(1), Adam, 3 epochs per step, batch 1. The paths:

* ``fit`` loop: ``fit`` / ``predict`` / ``evaluate`` at every step (the source's loop, with
  Keras' input pipelines as shipped: ``set_seed`` is kept from switching tf.data's autotuning
  off and from feeding the batches as tensors);
* ``WalkForward``: one compiled TensorFlow function per epoch, model built once, the LSTM
  unrolled with the loop's own gradient (``tutorials_lib.unrolled_lstm``), the graphs run
  by TensorFlow's single-threaded executor (the defaults);
* ``WalkForward, default executor``: the same on TensorFlow's default executor, built to
  run independent operations in parallel on a thread pool (``single_threaded=False``);
* ``WalkForward, Keras' LSTM loop``: the trainer with the LSTM as Keras runs it, a
  TensorFlow ``while`` loop (``unrolled_lstm=False``);
* ``WalkForward + XLA`` (``jit_compile=True``).

Each is timed on a fresh model: with the source's settings (dropout 0.3, shuffling on), and
with dropout 0 and shuffling off, where nothing random is left and the predictions are
compared with the fit loop's; then with Keras' own ``unroll=True`` LSTM in both the fit loop
and the trainer, whose gradients sum the time steps in another order. "first run" includes
tracing / XLA compilation; "warm" is a second run
with the same seeds on the same trainer (what every further seed costs), and "repeatable"
says whether its predictions equal the first run's bit for bit. Every path runs ``--rounds``
times (default 3), the fit loop and the engines back to back in each round; the JSON keeps
every round's times, and the medians and the median speed-up within a round are reported,
since on a shared machine single timings vary by tens of per cent.

Run from the repository root, e.g.
``PYTHONPATH=. TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python
benchmarks/walk_forward_speed.py``. Prints a table and writes the figures, with the machine
(CPU model, cores) and its load average at the start and the end, to
``benchmarks/results/walk_forward_speed.json``. On a shared machine the load average says
how far the times are inflated.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from tutorials_lib.repro import configure_tensorflow_env  # imports no TensorFlow

configure_tensorflow_env(keep_existing=True, pin_threads=False)  # TensorFlow's own threads

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

from tutorials_lib import repro  # noqa: E402
from tutorials_lib.models import build_stateless_lstm  # noqa: E402
from tutorials_lib.report import describe_machine  # noqa: E402
from tutorials_lib.repro import set_seed  # noqa: E402
from tutorials_lib.synthetic import cointegrated_pair  # noqa: E402
from tutorials_lib.walk_forward import (  # noqa: E402
    WalkForward,
    fit_walk_forward,
    pair_walk_forward_inputs,
)

SEED, N, DELTA, SIGMA = 0, 60, 0.9, 0.1  # 61 points -> 46 windows -> 45 steps
LOOKBACK, BATCH, HIDDEN, DROPOUT, EPOCHS = 15, 1, 32, 0.3, 3
AGREE = 1e-5  # predictions closer than this to the fit loop's count as agreeing
OUT = Path(__file__).resolve().parent / "results" / "walk_forward_speed.json"


def data() -> tuple[np.ndarray, np.ndarray]:
    """Input windows (scaler fitted on rows 0..LOOKBACK only) and intercept targets."""
    x, y = cointegrated_pair(N, DELTA, SIGMA, seed=SEED)
    return pair_walk_forward_inputs(np.column_stack([x, y]), LOOKBACK)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def agreement(pred: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Largest |difference| and how many leading predictions agree within AGREE."""
    gap = np.abs(pred - ref)
    return float(gap.max()), int(np.argmax(gap > AGREE)) if np.any(gap > AGREE) else len(gap)


ENGINES = {  # path -> WalkForward options
    "WalkForward": {"jit_compile": False, "unrolled_lstm": True},
    "WalkForward, default executor": {
        "jit_compile": False,
        "unrolled_lstm": True,
        "single_threaded": False,
    },
    "WalkForward, Keras' LSTM loop": {"jit_compile": False, "unrolled_lstm": False},
    "WalkForward + XLA": {"jit_compile": True, "unrolled_lstm": False},
}
SETTINGS = [  # label, dropout, shuffle, Keras' unroll=True, engine paths
    ("source settings", DROPOUT, True, False, list(ENGINES)),
    ("shuffle off, dropout 0", 0.0, False, False, list(ENGINES)),
    ("same, Keras unroll=True", 0.0, False, True, ["WalkForward"]),
]


def one_round(X, y) -> dict:
    """Every path once, the fit loop first, then each engine cold and warm, per setting."""
    out = {}
    for label, dropout, shuffle, unroll, paths in SETTINGS:

        def model(d, unroll=unroll):
            return build_stateless_lstm(LOOKBACK, 2, HIDDEN, d, seed=SEED, unroll=unroll)

        t_fit, ref = timed(
            lambda d=dropout, s=shuffle: fit_walk_forward(
                model(d), X, y, epochs=EPOCHS, batch_size=BATCH, shuffle=s
            )
        )
        out[(label, "fit/predict/evaluate loop")] = {"first": t_fit, "warm": t_fit}
        for name in paths:
            engine = WalkForward(model(dropout), batch_size=BATCH, **ENGINES[name])
            kw = {"epochs": EPOCHS, "shuffle": shuffle, "seed": SEED}
            t_first, res = timed(
                lambda e=engine, d=dropout, kw=kw: e.run(X, y, init_from=model(d), **kw)
            )
            t_warm, res2 = timed(
                lambda e=engine, d=dropout, kw=kw: e.run(X, y, init_from=model(d), **kw)
            )
            gap, agree = (None, None) if shuffle else agreement(res.predictions, ref.predictions)
            out[(label, name)] = {
                "first": t_first, "warm": t_warm, "gap": gap, "agree": agree,
                "repeatable": bool(np.array_equal(res.predictions, res2.predictions)),
                "fit": t_fit,
            }  # fmt: skip
    return out


def summarise(rounds: list[dict]) -> list[dict]:
    """One row per setting and path: medians over the rounds, and every round's figures.

    Speed-ups are taken within each round (the fit loop and the engine ran back to back, on
    the machine as it was then), and their median and range reported.
    """
    rows = []
    for setting, path in rounds[0]:
        runs = [r[(setting, path)] for r in rounds]
        first = [run["first"] for run in runs]
        warm = [run["warm"] for run in runs]
        row = {"setting": setting, "path": path,
               "first_run_s": round(float(np.median(first)), 2),
               "warm_run_s": round(float(np.median(warm)), 2),
               "first_runs_s": [round(t, 2) for t in first],
               "warm_runs_s": [round(t, 2) for t in warm],
               "max_abs_diff_vs_fit": None, "steps_within_1e-5": None,
               "all_equal_to_fit": None, "repeatable": None,
               "speedup_cold": 1.0, "speedup_cold_range": [1.0, 1.0], "speedup_warm": 1.0}  # fmt: skip
        if "fit" in runs[0]:
            cold = [run["fit"] / run["first"] for run in runs]
            again = [run["fit"] / run["warm"] for run in runs]
            row["speedup_cold"] = round(float(np.median(cold)), 2)
            row["speedup_cold_range"] = [round(min(cold), 2), round(max(cold), 2)]
            row["speedup_warm"] = round(float(np.median(again)), 2)
            row["repeatable"] = all(run["repeatable"] for run in runs)
            if runs[0]["gap"] is not None:
                gap = max(run["gap"] for run in runs)
                row["max_abs_diff_vs_fit"] = float(f"{gap:.2g}")
                row["steps_within_1e-5"] = min(run["agree"] for run in runs)
                row["steps_within_1e-5_runs"] = [run["agree"] for run in runs]
                row["all_equal_to_fit"] = gap == 0.0  # every prediction, bit for bit
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every path is run; medians are reported (default 3)")  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    load_start = load_average()
    # the fit loop as the source ran it: set_seed leaves Keras' array pipelines as shipped,
    # with tf.data's autotuning on and the iterator passed into the compiled step (as
    # benchmarks/keras_autotune.py's "on" runs do)
    repro.keras_arrays_without_autotune = lambda: None
    repro.keras_batches_fed_as_tensors = lambda: None
    set_seed(SEED)
    X, y = data()
    rows = summarise([one_round(X, y) for _ in range(args.rounds)])
    report = {
        "benchmark": "walk-forward speed, chapter 3 base configuration",
        "date": utc_stamp(),
        "machine": machine_description()
        | {"platform": f"{platform.system()} {platform.machine()}"},
        "load_average": load_start,
        "load_average_end": load_average(),
        "load_average_note": "1, 5 and 15 min load averages (os.getloadavg) at the start "
        "and the end of the benchmark; above the core count, others were using the CPU "
        "and every time is inflated",
        "rounds": args.rounds,
        "fit_loop_pipelines": "Keras as shipped (tf.data autotuning on, the iterator passed "
        "into the compiled step)",
        "steps": len(X) - 1,
        "epochs": EPOCHS,
        "batch_size": BATCH,
        "hidden": HIDDEN,
        "lookback": LOOKBACK,
        "features": int(X.shape[2]),
        "rows": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1) + "\n")

    print(
        f"walk-forward speed: {report['steps']} steps x {EPOCHS} epochs, batch {BATCH}, "
        f"LSTM({HIDDEN}), lookback {LOOKBACK}; medians of {args.rounds} rounds\n"
        f"{describe_machine(report['machine'])}; load average {report['load_average']} "
        f"at start, {report['load_average_end']} at end; {report['date']}\n"
    )
    print(
        f"{'setting':<25}{'path':<31}{'first run s':>12}{'warm run s':>11}{'x cold':>7}"
        f"{'(range)':>12}{'x warm':>7}{'max |dpred| vs fit':>19}{'steps < 1e-5':>13}"
        f"{'all equal':>10}{'repeatable':>11}"
    )
    yes_no = {None: "-", True: "yes", False: "no"}
    for r in rows:
        gap = "-" if r["max_abs_diff_vs_fit"] is None else f"{r['max_abs_diff_vs_fit']:.1e}"
        agree = "-" if r["steps_within_1e-5"] is None else f"{r['steps_within_1e-5']}/{len(X) - 1}"
        lo, hi = r["speedup_cold_range"]
        print(
            f"{r['setting']:<25}{r['path']:<31}{r['first_run_s']:>12.2f}{r['warm_run_s']:>11.2f}"
            f"{r['speedup_cold']:>7.1f}{f'({lo:.1f}-{hi:.1f})':>12}{r['speedup_warm']:>7.1f}"
            f"{gap:>19}{agree:>13}{yes_no[r['all_equal_to_fit']]:>10}"
            f"{yes_no[r['repeatable']]:>11}"
        )
    print(
        "\nfirst run includes tracing (and XLA compilation); warm = a second run with the same"
        "\nseeds on the same trainer, the cost of every additional seed or setting. The fit loop"
        "\nhas no warm state to reuse: each run pays its per-call overhead again. Speed-ups are"
        "\ntaken within each round and their median (range) reported. 'steps < 1e-5': how many"
        "\nleading predictions agree with the fit loop's within 1e-5 (the fewest over rounds);"
        "\n'all equal': every prediction equals the fit loop's bit for bit, in every round."
        "\nWhere a compiled graph does not perform exactly the same float32 operations in the"
        "\nsame order (XLA fuses and reorders them; Keras' unroll=True sums the time steps'"
        "\ngradients in another order), thousands of batch-1 Adam updates amplify last-bit"
        f"\ndifferences until later predictions differ visibly.\nwritten to {OUT}"
    )


if __name__ == "__main__":
    main()
