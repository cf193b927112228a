"""Run every chapter at its sources' own settings, as Dask tasks, into a separate folder.

Each chapter ``book/NN_name.md`` runs with ``book/params/NN_name_source.yaml`` when that file
exists (the sources' exact epochs, grids, batch sizes and seeds), else at the book's defaults.
Every notebook execution is one task on a Dask cluster: a ``LocalCluster`` with one
single-threaded worker per core by default, or the existing cluster whose scheduler address is
given (``--scheduler`` or ``$DASK_SCHEDULER_ADDRESS``). The executed notebook and the chapter's
results file come back to the client, which writes them:

    <output-dir>/notebooks/NN_name.ipynb     the executed notebook
    <results-dir>/NN_name.json               the chapter's results (tutorials_lib.results)
    <results-dir>/run.json                   parameters file, run time and worker of every task

(``<results-dir>`` defaults to ``<output-dir>/results``; ``make reproduce`` sets it to
``book/results/source``, which the reproduction appendix reads.)

The committed notebooks are never touched. A failing notebook is reported with its cell; the
other tasks finish. Progress: one bar per notebook (cells executed) and one overall.

    python scripts/reproduce.py                          # every chapter, LocalCluster
    python scripts/reproduce.py --workers 1 book/03_cointegrated_walk_forward.md
    DASK_SCHEDULER_ADDRESS=tcp://10.0.0.5:8786 python scripts/reproduce.py
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from run_notebooks import (  # noqa: E402
    chapters,
    earlier_seconds,
    execute_retrying,
    failure_message,
    finished_notebooks,
    kernel_environment,
    merge_run_tasks,
    submission_order,
    submit_notebook,
    utc_stamp,
)

from tutorials_lib.results import (  # noqa: E402
    FIRST_APPENDIX,
    read_parameter_file,
    read_run,
    write_run,
)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
PROGRESS_TOPIC = "rnn-book-progress"
DEFAULT_OUTPUT = ROOT / "_repro"
APPENDICES = FIRST_APPENDIX  # appendices read the results; they run no experiment


def source_parameters(md: Path) -> tuple[dict, str | None]:
    """The chapter's source-settings parameters and the file they came from (or defaults)."""
    params = md.parent / "params" / f"{md.stem}_source.yaml"
    if not params.is_file():
        return {}, None
    return read_parameter_file(params), str(params.relative_to(ROOT))


@dataclass
class TaskResult:
    """What one notebook task sends back to the client."""

    chapter: str
    parameters_file: str | None
    seconds: float
    worker: str
    ok: bool
    error: str = ""
    notebook: str = ""  #: the executed notebook (JSON text); empty on failure
    results: str = ""  #: the chapter's results file (JSON text), if it wrote one
    code_cells: int = 0
    finished: str = ""  #: when the task ended (UTC, to the minute)
    extra: dict = field(default_factory=dict)


def run_chapter(md_path: str, parameters: dict, parameters_file: str | None) -> TaskResult:
    """Execute one chapter at ``parameters`` in a scratch folder (runs on a Dask worker)."""
    import nbformat
    import papermill

    md = Path(md_path)
    worker_name = platform.node()
    publish = None
    try:
        from distributed import get_worker

        worker = get_worker()
        worker_name = worker.address

        def publish(message: dict) -> None:
            worker.log_event(PROGRESS_TOPIC, message)
    except ValueError:  # not on a Dask worker: run in-process
        pass

    def on_cell(cell, cell_index, **_):
        if publish is not None and cell.cell_type == "code":
            publish({"chapter": md.stem, "cell_index": cell_index})

    with tempfile.TemporaryDirectory() as tmp:
        out_dir, results_dir = Path(tmp) / "nb", Path(tmp) / "results"
        start = time.perf_counter()
        try:
            with kernel_environment(results_dir):
                execute_retrying(md, parameters, out_dir, on_cell_executed=on_cell)
        except papermill.PapermillExecutionError as err:
            return TaskResult(
                chapter=md.stem,
                parameters_file=parameters_file,
                seconds=time.perf_counter() - start,
                worker=worker_name,
                ok=False,
                error=failure_message(md.name, err),
                finished=utc_stamp(),
            )
        seconds = time.perf_counter() - start
        notebook = (out_dir / md.with_suffix(".ipynb").name).read_text()
        results_file = results_dir / f"{md.stem}.json"
        nb = nbformat.reads(notebook, as_version=4)
        return TaskResult(
            chapter=md.stem,
            parameters_file=parameters_file,
            seconds=seconds,
            worker=worker_name,
            ok=True,
            notebook=notebook,
            results=results_file.read_text() if results_file.is_file() else "",
            code_cells=sum(c.cell_type == "code" for c in nb.cells),
            finished=utc_stamp(),
        )


def code_cell_count(md: Path) -> int:
    import jupytext

    return sum(c.cell_type == "code" for c in jupytext.read(md).cells)


def make_client(scheduler: str | None, workers: int | None):
    """A Dask client: the given scheduler, else a LocalCluster of single-threaded workers."""
    from distributed import Client

    from tutorials_lib.distributed import local_cluster

    if scheduler:
        return Client(scheduler), f"scheduler {scheduler}"
    n = workers or os.cpu_count() or 1
    return Client(local_cluster(n)), f"LocalCluster, {n} single-threaded worker(s)"


def reproduce(
    todo: list[Path],
    output_dir: Path,
    results_dir: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    overrides: dict | None = None,
    progress: bool = True,
    source_settings: bool = True,
) -> list[TaskResult]:
    """Submit one task per chapter, write what comes back, return the task results."""
    from tqdm import tqdm

    client, where = make_client(scheduler, workers)
    try:
        bars: dict[str, tqdm] = {}
        overall = tqdm(total=len(todo), desc="all chapters", unit="nb", position=0,
                       disable=not progress)  # fmt: skip
        futures = {}
        earlier = earlier_seconds(results_dir or output_dir / "results")
        for i, md in enumerate(submission_order(todo, earlier), 1):
            parameters, parameters_file = source_parameters(md) if source_settings else ({}, None)
            parameters.update(overrides or {})
            bars[md.stem] = tqdm(total=code_cell_count(md), desc=md.stem[:28], unit="cell",
                                 position=i, leave=True, disable=not progress)  # fmt: skip
            future = submit_notebook(client, run_chapter, md, earlier, str(md), parameters,
                                     parameters_file)  # fmt: skip
            futures[future] = md

        def on_progress(event):
            _, message = event
            bar = bars.get(message.get("chapter"))
            if bar is not None:
                bar.update(1)

        client.subscribe_topic(PROGRESS_TOPIC, on_progress)
        results = []
        for md, result, crash in finished_notebooks(futures):
            if crash:  # the task itself failed (worker died, import error, ...)
                result = TaskResult(chapter=md.stem, parameters_file=None, seconds=0.0,
                                    worker="?", ok=False, error=crash)  # fmt: skip
            bar = bars[result.chapter]
            bar.n = bar.total if result.ok else bar.n
            bar.set_postfix_str(f"{result.seconds:.0f} s" if result.ok else "FAILED")
            bar.refresh()
            overall.update(1)
            _write(result, output_dir, results_dir or output_dir / "results")
            results.append(result)
        client.unsubscribe_topic(PROGRESS_TOPIC)
        for bar in [*bars.values(), overall]:
            bar.close()
        _write_run(results, results_dir or output_dir / "results", where)
        return sorted(results, key=lambda r: r.chapter)
    finally:
        client.close()


def _write(result: TaskResult, output_dir: Path, results_dir: Path) -> None:
    if not result.ok:
        return
    (output_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    (output_dir / "notebooks" / f"{result.chapter}.ipynb").write_text(result.notebook)
    if result.results:
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / f"{result.chapter}.json").write_text(result.results)


def _write_run(results: list[TaskResult], output_dir: Path, where: str) -> None:
    """``run.json``: where each task ran and how long it took, merged with earlier runs."""
    fresh = [
        {k: v for k, v in asdict(r).items() if k not in ("notebook", "results", "extra")}
        | {"seconds": round(r.seconds, 1)}
        for r in results
    ]
    merged = merge_run_tasks(read_run(output_dir), fresh)
    write_run(
        output_dir, {"cluster": where, "machine": merged["machine"], "tasks": merged["tasks"]}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter .md files (default: all)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT,
                        help="executed notebooks go to <output-dir>/notebooks")  # fmt: skip
    parser.add_argument("--results-dir", type=Path,
                        help="results files and run.json (default: <output-dir>/results)")  # fmt: skip
    parser.add_argument("--scheduler", default=os.environ.get(SCHEDULER_ENV),
                        help=f"Dask scheduler address (default: ${SCHEDULER_ENV}, else a LocalCluster)")  # fmt: skip
    parser.add_argument("--workers", type=int, help="LocalCluster workers (default: one per core)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="override one parameter in every chapter (value parsed as YAML)")  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--defaults", action="store_true",
                        help="run at the book's defaults instead of the sources' settings")  # fmt: skip
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    todo = [p.resolve() for p in args.chapters] or [c for c in chapters() if c.name < APPENDICES]
    for md in todo:
        if not md.is_file() or md.suffix != ".md":
            parser.error(f"not a chapter .md file: {md}")
    overrides = {name: yaml.safe_load(value) for name, value in args.p}
    results_dir = args.results_dir.resolve() if args.results_dir else None
    results = reproduce(todo, args.output_dir.resolve(), results_dir, args.scheduler, args.workers,
                        overrides, progress=not args.no_progress,
                        source_settings=not args.defaults)  # fmt: skip
    failed = [r for r in results if not r.ok]
    for r in results:
        status = "ok" if r.ok else "FAILED"
        print(f"{r.chapter:32s} {status:6s} {r.seconds:8.1f} s  {r.parameters_file or 'defaults'}")
    for r in failed:
        print(f"FAILED: {r.error}", file=sys.stderr)
    print(f"outputs in {args.output_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
