"""How a reproduction's wall time scales with Dask workers: measured with 1 and 2 local workers.

Runs every chapter at the book's defaults (``scripts/reproduce.py --defaults``) on a
LocalCluster of 1 and then 2 single-threaded workers, in rounds (default 2): one run of a
shared machine can be tens of per cent off the next, so the record keeps every round's wall
time and their median, and each chapter's median task time on 1 worker (``task_seconds``) and
on 2 (``task_seconds_two_workers``: the same task beside another), in
``benchmarks/results/reproduce_scaling.json``. The reproduction appendix projects further
worker counts from the 1-worker task times and compares the two. A round takes 15 to 20
minutes on two cores.

    .venv/bin/python benchmarks/reproduce_scaling.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from reproduce import APPENDICES, reproduce  # noqa: E402
from run_notebooks import (  # noqa: E402
    chapters,
    data_description,
    machine_description,
    utc_stamp,
    warn_if_fallback,
)

WORKER_COUNTS = (1, 2)


def timed_run(todo: list[Path], workers: int) -> tuple[float, dict[str, float]]:
    """Wall time of one reproduction at the defaults, and each task's time."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        results = reproduce(todo, Path(tmp), workers=workers, progress=False,
                            source_settings=False)  # fmt: skip
        wall = time.perf_counter() - start
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise SystemExit(f"reproduction failed: {failed}")
    return wall, {r.chapter: r.seconds for r in results}


def medians(times: dict) -> dict:
    """The median over the rounds of each list of times (a worker count's wall times, a
    chapter's task times), in seconds to 0.1."""
    return {key: round(statistics.median(v), 1) for key, v in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per worker count (default 2)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    todo = [c for c in chapters() if c.name < APPENDICES]
    data = data_description()
    warn_if_fallback(data)
    walls = {k: [] for k in WORKER_COUNTS}
    task_times: dict[int, dict[str, list[float]]] = {k: {} for k in WORKER_COUNTS}
    for round_number in range(1, args.rounds + 1):
        for workers in WORKER_COUNTS:
            wall, tasks = timed_run(todo, workers)
            walls[workers].append(round(wall, 1))
            for chapter, seconds in tasks.items():
                task_times[workers].setdefault(chapter, []).append(seconds)
            print(f"round {round_number}, {workers} worker(s): {wall:.0f} s")
    out = {
        "what": "every chapter at the book's defaults",
        "date": utc_stamp(),
        "machine": machine_description(),
        "data": data,
        "rounds": args.rounds,
        "measured": medians(walls),
        "measured_rounds": walls,
        "task_seconds": medians(task_times[1]),
        "task_seconds_two_workers": medians(task_times[2]),
    }
    path = ROOT / "benchmarks" / "results" / "reproduce_scaling.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    for k in WORKER_COUNTS:
        print(f"{k} worker(s): median {out['measured'][k]:.0f} s over {args.rounds} round(s), "
              f"range {min(walls[k]):.0f}-{max(walls[k]):.0f} s")  # fmt: skip
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
