"""The execution report reads what each executed notebook records; run_notebooks keeps it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))

from execution_report import data_lines, parameter_defaults, read_run  # noqa: E402
from run_notebooks import (  # noqa: E402
    data_description,
    machine_description,
    merge_run_tasks,
    record_run_time,
    stable_run_record,
    strip_volatile,
    warn_if_fallback,
)


def executed_notebook(path: Path, papermill: dict | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            'SEED = 0\nSWEEP = {\n    "hidden": [8, 16],\n}\nLR: float = 0.01\nimport os',
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(
            "print(...)",
            outputs=[
                nbformat.v4.new_output(
                    "stream", name="stdout", text="Data: real file btc.csv, 1273 rows\nok\n"
                ),
                nbformat.v4.new_output(
                    "stream", name="stdout", text="Data: real file btc.csv, 1273 rows\n"
                ),
            ],
        ),
    ]
    if papermill is not None:
        nb.metadata["papermill"] = papermill
    nbformat.write(nb, path)
    return path


def test_reads_duration_parameters_and_data(tmp_path: Path):
    path = executed_notebook(tmp_path / "01_x.ipynb", {"duration": 41.6, "parameters": {"SEED": 3}})
    run = read_run(path)
    assert run.duration_s == 42
    assert run.defaults == [
        ("SEED", "0"),
        ("SWEEP", '{\n    "hidden": [8, 16],\n}'),
        ("LR", "0.01"),
    ]
    assert run.injected == {"SEED": 3}
    assert run.data == ["real file btc.csv, 1273 rows"]


def test_notebook_without_papermill_record_is_not_recorded(tmp_path: Path):
    run = read_run(executed_notebook(tmp_path / "01_x.ipynb"))
    assert run.duration_s is None and run.injected == {}
    assert [name for name, _ in run.defaults] == ["SEED", "SWEEP", "LR"]


def test_parameters_cell_that_is_not_python_names_the_notebook():
    with pytest.raises(ValueError, match="01_x.ipynb: parameters cell"):
        parameter_defaults("%matplotlib inline\nSEED = 0", "01_x.ipynb")


def test_data_lines_ignore_other_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Data: not an output"),
        nbformat.v4.new_code_cell(
            "x", outputs=[nbformat.v4.new_output("stream", name="stdout", text="no data here\n")]
        ),
    ]
    assert data_lines(nb) == []


def test_stable_run_record_keeps_parameters_and_whole_seconds():
    record = stable_run_record(
        {
            "duration": 12.49,
            "start_time": "2026-01-01T00:00:00",
            "end_time": "2026-01-01T00:00:12",
            "parameters": {"EPOCHS": 2},
            "input_path": "/tmp/x.ipynb",
            "exception": None,
        }
    )
    assert record == {"parameters": {"EPOCHS": 2}, "duration": 12}
    assert stable_run_record({"duration": None}) == {"parameters": {}}


def test_strip_volatile_keeps_the_run_record(tmp_path: Path):
    path = executed_notebook(
        tmp_path / "01_x.ipynb",
        {"duration": 7.7, "parameters": {}, "start_time": "2026-01-01T00:00:00"},
    )
    strip_volatile(path)
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["papermill"] == {"parameters": {}, "duration": 8}
    assert read_run(path).duration_s == 8


def test_record_run_time_keeps_other_chapters_and_stamps_each_run(tmp_path: Path):
    record_run_time(Path("book/02_b.md"), 12.34, tmp_path)
    record_run_time(Path("book/01_a.md"), 5.0, tmp_path)
    record_run_time(Path("book/02_b.md"), 20.06, tmp_path)  # a later run replaces the first
    run = json.loads((tmp_path / "run.json").read_text())
    assert [(t["chapter"], t["seconds"]) for t in run["tasks"]] == [("01_a", 5.0), ("02_b", 20.1)]
    for task in run["tasks"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", task["finished"]), task
    assert run["machine"]["cores"] >= 1
    assert all(task["machine"] == run["machine"] for task in run["tasks"])


def test_a_merged_run_keeps_the_machine_each_task_ran_on():
    other = {"cores": 64, "cpu": "another CPU", "simd": "AVX2", "python": "3.11.0"}
    earlier = {
        "cluster": "elsewhere",
        "machine": other,  # the machine of the run that made both tasks below
        "tasks": [{"chapter": "01_a", "seconds": 1.0}, {"chapter": "02_b", "seconds": 2.0}],
    }
    merged = merge_run_tasks(earlier, [{"chapter": "02_b", "seconds": 3.0}])
    here = machine_description()
    assert merged["machine"] == here and merged["cluster"] == "elsewhere"
    assert merged["tasks"] == [
        {"chapter": "01_a", "seconds": 1.0, "machine": other},  # not relabelled
        {"chapter": "02_b", "seconds": 3.0, "machine": here},
    ]
    # a task that names its machine keeps it through later merges
    again = merge_run_tasks(merged, [{"chapter": "03_c", "seconds": 4.0}])
    assert again["tasks"][0]["machine"] == other


def test_timed_runs_record_which_data_files_they_read(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("RNN_BOOK_DATA_DIR", raising=False)
    unset = data_description()
    assert unset["data_dir"] is None
    assert set(unset["files"]) == {"btc.csv", "IBM_2006-01-01_to_2018-01-01.csv", "msft_data.csv"}
    assert set(unset["files"].values()) == {"absent"}
    warn_if_fallback(unset)
    assert "RNN_BOOK_DATA_DIR unset" in capsys.readouterr().err

    (tmp_path / "btc.csv").write_text("date,close\n")
    monkeypatch.setenv("RNN_BOOK_DATA_DIR", str(tmp_path))
    some = data_description()
    assert some["data_dir"] == str(tmp_path)
    assert some["files"]["btc.csv"] == "read"
    assert some["files"]["msft_data.csv"] == "absent"
    warn_if_fallback(some)
    err = capsys.readouterr().err
    assert "msft_data.csv" in err and "btc.csv," not in err

    for name in some["files"]:
        (tmp_path / name).write_text("date,close\n")
    warn_if_fallback(data_description())
    assert capsys.readouterr().err == ""  # every file read: nothing to say
