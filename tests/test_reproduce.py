"""`scripts/reproduce.py`: notebook executions as Dask tasks, the same outputs as in-process.

A two-worker LocalCluster runs two tiny notebooks (tests/notebooks/), one of which fails: the
good one's outputs and results file equal an in-process run, and the failure is reported with
its notebook and cell while the other task still finishes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "tests" / "notebooks"
sys.path.insert(0, str(ROOT / "scripts"))

import reproduce  # noqa: E402
import run_notebooks  # noqa: E402


def _outputs(notebook_text: str) -> list:
    nb = nbformat.reads(notebook_text, as_version=4)
    return [c.outputs for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def env_for_kernels():
    # Kernels started by papermill (in-process or on a worker) must import this checkout.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), old]))
    yield
    if old is None:
        os.environ.pop("PYTHONPATH")
    else:
        os.environ["PYTHONPATH"] = old


def test_kernels_get_the_results_folder_and_no_dask_malloc_trim(tmp_path, monkeypatch):
    from tutorials_lib.distributed import MALLOC_TRIM_VARIABLE
    from tutorials_lib.results import RESULTS_ENV

    monkeypatch.setenv(MALLOC_TRIM_VARIABLE, "65536")  # as a Dask nanny starts its workers
    monkeypatch.setenv(RESULTS_ENV, "elsewhere")
    with pytest.raises(KeyError, match="inside"):
        with run_notebooks.kernel_environment(tmp_path):
            assert os.environ[RESULTS_ENV] == str(tmp_path)
            assert MALLOC_TRIM_VARIABLE not in os.environ
            raise KeyError("inside")
    assert os.environ[MALLOC_TRIM_VARIABLE] == "65536"
    assert os.environ[RESULTS_ENV] == "elsewhere"


def _execute_failing_to_start(failures: int, message: str):
    """A stand-in for ``execute`` whose kernel dies on start ``failures`` times, then runs."""
    calls = []

    def execute(md, parameters, out_dir, on_cell_executed=None):
        calls.append(md)
        if len(calls) <= failures:
            raise RuntimeError(message)
        out_dir.mkdir(parents=True, exist_ok=True)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        nbformat.write(nb, out_dir / Path(md).with_suffix(".ipynb").name)
        return 0.0

    return execute, calls


DIED_ON_START = "Kernel died before replying to kernel_info"


def test_a_kernel_that_dies_on_start_is_started_again(tmp_path, monkeypatch):
    md = tmp_path / "chapter.md"
    execute, calls = _execute_failing_to_start(
        run_notebooks.KERNEL_START_ATTEMPTS - 1, DIED_ON_START
    )
    monkeypatch.setattr(run_notebooks, "execute", execute)
    result = reproduce.run_chapter(str(md), {}, None)
    assert result.ok and result.code_cells == 1
    assert len(calls) == run_notebooks.KERNEL_START_ATTEMPTS


def test_kernel_start_is_given_up_after_the_last_attempt(tmp_path, monkeypatch):
    md = tmp_path / "chapter.md"
    execute, calls = _execute_failing_to_start(run_notebooks.KERNEL_START_ATTEMPTS, DIED_ON_START)
    monkeypatch.setattr(run_notebooks, "execute", execute)
    with pytest.raises(RuntimeError, match="kernel_info"):
        reproduce.run_chapter(str(md), {}, None)
    assert len(calls) == run_notebooks.KERNEL_START_ATTEMPTS


def test_other_runtime_errors_are_not_retried(tmp_path, monkeypatch):
    md = tmp_path / "chapter.md"
    execute, calls = _execute_failing_to_start(1, "something else broke")
    monkeypatch.setattr(run_notebooks, "execute", execute)
    with pytest.raises(RuntimeError, match="something else"):
        reproduce.run_chapter(str(md), {}, None)
    assert len(calls) == 1


@pytest.mark.slow
def test_source_parameters_come_from_the_params_file():
    params, where = reproduce.source_parameters(NOTEBOOKS / "01_tiny_sum.md")
    assert params == {"N": 1000} and where.endswith("params/01_tiny_sum_source.yaml")
    assert reproduce.source_parameters(NOTEBOOKS / "02_tiny_fails.md") == ({}, None)


@pytest.mark.slow
def test_two_worker_cluster_matches_in_process_and_names_the_failure(tmp_path, env_for_kernels):
    good, bad = NOTEBOOKS / "01_tiny_sum.md", NOTEBOOKS / "02_tiny_fails.md"
    local = reproduce.run_chapter(str(good), {"N": 1000}, None)
    assert local.ok and local.worker  # in-process: no Dask worker
    results = reproduce.reproduce([good, bad], tmp_path, workers=2, progress=False)
    by_name = {r.chapter: r for r in results}
    assert by_name["01_tiny_sum"].ok
    assert by_name["01_tiny_sum"].worker.startswith(("tcp://", "inproc://"))
    assert _outputs(by_name["01_tiny_sum"].notebook) == _outputs(local.notebook)
    assert "N = 1000, sum = " in by_name["01_tiny_sum"].notebook
    assert json.loads(by_name["01_tiny_sum"].results) == json.loads(local.results)
    assert not by_name["02_tiny_fails"].ok
    assert "02_tiny_fails.md, cell 2" in by_name["02_tiny_fails"].error
    assert "ZeroDivisionError" in by_name["02_tiny_fails"].error
    # what the client wrote
    assert (tmp_path / "notebooks" / "01_tiny_sum.ipynb").is_file()
    assert not (tmp_path / "notebooks" / "02_tiny_fails.ipynb").exists()
    assert json.loads((tmp_path / "results" / "01_tiny_sum.json").read_text())["parameters"] == {
        "N": 1000
    }
    run = json.loads((tmp_path / "results" / "run.json").read_text())
    assert run["cluster"] == "LocalCluster, 2 single-threaded worker(s)"
    assert [t["chapter"] for t in run["tasks"]] == ["01_tiny_sum", "02_tiny_fails"]
    for task in run["tasks"]:  # when each task ended, failed or not, in the records' one format
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", task["finished"]), task


@pytest.mark.slow
def test_command_line_exits_non_zero_and_names_the_failing_cell(tmp_path, env_for_kernels):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "reproduce.py"), "--workers", "1",
         "--no-progress", "--output-dir", str(tmp_path), str(NOTEBOOKS / "02_tiny_fails.md")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "FAILED: 02_tiny_fails.md, cell 2 (notebook cell #2): ZeroDivisionError" in result.stderr


@pytest.mark.slow
def test_make_book_runner_prints_no_kernel_transport_warning(tmp_path, env_for_kernels):
    # ipykernel warns on stderr, once per notebook, when its sockets run without CurveZMQ keys;
    # the runner asks the kernel manager for them, so `make book` prints progress lines only.
    env = {**os.environ, "RNN_BOOK_RESULTS_DIR": str(tmp_path / "results")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--output-dir",
         str(tmp_path / "nb"), str(NOTEBOOKS / "01_tiny_sum.md")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "N = 10, sum = " in (tmp_path / "nb" / "01_tiny_sum.ipynb").read_text()
    assert "without encryption" not in result.stderr, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_longest_recorded_task_is_submitted_first_and_untimed_ones_before_it(tmp_path):
    record = {"tasks": [
        {"chapter": "03_a", "seconds": 300.0, "ok": True},
        {"chapter": "05_b", "seconds": 900.5, "ok": True},
        {"chapter": "06_c", "seconds": 12.0, "ok": False},
    ]}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps(record))
    earlier = run_notebooks.earlier_seconds(tmp_path)
    assert earlier == {"03_a": 300.0, "05_b": 900.5}  # the failed task's time says nothing
    order = run_notebooks.submission_order([Path(f"{c}.md") for c in ["03_a", "05_b", "06_c", "07_d"]],
                                       earlier)  # fmt: skip
    assert [md.stem for md in order] == ["06_c", "07_d", "05_b", "03_a"]
    assert run_notebooks.earlier_seconds(tmp_path / "missing") == {}


APPENDIX_MD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# An appendix that reads the chapters' run record

```{code-cell} ipython3
import json, os
from pathlib import Path

run = json.loads((Path(os.environ["RNN_BOOK_RESULTS_DIR"]) / "run.json").read_text())
print("chapters before me:", sorted(t["chapter"] for t in run["tasks"]))
print("complete run recorded:", "book_run" in run)
```
"""


def _tiny_book(folder: Path, *names: str) -> list[Path]:
    """Tiny notebooks to run in place in ``folder``: 01/02 as in tests/notebooks, 03 is 01
    with N = 20, and 90 an appendix that reads the run record."""
    sum_md = (NOTEBOOKS / "01_tiny_sum.md").read_text()
    texts = {
        "01_tiny_sum.md": sum_md,
        "02_tiny_fails.md": (NOTEBOOKS / "02_tiny_fails.md").read_text(),
        "03_tiny_sum.md": sum_md.replace("N = 10", "N = 20"),
        "90_appendix.md": APPENDIX_MD,
    }
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text(texts[name])
    return [folder / name for name in names]


def _executed_outputs(todo: list[Path]) -> dict[str, list]:
    return {md.stem: _outputs(md.with_suffix(".ipynb").read_text()) for md in todo}


@pytest.mark.slow
def test_in_place_run_on_two_workers_equals_one_after_another(
    tmp_path, env_for_kernels, monkeypatch, capsys
):
    runs = {}
    for workers in (1, 2):
        book = tmp_path / f"book{workers}"
        todo = _tiny_book(book, "01_tiny_sum.md", "03_tiny_sum.md", "90_appendix.md")
        monkeypatch.setattr(run_notebooks, "chapters", lambda todo=todo: list(todo))
        monkeypatch.setenv("RNN_BOOK_RESULTS_DIR", str(book / "results"))
        assert run_notebooks.run_in_place(todo, book / "results", workers) == 0
        runs[workers] = _executed_outputs(todo)
        record = json.loads((book / "results" / "run.json").read_text())
        assert [t["chapter"] for t in record["tasks"]] == [md.stem for md in todo]
        assert record["book_run"]["workers"] == workers
        assert 0 < record["book_run"]["chapters_seconds"]
    assert runs[2] == runs[1]
    assert "N = 20, sum = " in str(runs[2]["03_tiny_sum"])
    # the appendix ran after both chapters had left their records
    assert "['01_tiny_sum', '03_tiny_sum']" in str(runs[2]["90_appendix"])
    assert "complete run recorded: True" in str(runs[2]["90_appendix"])
    assert "on a Dask LocalCluster of 2 single-threaded workers" in capsys.readouterr().out


@pytest.mark.slow
def test_a_failing_chapter_in_place_is_named_the_others_finish_no_appendix_runs(
    tmp_path, env_for_kernels
):
    # Through the command line, as `make book` runs it: the tasks then come from a script.
    book = tmp_path / "book"
    todo = _tiny_book(book, "01_tiny_sum.md", "02_tiny_fails.md", "90_appendix.md")
    env = {**os.environ, "RNN_BOOK_RESULTS_DIR": str(book / "results")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--workers", "2",
         *map(str, todo)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    failed = f"FAILED: {book / '02_tiny_fails.md'}, cell 2 (notebook cell #2): ZeroDivisionError"
    assert failed in result.stderr and "the appendices were not executed" in result.stderr
    assert "on a Dask LocalCluster of 2 single-threaded workers" in result.stdout
    assert "N = 10, sum = " in (book / "01_tiny_sum.ipynb").read_text()
    assert not (book / "90_appendix.ipynb").exists()
    record = json.loads((book / "results" / "run.json").read_text())
    assert [t["chapter"] for t in record["tasks"]] == ["01_tiny_sum"] and "book_run" not in record


def test_workers_are_for_runs_in_place_only(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_notebooks.main(["--workers", "2", "--output-dir", str(tmp_path),
                            str(NOTEBOOKS / "01_tiny_sum.md")])  # fmt: skip
    assert "--workers applies to runs in place" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_notebooks.main(["--workers", "0", str(NOTEBOOKS / "01_tiny_sum.md")])
    assert "--workers must be >= 1, got 0" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("manager", "expected"),
    [(AsyncKernelManager, [signal.SIGINT]), (run_notebooks.KernelManagerShutdownByRequest, [])],
)
def test_the_runner_shuts_a_kernel_down_without_interrupting_it(manager, expected):
    # jupyter_client's manager sends SIGINT before the shutdown request; the runner's does not.
    async def start_and_shut_down():
        km = manager(kernel_name="python3", config=run_notebooks.KERNEL_CONFIG)
        sent = []
        send = km._async_signal_kernel

        async def record(signum):
            sent.append(signum)
            await send(signum)

        km._async_signal_kernel = record
        await km.start_kernel()
        await km.shutdown_kernel()
        return sent, await km.is_alive()

    sent, alive = asyncio.run(start_and_shut_down())
    assert sent == expected and not alive
