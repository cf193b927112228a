"""How a reproduction's wall time scales with Dask workers: measured with 1 and 2 local workers.

Runs every chapter at the book's defaults (``scripts/reproduce.py --defaults``) on a
LocalCluster of 1 and then 2 single-threaded workers, and writes the two wall times and the
task times of the 1-worker run to ``benchmarks/results/reproduce_scaling.json``; the
reproduction appendix projects further worker counts from those task times.

    .venv/bin/python benchmarks/reproduce_scaling.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from reproduce import APPENDICES, reproduce  # noqa: E402
from run_notebooks import chapters, machine_description, utc_stamp  # noqa: E402


def main() -> None:
    todo = [c for c in chapters() if c.name < APPENDICES]
    measured, task_seconds = {}, {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            results = reproduce(todo, Path(tmp), workers=workers, progress=False,
                                source_settings=False)  # fmt: skip
            measured[workers] = round(time.perf_counter() - start, 1)
        failed = [r.error for r in results if not r.ok]
        if failed:
            raise SystemExit(f"reproduction failed: {failed}")
        if workers == 1:
            task_seconds = {r.chapter: round(r.seconds, 1) for r in results}
        print(f"{workers} worker(s): {measured[workers]:.0f} s")
    out = {
        "what": "every chapter at the book's defaults",
        "date": utc_stamp(),
        "machine": machine_description(),
        "measured": measured,
        "task_seconds": task_seconds,
    }
    path = ROOT / "benchmarks" / "results" / "reproduce_scaling.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
