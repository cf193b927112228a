"""The sources' own experiments, one run each as the sources ran them, with the book's trainers.

The sources trained every model once and trained only some of the models they describe:

- 000 (chapter 3): the walk-forward base run, its four one-at-a-time changes (hidden 96,
  epochs 10, batch 10, lookback 5), the four-layer stateful stack, and the sweeps of batch
  size 1..24, hidden units 15..74 and epochs 1..19 (103 runs), each a ``WalkForwardTask`` on
  the engine without XLA: its predictions equal the source's fit loop's bit for bit. (The
  chapter's parameter file turns XLA on for three seeds per point; with one seed nearly
  every run is an architecture of its own, and XLA's compile per architecture costs more
  than its faster steps save);
- 001 (chapter 4): one LSTM(256) of 200 epochs on the 7-day Bitcoin windows, batch 7,
  clipping 4, by the chapter's ``ParallelLSTMTrainer``;
- 002 (chapter 5): the Microsoft stack (LSTM 128-64, Dense 25) for 10 epochs at batch 200 and
  10 epochs at batch 1, by ``SeedRunner``;
- 003 (chapter 7): LSTM(300) -> Dense(2) on windows of 100 vectors of the 17,990-row
  saw-tooth, batch 450, 10 epochs, 5 % validation, by ``fit_seeded``. The source builds the
  300/500/200 stack but never trains it, so it is not run here;
- 004 (chapters 5 and 6): the IBM four-layer LSTM(50) (RMSprop, 50 epochs, batch 32) and
  four-layer GRU(50) (SGD with the source's decay, 50 epochs, batch 150), each forecasting
  the test year, and the GRU's closed loop of one test year from the last training window.
  The mixed and bidirectional stacks it recommends come with neither code nor settings, and
  neither is run here.

Data are the chapters' (the data directory, or their fall-backs), windowed and scaled as the
chapters do, with seed 0. Every run is one Dask task on a ``LocalCluster`` of single-threaded
workers (TensorFlow limited to one thread per worker), the longest first, each to the first
worker free. The record keeps each task's time, worker and start, their sum (one worker's
work), each worker's busy time and the wall time of the whole set, in
``benchmarks/results/source_runs.json``. The performance appendix compares the wall time
with the 12-minute target. With ``--only`` a subset runs (a smoke test; nothing is written).

    .venv/bin/python benchmarks/source_runs.py [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebooks import (  # noqa: E402
    data_description,
    load_average,
    machine_description,
    utc_stamp,
    warn_if_fallback,
)

from tutorials_lib.distributed import local_cluster  # noqa: E402
from tutorials_lib.results import notebook_parameters  # noqa: E402

SEED = 0  # every run's model and data seed: one run each, as the sources ran them


def chapter_settings(stem: str) -> dict:
    """A chapter's parameter defaults updated by its source parameter file, if it has one."""
    source = ROOT / "book" / "params" / f"{stem}_source.yaml"
    return notebook_parameters(
        ROOT / "book" / f"{stem}.ipynb", source if source.is_file() else None
    )


def _tensorflow_ready() -> None:
    """The book's TensorFlow environment with one thread, before TensorFlow is imported."""
    if "tensorflow" not in sys.modules:
        from tutorials_lib.repro import configure_tensorflow_env

        configure_tensorflow_env()  # one thread per pool, as the notebooks


def walk_forward_run(p: dict, config: dict) -> dict:
    """000: one walk-forward run of chapter 3 (settings ``p``) on its cointegrated pair."""
    _tensorflow_ready()
    import numpy as np

    from tutorials_lib.distributed import WalkForwardTask, walk_forward_task
    from tutorials_lib.synthetic import cointegrated_pair
    from tutorials_lib.walk_forward import pair_walk_forward_inputs

    x, y = cointegrated_pair(p["N_STEPS"], p["DELTA"], p["SIGMA"], p0=0.0, seed=p["SEED"])
    X, targets = pair_walk_forward_inputs(np.column_stack([x, y]), config["lookback"])
    settings = {k: v for k, v in config.items() if k != "lookback"}
    task = WalkForwardTask(X, targets, seed=SEED, dropout=p["DROPOUT"],
                           learning_rate=p["LEARNING_RATE"], jit_compile=False,
                           **settings)  # fmt: skip
    result = walk_forward_task(task)
    return {"predictions": len(result.predictions)}


def bitcoin_run(p: dict) -> dict:
    """001: chapter 4's LSTM at the source's settings on every training window, one model."""
    _tensorflow_ready()
    from sklearn.preprocessing import StandardScaler

    from tutorials_lib.data import load_bitcoin
    from tutorials_lib.models import build_stacked_rnn
    from tutorials_lib.training import LSTMJob, ParallelLSTMTrainer
    from tutorials_lib.windows import scaled_windows

    close = load_bitcoin(seed=p["DATA_SEED"])["close"].to_numpy()
    lookback = p["LOOKBACK"]
    first_test_day = int(p["TRAIN_FRACTION"] * len(close)) + lookback  # as the chapter
    sw = scaled_windows(close, lookback, train_size=first_test_day, scaler=StandardScaler())
    trainer = ParallelLSTMTrainer(batch_size=p["BATCH_SIZE"], learning_rate=p["LEARNING_RATE"],
                                  clip_norm=p["CLIP_NORM"], patience=0)  # fmt: skip
    model = build_stacked_rnn(lookback, 1, (p["UNITS"],), seed=SEED)
    run = trainer.fit([LSTMJob(model, sw.X_train, sw.y_train, SEED, p["EPOCHS"])])[0]
    trainer.predict([run.weights], [sw.X_test])
    batches = -(-len(sw.X_train) // p["BATCH_SIZE"])
    return {"training_windows": len(sw.X_train), "updates": p["EPOCHS"] * batches}


def _msft_windows(p: dict):
    """Chapter 5's Microsoft training windows, standardised as R's scale() does."""
    import numpy as np

    from tutorials_lib.data import load_stock
    from tutorials_lib.evaluation import price_column
    from tutorials_lib.windows import sliding_windows

    lag = p["MSFT_LAG"]
    price = price_column(load_stock("MSFT"), p["MSFT_COLUMN"])
    X, y = sliding_windows(price, lag)
    n_train = int(np.floor((len(price) - lag) * p["MSFT_TRAIN_FRACTION"]))  # R's floor()
    X, y = X[:n_train], y[:n_train]
    X = (X - X.mean()) / X.std(ddof=1)  # the training windows' mean and sample sd
    y = (y - y.mean()) / y.std(ddof=1)
    return X[..., None].astype(np.float32), y.astype(np.float32)


def msft_run(p: dict, batch_size: int) -> dict:
    """002: the Microsoft LSTM 128-64 + Dense 25 at ``batch_size``, Adam 0.001."""
    _tensorflow_ready()
    from tutorials_lib.models import build_stacked_rnn
    from tutorials_lib.training import SeedRunner

    lag = p["MSFT_LAG"]

    def build(seed: int):
        return build_stacked_rnn(lag, 1, units=(128, 64), dense=(25,),
                                 dense_activation="linear", seed=seed)  # fmt: skip

    X, y = _msft_windows(p)
    if batch_size == 1:  # whole epochs unless the settings cap an epoch's updates
        epochs, steps = p["MSFT_BATCH1_EPOCHS"], p["MSFT_BATCH1_STEPS"]
    else:
        epochs, steps = p["MSFT_EPOCHS"], None
    runner = SeedRunner(build, epochs=epochs, batch_size=batch_size, steps_per_epoch=steps)
    runner.train(SEED, X, y)
    return {"training_windows": len(X), "updates": epochs * (steps or -(-len(X) // batch_size))}


def _ibm_windows(p: dict):
    """Chapter 6's IBM windows: the test year is the last full year, min-max on training."""
    from sklearn.preprocessing import MinMaxScaler

    from tutorials_lib.data import load_stock
    from tutorials_lib.evaluation import last_full_year, price_column, year_split
    from tutorials_lib.windows import scaled_windows

    prices = load_stock(p["TICKER"])
    year = last_full_year(prices.index) if p["TEST_YEAR"] is None else int(p["TEST_YEAR"])
    split = year_split(prices.index, year)
    price = price_column(prices.iloc[: split.stop], p["COLUMN"])
    return scaled_windows(price, p["LOOKBACK"], split.train_size, scaler=MinMaxScaler())


def ibm_run(p: dict, cell: str) -> dict:
    """004: the source's four-layer stack of ``cell`` units, as chapter 6 trains it."""
    _tensorflow_ready()
    import keras

    from tutorials_lib.forecast import closed_loop
    from tutorials_lib.models import build_stacked_rnn
    from tutorials_lib.training import SeedRunner, predict

    def build(seed: int):
        return build_stacked_rnn(p["LOOKBACK"], 1, [p["UNITS"]] * p["LAYERS"], cell=cell,
                                 dropout=p["DROPOUT"], seed=seed)  # fmt: skip

    if cell == "gru":  # SGD with the source's decay: lr / (1 + decay * updates)

        def optimizer():
            decay = keras.optimizers.schedules.InverseTimeDecay(
                p["GRU_LR"], decay_steps=1, decay_rate=p["GRU_DECAY"]
            )
            return keras.optimizers.SGD(learning_rate=decay, momentum=p["GRU_MOMENTUM"])

        epochs, batch_size = p["GRU_EPOCHS"], p["GRU_BATCH"]
    else:  # RMSprop at Keras' defaults
        optimizer, epochs, batch_size = keras.optimizers.RMSprop, p["LSTM_EPOCHS"], p["LSTM_BATCH"]
    sw = _ibm_windows(p)
    X = sw.X_train[..., None]
    runner = SeedRunner(build, epochs=epochs, batch_size=batch_size, optimizer=optimizer)
    run = runner.train(SEED, X, sw.y_train)
    predict(run.model, sw.X_test[..., None])  # the teacher-forced forecast of the test year
    if cell == "gru":  # and the source's closed loop over the test year
        closed_loop(run.model, sw.X_test[0], len(sw.X_test))
    return {"training_windows": len(X), "updates": epochs * -(-len(X) // batch_size)}


def vector_run(p: dict) -> dict:
    """003: chapter 7's LSTM -> Dense(2) at the source's sizes, RMSprop, 5 % validation."""
    _tensorflow_ready()
    import keras

    from tutorials_lib.models import build_stacked_rnn
    from tutorials_lib.synthetic import sawtooth_series
    from tutorials_lib.training import fit_seeded
    from tutorials_lib.windows import scaled_windows

    lookback = p["LOOKBACK"]
    values = sawtooth_series(p["N_ROWS"], p["PERIOD"], (0, p["SHIFT"]), noise=p["NOISE"],
                             lookback=lookback, seed=p["DATA_SEED"])  # fmt: skip
    sw = scaled_windows(values, lookback, round(p["N_ROWS"] * (1 - p["TEST_FRACTION"])))
    X, Y = sw.X_train, sw.y_train[:, :2]
    cut = len(X) - round(p["VALIDATION_SPLIT"] * len(X))

    def build(seed: int):
        return build_stacked_rnn(lookback, X.shape[2], units=[p["UNITS"]], dropout=0.0,
                                 outputs=2, seed=seed)  # fmt: skip

    result = fit_seeded(build, X[:cut], Y[:cut], seed=SEED, epochs=p["EPOCHS"],
                        batch_size=p["BATCH_SIZE"], optimizer=keras.optimizers.RMSprop,
                        validation=(X[cut:], Y[cut:]))  # fmt: skip
    result.model(sw.X_test.astype("float32"), training=False)
    return {"training_windows": cut, "updates": p["EPOCHS"] * -(-cut // p["BATCH_SIZE"])}


def walk_forward_configs(p: dict) -> dict[str, dict]:
    """000's runs: the base, its one-at-a-time changes, the stateful stack and the sweeps,
    each a full configuration of chapter 3 (settings ``p``), the costliest first."""
    base = {"hidden": p["HIDDEN"], "epochs": p["EPOCHS"], "batch_size": p["BATCH_SIZE"],
            "lookback": p["LOOKBACK"], "layers": 1, "stateful": False, "shuffle": True}  # fmt: skip
    stack = {"layers": p["STACK_LAYERS"], "stateful": True, "shuffle": False}
    changes = {"base": {}, **{f"{k} {v}": {k: v} for k, v in p["COMPARE"].items()},
               f"stateful {p['STACK_LAYERS']}-layer stack": stack}  # fmt: skip
    for name, values in p["SWEEP"].items():
        changes.update({f"{name} sweep {v}": {name: v} for v in values})
    configs = {name: base | change for name, change in changes.items()}
    # a run's cost grows with its epochs and layers and falls with its batch size
    cost = {n: c["epochs"] * c["layers"] / c["batch_size"] for n, c in configs.items()}
    return {name: configs[name] for name in sorted(configs, key=lambda n: -cost[n])}


def source_runs() -> dict[str, tuple]:
    """Every run, named ``source: experiment``, as (function, arguments), longest first."""
    p3, p4, p5, p6, p7 = (chapter_settings(stem) for stem in (
        "03_cointegrated_walk_forward", "04_bitcoin", "05_stock_lstm", "06_gru_closed_loop",
        "07_vector_sequences"))  # fmt: skip
    runs = {
        f"003: LSTM({p7['UNITS']}), {p7['EPOCHS']} epochs": (vector_run, (p7,)),
        f"004: {p6['LAYERS']} x GRU({p6['UNITS']}), {p6['GRU_EPOCHS']} epochs, closed loop":
            (ibm_run, (p6, "gru")),
        f"004: {p6['LAYERS']} x LSTM({p6['UNITS']}), {p6['LSTM_EPOCHS']} epochs":
            (ibm_run, (p6, "lstm")),
        f"002: MSFT stack, batch 1, {p5['MSFT_BATCH1_EPOCHS']} epochs": (msft_run, (p5, 1)),
        f"001: LSTM({p4['UNITS']}), {p4['EPOCHS']} epochs": (bitcoin_run, (p4,)),
        f"002: MSFT stack, batch {p5['MSFT_BATCH_SIZE']}, {p5['MSFT_EPOCHS']} epochs":
            (msft_run, (p5, p5["MSFT_BATCH_SIZE"])),
    }  # fmt: skip
    configs = walk_forward_configs(p3)
    runs.update({f"000: {name}": (walk_forward_run, (p3, c)) for name, c in configs.items()})
    return runs


def timed(fn, args: tuple) -> dict:
    """Run ``fn(*args)``; return what it reports, its wall and CPU seconds, when it started and
    ended (Unix time) and which worker ran it."""
    from distributed import get_worker

    started, wall, cpu = time.time(), time.perf_counter(), time.process_time()
    out = fn(*args)
    return out | {"seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu,
                  "started": started, "ended": time.time(), "worker": get_worker().name}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    parser.add_argument("--only", help="run only the tasks whose name contains this text")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    runs = source_runs()
    if args.only:
        runs = {k: v for k, v in runs.items() if args.only in k}
        if not runs:
            parser.error(f"--only {args.only!r} matches no task")
    from distributed import Client, as_completed

    data = data_description()
    warn_if_fallback(data)
    load_before = load_average()[0]
    with local_cluster(args.workers) as cluster, Client(cluster) as client:
        # One task per worker at a time, the next longest to the first worker free (greedy
        # list scheduling). Submitted all at once, the runs were placed on workers ahead of
        # time, before their lengths were known, and work stealing did not even them out:
        # in one run a worker sat idle for the last 340 s while the other worked through a
        # queue of walk-forward runs.
        waiting, names, done = list(runs.items()), {}, {}
        running = as_completed()
        start, start_time = time.perf_counter(), time.time()

        def submit_next() -> None:
            name, (fn, fn_args) = waiting.pop(0)
            future = client.submit(timed, fn, fn_args, key=f"source-run-{len(names)}", pure=False)
            names[future.key] = name
            running.add(future)

        for _ in range(min(args.workers, len(waiting))):
            submit_next()
        for future in running:
            name = names[future.key]
            try:
                done[name] = future.result()
            except Exception as err:
                raise SystemExit(f"run {name!r} failed: {type(err).__name__}: {err}") from err
            print(f"{name:48s} {done[name]['seconds']:8.1f} s", flush=True)
            if waiting:
                submit_next()
        wall = time.perf_counter() - start
    done = {name: done[name] for name in runs}  # the record keeps the submission order
    work = sum(r["seconds"] for r in done.values())
    busy, last = {}, {}  # per worker: seconds running tasks, and when its last task ended
    for r in done.values():
        r["started"] -= start_time  # seconds after the first submission
        r["ended"] -= start_time
        busy[r["worker"]] = busy.get(r["worker"], 0.0) + r["seconds"]
        last[r["worker"]] = max(last.get(r["worker"], 0.0), r["ended"])
    for worker in sorted(busy):
        print(f"worker {worker}: {busy[worker]:.0f} s running tasks, last ended at "
              f"{last[worker]:.0f} s")  # fmt: skip
    by_source = {}
    for name, r in done.items():
        by_source[name.split(":")[0]] = by_source.get(name.split(":")[0], 0.0) + r["seconds"]
    print(f"{len(done)} runs on {args.workers} worker(s): wall {wall:.0f} s ({wall / 60:.1f} min); "
          f"task time {work:.0f} s; by source: "
          + ", ".join(f"{s} {t:.0f} s" for s, t in sorted(by_source.items())))  # fmt: skip
    if args.only:
        return
    out = {
        "date": utc_stamp(),
        "workers": args.workers,
        "machine": machine_description(),
        "data": data,
        "load_average_before": load_before,
        "load_average_after": load_average()[0],
        "wall_seconds": round(wall, 1),
        "task_seconds": round(work, 1),
        "seconds_by_source": {s: round(t, 1) for s, t in sorted(by_source.items())},
        "worker_busy_seconds": {str(w): round(t, 1) for w, t in sorted(busy.items())},
        "worker_last_end_seconds": {str(w): round(t, 1) for w, t in sorted(last.items())},
        "runs": {
            name: {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}
            for name, r in done.items()
        },  # fmt: skip
    }
    path = ROOT / "benchmarks" / "results" / "source_runs.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
