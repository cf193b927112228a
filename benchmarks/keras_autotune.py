"""Keras ``fit`` on arrays as Keras ships it and with the book's two changes to its input.

Keras feeds NumPy arrays to the model through a tf.data pipeline and opens a new iterator on
it every epoch. ``set_seed`` makes two changes, neither of which changes a number:
``tutorials_lib.repro.keras_arrays_without_autotune`` turns tf.data's autotuning off for these
pipelines, and ``keras_batches_fed_as_tensors`` hands the compiled training step each batch as
tensors instead of the iterator. This script trains the same model with ``SeedRunner`` in
three settings: ``on`` (Keras as shipped: autotuning on, the iterator passed in), ``off``
(autotuning off, the iterator passed in) and ``fed`` (both changes, as the book runs). Each run is a fresh single-threaded process, and two run side by
side, as on the two single-threaded workers of ``make reproduce``; the settings take turns
over ``--rounds`` rounds (in reverse order every other round). Per run it reports the wall time, the process's CPU time and a
checksum of the trained weights. The workload is chapter 6's IBM four-layer LSTM(50)
(RMSprop, batch 32) at the sources' settings, for ``--epochs`` epochs (default 10 of the
source's 50). A CPU-bound run has wall close to CPU time; the difference is time the process
waited with nothing to run. The checksums show whether the setting changes what is trained.
Writes ``benchmarks/results/keras_autotune.json``.

    .venv/bin/python benchmarks/keras_autotune.py [--rounds 3] [--epochs 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_notebooks import load_average, machine_description, utc_stamp  # noqa: E402

#: tf.data autotuning in Keras' array pipelines on or off; "fed": off, and batches as tensors
SETTINGS = ("on", "off", "fed")


def child(setting: str, epochs: int) -> dict:
    """One training run in this (fresh) process; returns its times and weight checksum."""
    from tutorials_lib import repro

    repro.configure_tensorflow_env()
    if setting == "on":  # Keras as shipped: set_seed must leave the pipelines alone
        repro.keras_arrays_without_autotune = lambda: None
    if setting != "fed":  # the iterator passed into the compiled step, as Keras does
        repro.keras_batches_fed_as_tensors = lambda: None
    import keras
    import numpy as np
    from source_runs import SEED, _ibm_windows, chapter_settings

    from tutorials_lib.models import build_stacked_rnn
    from tutorials_lib.training import SeedRunner

    p = chapter_settings("06_gru_closed_loop")
    sw = _ibm_windows(p)
    X = sw.X_train[..., None]

    def build(seed: int):
        return build_stacked_rnn(p["LOOKBACK"], 1, [p["UNITS"]] * p["LAYERS"],
                                 dropout=p["DROPOUT"], seed=seed)  # fmt: skip

    runner = SeedRunner(build, epochs=epochs, batch_size=p["LSTM_BATCH"],
                        optimizer=keras.optimizers.RMSprop)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    run = runner.train(SEED, X, sw.y_train)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    digest = hashlib.sha256()
    for w in run.model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return {"wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "epochs": epochs, "weights_sha256": digest.hexdigest()[:16]}  # fmt: skip


def side_by_side(setting: str, epochs: int, processes: int = 2) -> list[dict]:
    """``processes`` training runs at once, each in its own fresh process."""
    command = [sys.executable, __file__, "--child", setting, "--epochs", str(epochs)]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    running = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(processes)
    ]
    results = []
    for proc in running:
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"a training run failed ({setting}):\n{err[-2000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per run (default 10)")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.child:
        print(json.dumps(child(args.child, args.epochs)))
        return
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    load_before = load_average()[0]
    runs = {s: [] for s in SETTINGS}
    for k in range(args.rounds):
        for setting in SETTINGS if k % 2 == 0 else SETTINGS[::-1]:
            for r in side_by_side(setting, args.epochs):
                runs[setting].append(r)
                print(f"round {k + 1}, {setting:3s}: wall {r['wall_seconds']:6.1f} s, "
                      f"CPU {r['cpu_seconds']:6.1f} s, weights {r['weights_sha256']}", flush=True)  # fmt: skip
    summary = {}
    for setting, rs in runs.items():
        wall = statistics.median(r["wall_seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        summary[setting] = {"median_wall_seconds": wall, "median_cpu_seconds": cpu}
        print(f"{setting}: median wall {wall:.1f} s, CPU {cpu:.1f} s")
    same = len({r["weights_sha256"] for rs in runs.values() for r in rs}) == 1
    print("trained weights identical in every run" if same else "trained weights differ")
    out = {
        "date": utc_stamp(),
        "machine": machine_description(),
        "load_average_before": load_before,
        "load_average_after": load_average()[0],
        "workload": "chapter 6's IBM 4 x LSTM(50), RMSprop, batch 32, SeedRunner, one thread",
        "side_by_side": 2,
        "epochs": args.epochs,
        "rounds": args.rounds,
        "runs": runs,
        "summary": summary,
        "weights_identical": same,
    }
    path = ROOT / "benchmarks" / "results" / "keras_autotune.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
