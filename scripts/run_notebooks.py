"""Execute the book's chapter notebooks with papermill, one at a time.

For each chapter ``book/NN_name.md``: refresh the paired ``.ipynb`` inputs from the ``.md``
(jupytext, the ``.md`` wins), execute it into a temporary file, strip the volatile
metadata (timestamps, per-cell durations; the notebook keeps its parameters and its run
time in whole seconds for the book's execution report), and only on success move it into
place. A failing cell stops the run with the notebook and cell named.

    python scripts/run_notebooks.py                       # every chapter, in place
    python scripts/run_notebooks.py book/04_bitcoin.md    # one chapter
    python scripts/run_notebooks.py --params book/params/04_bitcoin_source.yaml \
        --output-dir _repro book/04_bitcoin.md            # a reproduction, outputs elsewhere
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
import yaml
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the record format the appendices read (one environment variable, one date stamp), and the
# reader of parameter files that scripts/reproduce.py uses too
from tutorials_lib.data import DATA_ENV, KNOWN_SHA256, data_dir, data_file  # noqa: E402
from tutorials_lib.results import RESULTS_ENV, STAMP_FORMAT, read_parameter_file  # noqa: E402

BOOK = ROOT / "book"
#: Where in-place runs (``make book``) leave each chapter's results file and run times,
#: read by the appendices.
DEFAULT_RESULTS = BOOK / "results" / "defaults"
VOLATILE_CELL_KEYS = ("papermill", "execution")
#: The kernel manager's settings: CurveZMQ keys for the kernel's local sockets where the
#: kernelspec supports them (ipykernel's does), so that the kernel neither talks in plain text
#: nor prints a warning about it at every chapter.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto"}})


def chapters() -> list[Path]:
    """The chapter sources, in order: ``book/NN_*.md``."""
    return sorted(BOOK.glob("[0-9][0-9]_*.md"))


def merge_run_tasks(record: dict, fresh: list[dict]) -> dict:
    """``record`` (a run.json) with ``fresh`` tasks replacing those of the same chapters.

    Each fresh task is stamped with this machine, and so is the record's ``machine`` (the
    latest run's). An earlier task without a machine of its own takes the machine the record
    named before this merge, the one it was recorded with, so that a run on another machine
    does not relabel the tasks it did not run.
    """
    machine = machine_description()
    before = record.get("machine")
    tasks = {
        t["chapter"]: t if "machine" in t or before is None else t | {"machine": before}
        for t in record.get("tasks", [])
    }
    tasks |= {t["chapter"]: t | {"machine": machine} for t in fresh}
    return {k: v for k, v in record.items() if k not in ("machine", "tasks")} | {
        "machine": machine,
        "tasks": [tasks[k] for k in sorted(tasks)],
    }


def record_run_time(md: Path, seconds: float, results_dir: Path) -> None:
    """Keep the latest run time of each chapter in ``results_dir/run.json`` (machine named)."""
    path = results_dir / "run.json"
    record = json.loads(path.read_text()) if path.is_file() else {"tasks": []}
    task = {"chapter": md.stem, "seconds": round(seconds, 1), "parameters_file": None,
            "finished": utc_stamp()}  # fmt: skip
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merge_run_tasks(record, [task]), indent=1) + "\n")


def utc_stamp() -> str:
    """Now, to the minute in UTC: the one date format of every run and benchmark record."""
    return time.strftime(STAMP_FORMAT, time.gmtime())


def _cpuinfo_field(name: str) -> str | None:
    """The first ``name`` line of /proc/cpuinfo (None where there is no such file or line)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    """The instruction-set flags of this CPU (empty where /proc/cpuinfo is missing)."""
    return set((_cpuinfo_field("flags") or "").split())


def data_description() -> dict:
    """Which of the book's data files the chapters will read, and from where.

    ``{"data_dir": <$RNN_BOOK_DATA_DIR or None>, "files": {name: "read" or "absent"}}``;
    an absent file sends its chapter to the fall-back data, which changes both the results
    and the run times, so every record of a timed run over the chapters stores this dict.
    """
    root = data_dir()
    return {
        "data_dir": None if root is None else str(root),
        "files": {name: "read" if data_file(name) else "absent" for name in KNOWN_SHA256},
    }


def warn_if_fallback(data: dict) -> None:
    """Say so, before a long timed run, when some chapter would use its fall-back data."""
    absent = [name for name, state in data["files"].items() if state == "absent"]
    if absent:
        where = data["data_dir"] or f"${DATA_ENV} unset"
        print(f"warning: {', '.join(absent)} not found ({where}): those chapters run on their "
              "fall-back data, and the record says so", file=sys.stderr)  # fmt: skip


def machine_description() -> dict:
    """Cores, CPU model and widest vector instruction set of this machine.

    Two processors of one model name can differ in their vector units (AVX-512 or only
    AVX2), which changes both the speed figures and, uncapped, the last bits of results.
    Every benchmark record and run record stores this dict as its ``machine``.
    """
    flags = cpu_flags()
    simd = next((name for name in ("avx512f", "avx2", "avx") if name in flags), "unknown")
    model = _cpuinfo_field("model name")
    return {
        "cores": os.cpu_count(),
        "cpu": model if model is not None else platform.processor(),
        "simd": simd.upper().replace("AVX512F", "AVX-512"),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 min load averages: above the core count, timings are inflated."""
    return [round(v, 2) for v in os.getloadavg()]


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks, whose split depends on timing."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


def stable_run_record(papermill_meta: dict) -> dict:
    """What the execution report needs from papermill's record: parameters, whole seconds.

    Timestamps, paths and sub-second durations would change the file on every re-run.
    """
    record = {"parameters": dict(papermill_meta.get("parameters") or {})}
    if papermill_meta.get("duration") is not None:
        record["duration"] = round(float(papermill_meta["duration"]))
    return record


def strip_volatile(path: Path) -> None:
    """Drop papermill's timestamps, empty tag lists, split streams: re-runs leave git clean."""
    nb = nbformat.read(path, as_version=4)
    if "papermill" in nb["metadata"]:
        nb["metadata"]["papermill"] = stable_run_record(nb["metadata"]["papermill"])
    for cell in nb["cells"]:
        for key in VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
        # papermill adds `tags: []` everywhere; left in, it would mask tag edits made in the .md
        if cell.get("metadata", {}).get("tags") == []:
            del cell["metadata"]["tags"]
        if cell.get("cell_type") == "code":
            cell["outputs"] = coalesce_streams(cell["outputs"])
    nbformat.write(nb, path)


def sync_inputs(md: Path) -> Path:
    """Update the .ipynb's inputs from the .md, keeping its outputs; return the .ipynb."""
    subprocess.run(
        [sys.executable, "-m", "jupytext", "--to", "ipynb", "--update", "-q", str(md)],
        check=True,
    )
    return md.with_suffix(".ipynb")


def execute(md: Path, parameters: dict, output_dir: Path | None, on_cell_executed=None) -> float:
    """Execute one chapter; return its wall time in seconds. Raises on a failing cell.

    In place (no ``output_dir``) the committed ``.ipynb`` is refreshed from the ``.md`` and
    replaced on success. With ``output_dir`` the book is left untouched: the ``.md`` is
    converted to a fresh notebook and the executed copy is written to ``output_dir``.
    ``on_cell_executed(cell=..., cell_index=..., ...)`` is called after each cell (progress).
    """
    with tempfile.TemporaryDirectory() as tmp:
        if output_dir is None:
            source = sync_inputs(md)
        else:
            source = Path(tmp) / "input" / md.with_suffix(".ipynb").name
            source.parent.mkdir()
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "jupytext",
                    "--to",
                    "ipynb",
                    "-q",
                    "-o",
                    str(source),
                    str(md),
                ],
                check=True,
            )
        out = Path(tmp) / source.name
        start = time.perf_counter()
        papermill.execute_notebook(
            str(source),
            str(out),
            parameters=parameters,
            cwd=str(md.parent),
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            on_cell_executed=on_cell_executed,
            config=KERNEL_CONFIG,
        )
        elapsed = time.perf_counter() - start
        strip_volatile(out)
        if output_dir is None:
            shutil.move(out, source)
            # Re-normalise through jupytext so the committed file is exactly what --update writes.
            sync_inputs(md)
        else:
            output_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(out, output_dir / source.name)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter .md files (default: all)")
    parser.add_argument("--params", type=Path, help="YAML file of parameters to inject")
    parser.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="one parameter (value parsed as YAML); repeatable",
    )
    parser.add_argument(
        "--output-dir", type=Path, help="write executed notebooks here instead of in place"
    )
    args = parser.parse_args(argv)

    try:
        parameters = read_parameter_file(args.params) if args.params else {}
    except (OSError, ValueError) as err:
        parser.error(f"--params: {err}")
    parameters.update({name: yaml.safe_load(value) for name, value in args.p})
    if parameters and args.output_dir is None:
        parser.error(
            "parameters change the outputs: give --output-dir so the book's "
            "committed notebooks keep their defaults"
        )

    todo = [p.resolve() for p in args.chapters] or chapters()
    for md in todo:
        if not md.is_file() or md.suffix != ".md":
            parser.error(f"not a chapter .md file: {md}")
    in_place = args.output_dir is None
    if in_place:  # the kernels inherit it: each chapter leaves its results file for the appendices
        os.environ.setdefault(RESULTS_ENV, str(DEFAULT_RESULTS))
    total = 0.0
    for i, md in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] executing {md.relative_to(ROOT)} ...", flush=True)
        try:
            elapsed = execute(md, parameters, args.output_dir)
        except papermill.PapermillExecutionError as err:
            kept = (
                "The committed notebook was left unchanged."
                if args.output_dir is None
                else f"Nothing was written to {args.output_dir}."
            )
            trace = "".join(err.traceback[-3:]) if err.traceback else ""
            print(
                f"\nFAILED: {md.relative_to(ROOT)}, cell {err.exec_count} "
                f"(notebook cell #{err.cell_index}): {err.ename}: {err.evalue}\n{trace}\n{kept}",
                file=sys.stderr,
            )
            return 1
        total += elapsed
        if in_place:
            record_run_time(md, elapsed, Path(os.environ[RESULTS_ENV]))
        print(f"      done in {elapsed:.1f} s", flush=True)
    print(f"executed {len(todo)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
