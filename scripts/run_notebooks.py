"""Execute the book's notebooks with papermill: the chapters side by side, then the appendices.

For each chapter ``book/NN_name.md``: refresh the paired ``.ipynb`` inputs from the ``.md``
(jupytext, the ``.md`` wins), execute it into a temporary file, strip the volatile
metadata (timestamps, per-cell durations; the notebook keeps its parameters and its run
time in whole seconds for the book's execution report), and only on success move it into
place. In place, the chapters run as tasks on a Dask ``LocalCluster`` of single-threaded
workers (``--workers``; one per core, at most four), the longest first, and the appendices,
which read the chapters' records, after them. A failing cell is reported with its notebook
and cell; the other chapters finish, the appendices do not run, and the exit status is 1.

    python scripts/run_notebooks.py                       # every notebook, in place
    python scripts/run_notebooks.py --workers 1           # one after another, no Dask
    python scripts/run_notebooks.py book/04_bitcoin.md    # one chapter
    python scripts/run_notebooks.py --params book/params/04_bitcoin_source.yaml \
        --output-dir _repro book/04_bitcoin.md            # a reproduction, outputs elsewhere
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import papermill
import yaml
from jupyter_client.manager import AsyncKernelManager
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the record format the appendices read (one environment variable, one date stamp), and the
# reader of parameter files that scripts/reproduce.py uses too
from tutorials_lib.data import DATA_ENV, KNOWN_SHA256, data_dir, data_file  # noqa: E402
from tutorials_lib.distributed import MALLOC_TRIM_VARIABLE  # noqa: E402
from tutorials_lib.results import (  # noqa: E402
    FIRST_APPENDIX,
    RESULTS_ENV,
    STAMP_FORMAT,
    chapter_seconds,
    read_parameter_file,
    read_run,
    write_run,
)

BOOK = ROOT / "book"
#: Where in-place runs (``make book``) leave each chapter's results file and run times,
#: read by the appendices.
DEFAULT_RESULTS = BOOK / "results" / "defaults"
VOLATILE_CELL_KEYS = ("papermill", "execution")
#: The kernel manager's settings: CurveZMQ keys for the kernel's local sockets where the
#: kernelspec supports them (ipykernel's does), so that the kernel neither talks in plain text
#: nor prints a warning about it at every chapter.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto"}})


class KernelManagerShutdownByRequest(AsyncKernelManager):
    """A kernel manager that ends a kernel with its shutdown request alone, no SIGINT first.

    jupyter_client interrupts a kernel before asking it to shut down. After a notebook's last
    cell the kernel has nothing to interrupt, but a signal that lands while it still finishes
    its last message makes it log "ERROR | KeyboardInterrupt caught in kernel." into the
    runner's output, a line that reports nothing wrong. A kernel that does not exit on the
    request still gets SIGTERM, then SIGKILL, as before.
    """

    async def _async_interrupt_kernel(self) -> None:
        if self.shutting_down:  # set by shutdown_kernel just before it interrupts
            return
        await super()._async_interrupt_kernel()


#: Kernel start-ups per notebook. Each kernel takes its ports from the system when it starts,
#: and two kernels started at the same moment by two workers can be handed the same port: one
#: of them dies before running a cell ("Address already in use") and is started again.
KERNEL_START_ATTEMPTS = 3
#: Most local workers ``make book`` starts by default, as ``make test`` uses at most four cores.
MAX_DEFAULT_WORKERS = 4


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
    task = {"chapter": md.stem, "seconds": round(seconds, 1), "parameters_file": None,
            "finished": utc_stamp()}  # fmt: skip
    write_run(results_dir, merge_run_tasks(read_run(results_dir), [task]))


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
            kernel_manager_class=KernelManagerShutdownByRequest,
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


def kernel_failed_to_start(err: BaseException) -> bool:
    """True for nbclient's error when a new kernel dies before its first reply (no cell ran)."""
    return isinstance(err, RuntimeError) and "before replying to kernel_info" in str(err)


def execute_retrying(md: Path, parameters: dict, output_dir: Path | None,
                     on_cell_executed=None) -> float:  # fmt: skip
    """:func:`execute`, starting the kernel again when it dies before its first reply."""
    for _ in range(KERNEL_START_ATTEMPTS - 1):
        try:
            return execute(md, parameters, output_dir, on_cell_executed=on_cell_executed)
        except RuntimeError as err:
            if not kernel_failed_to_start(err):
                raise
    return execute(md, parameters, output_dir, on_cell_executed=on_cell_executed)


@contextmanager
def kernel_environment(results_dir: Path) -> Iterator[None]:
    """Within the block, the environment a notebook kernel started there inherits.

    The kernel writes its results file into ``results_dir`` and starts without Dask's
    :data:`~tutorials_lib.distributed.MALLOC_TRIM_VARIABLE`, which every worker of an existing
    cluster has by default and which slows recurrent layers. On leaving, the environment is
    as it was.
    """
    wanted = {RESULTS_ENV: str(results_dir), MALLOC_TRIM_VARIABLE: None}
    previous = {name: os.environ.get(name) for name in wanted}
    _set_environment(wanted)
    try:
        yield
    finally:
        _set_environment(previous)


def _set_environment(values: dict[str, str | None]) -> None:
    """Set each variable to its value; a value of None unsets it."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _name(md: Path) -> str:
    """A notebook as messages name it: relative to the checkout where it lies inside it."""
    return str(md.relative_to(ROOT)) if md.is_relative_to(ROOT) else str(md)


def failure_message(notebook: str, err: papermill.PapermillExecutionError) -> str:
    """The notebook (as named), the cell and the error of a failed execution, on one line."""
    return (f"{notebook}, cell {err.exec_count} (notebook cell #{err.cell_index}): "
            f"{err.ename}: {err.evalue}")  # fmt: skip


def earlier_seconds(results_dir: Path) -> dict[str, float]:
    """Run time of each chapter that succeeded in the run recorded in ``results_dir/run.json``."""
    return chapter_seconds(read_run(results_dir))


def task_priority(chapter: str, earlier: dict[str, float]) -> int:
    """Longest task first (Dask runs higher priorities first); a chapter never timed goes first.

    Starting the long notebooks first keeps a short one, not a long one, for the end of the
    run, which shortens the wall time on a few workers.
    """
    never_timed = 1 + int(max(earlier.values(), default=0.0))
    return int(earlier.get(chapter, never_timed))


def submission_order(todo: list[Path], earlier: dict[str, float]) -> list[Path]:
    """The chapters longest first, the order they are submitted in.

    Priorities alone are not enough: an idle worker starts the first task it is given before
    the tasks submitted after it, and their priorities, reach the scheduler.
    """
    return sorted(todo, key=lambda md: -task_priority(md.stem, earlier))


def submit_notebook(client, fn, md: Path, earlier: dict[str, float], *args):
    """Submit ``fn(*args)`` as notebook ``md``'s Dask task: named after it, longest first."""
    return client.submit(fn, *args, key=f"notebook-{md.stem}", pure=False,
                         priority=task_priority(md.stem, earlier))  # fmt: skip


def finished_notebooks(futures: dict) -> Iterator[tuple[Path, object, str]]:
    """``(notebook, result, "")`` for each task of ``futures`` ({future: notebook}) as it ends.

    A task that failed outside its notebook (a worker lost, an import error) gives
    ``(notebook, None, message)`` instead, so that the other tasks still come back.
    """
    from distributed import as_completed

    for future in as_completed(futures):
        md = futures[future]
        try:
            yield md, future.result(), ""
        except Exception as err:
            yield md, None, f"{md.name}: {err!r}"


def default_workers() -> int:
    """One local worker per core, at most :data:`MAX_DEFAULT_WORKERS`."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def execute_in_place_task(md_path: str, results_dir: str) -> tuple[float, str]:
    """One chapter executed in place (runs on a local Dask worker): (seconds, error or "")."""
    md = Path(md_path)
    try:
        with kernel_environment(Path(results_dir)):
            return execute_retrying(md, {}, None), ""
    except papermill.PapermillExecutionError as err:
        return 0.0, failure_message(_name(md), err)


def execute_chapters_on_cluster(todo: list[Path], workers: int, results_dir: Path,
                                report) -> dict[Path, tuple[float, str]]:  # fmt: skip
    """Run the chapters in place as Dask tasks on a LocalCluster, the longest first.

    ``report(md, seconds, error)`` is called as each one ends; returns the same per chapter.
    A task that fails outside its notebook (a worker lost, say) counts as a failed chapter.
    """
    from distributed import Client

    # Imported by module name, so that the workers import this module too: run as a script, a
    # function of ``__main__`` would be pickled by value, with the kernel manager class it
    # uses, and that copy of the class no longer resolves its traits.
    from run_notebooks import execute_in_place_task

    from tutorials_lib.distributed import local_cluster

    done: dict[Path, tuple[float, str]] = {}
    with local_cluster(workers) as cluster, Client(cluster) as client:
        earlier = earlier_seconds(results_dir)
        futures = {
            submit_notebook(
                client, execute_in_place_task, md, earlier, str(md), str(results_dir)
            ): md
            for md in submission_order(todo, earlier)
        }
        for md, result, crash in finished_notebooks(futures):
            done[md] = (0.0, crash) if crash else result
            report(md, *done[md])
    return done


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
    parser.add_argument(
        "--workers", type=int,
        help="in place: local Dask workers for the chapters (default: one per core, at most "
        f"{MAX_DEFAULT_WORKERS}; 1: one after another, without Dask)",
    )  # fmt: skip
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
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.output_dir is not None and (args.workers or 1) > 1:
        parser.error("--workers applies to runs in place; scripts/reproduce.py runs chapters "
                     "into an output folder as Dask tasks")  # fmt: skip

    todo = [p.resolve() for p in args.chapters] or chapters()
    for md in todo:
        if not md.is_file() or md.suffix != ".md":
            parser.error(f"not a chapter .md file: {md}")
    if args.output_dir is not None:
        return run_one_after_another(todo, parameters, args.output_dir)
    # the kernels inherit it: each chapter leaves its results file for the appendices
    results_dir = Path(os.environ.setdefault(RESULTS_ENV, str(DEFAULT_RESULTS)))
    return run_in_place(todo, results_dir, args.workers or default_workers())


def _report_failure(message: str, trace: str, kept: str) -> None:
    print(f"\nFAILED: {message}\n{trace}\n{kept}", file=sys.stderr)


def run_one_after_another(todo: list[Path], parameters: dict, output_dir: Path | None,
                          results_dir: Path | None = None, first: int = 1,
                          of: int | None = None) -> int:  # fmt: skip
    """Execute ``todo`` in this process, in order; stop at the first failing cell (status 1).

    In place (``output_dir`` None) each run time goes to ``results_dir/run.json``.
    ``first`` and ``of`` number the progress lines within a longer run.
    """
    of = of or len(todo)
    for i, md in enumerate(todo, first):
        print(f"[{i}/{of}] executing {_name(md)} ...", flush=True)
        try:
            elapsed = execute_retrying(md, parameters, output_dir)
        except papermill.PapermillExecutionError as err:
            kept = ("The committed notebook was left unchanged." if output_dir is None
                    else f"Nothing was written to {output_dir}.")  # fmt: skip
            trace = "".join(err.traceback[-3:]) if err.traceback else ""
            _report_failure(failure_message(_name(md), err), trace, kept)
            return 1
        if results_dir is not None:
            record_run_time(md, elapsed, results_dir)
        print(f"      done in {elapsed:.1f} s", flush=True)
    return 0


def run_in_place(todo: list[Path], results_dir: Path, workers: int) -> int:
    """Execute ``todo`` in place: the chapters on ``workers`` local workers, then the appendices.

    With one worker, or one chapter, the chapters run in this process, in order. Before the
    appendices run, a complete run (every notebook of the book) records the chapters' wall
    time and its number of workers in ``results_dir/run.json`` as ``book_run``, which the
    performance appendix reads.
    """
    start = time.perf_counter()
    body = [md for md in todo if md.name < FIRST_APPENDIX]
    appendices = [md for md in todo if md.name >= FIRST_APPENDIX]
    workers = min(workers, max(len(body), 1))
    if workers == 1:
        status = run_one_after_another(body, {}, None, results_dir, of=len(todo))
    else:
        print(f"executing {len(body)} chapters on a Dask LocalCluster of {workers} "
              "single-threaded workers, the longest first ...", flush=True)  # fmt: skip
        finished = 0

        def report(md: Path, seconds: float, error: str) -> None:
            nonlocal finished
            finished += 1
            if error:
                _report_failure(error, "", "The committed notebook was left unchanged.")
                return
            record_run_time(md, seconds, results_dir)
            print(f"[{finished}/{len(todo)}] {_name(md)} done in {seconds:.1f} s", flush=True)

        done = execute_chapters_on_cluster(body, workers, results_dir, report)
        failed = [md.name for md, (_, error) in done.items() if error]
        if failed:
            print(f"\nfailed: {', '.join(sorted(failed))}", file=sys.stderr)
        status = 1 if failed else 0
    if status != 0:
        if appendices:
            print("the appendices were not executed", file=sys.stderr)
        return status
    if [md.resolve() for md in todo] == [md.resolve() for md in chapters()]:
        record_book_run(results_dir, time.perf_counter() - start, workers)
    status = run_one_after_another(appendices, {}, None, results_dir,
                                   first=len(body) + 1, of=len(todo))  # fmt: skip
    if status == 0:
        print(f"executed {len(todo)} notebook(s) in {time.perf_counter() - start:.1f} s")
    return status


def record_book_run(results_dir: Path, chapters_seconds: float, workers: int) -> None:
    """Store the chapters' wall time in a complete in-place run, and its workers, in run.json."""
    record = read_run(results_dir)
    record["book_run"] = {"chapters_seconds": round(chapters_seconds, 1), "workers": workers,
                          "finished": utc_stamp()}  # fmt: skip
    write_run(results_dir, record)


if __name__ == "__main__":
    sys.exit(main())
