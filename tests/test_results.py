import json
import re

import pytest

from tutorials_lib.results import (
    RESULTS_ENV,
    Experiment,
    chapter_seconds,
    load_results,
    measured_when,
    notebook_parameters,
    read_parameter_file,
    read_run,
    record_results,
    tasks_run_beside,
    write_run,
)


def _experiment(**overrides):
    fields = dict(source="004", experiment="LSTM, 2017 test", metric="RMSE", units="USD",
                  value=2.123456789, baseline=1.9, baseline_name="persistence", dm_pvalue=0.03,
                  n_seeds=3, source_reported="not reported")  # fmt: skip
    fields.update(overrides)
    return Experiment(**fields)


def test_nothing_is_written_without_a_directory(monkeypatch, tmp_path):
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    assert record_results("05_stocks", [_experiment()]) is None
    assert list(tmp_path.iterdir()) == []


def test_record_round_trips_with_six_significant_digits(monkeypatch, tmp_path):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path / "out"))
    written = record_results(
        "05_stocks", [_experiment()], parameters={"EPOCHS": 2, "LR": 0.0012345678}
    )
    assert written is None  # a notebook cell ending with the call shows nothing either way
    path = tmp_path / "out" / "05_stocks.json"
    parameters, experiments = load_results(path)
    assert parameters == {"EPOCHS": 2, "LR": 0.00123457}
    assert experiments[0].value == 2.12346 and experiments[0].n_seeds == 3
    assert experiments[0].dm_variance == "newey-west"


def test_numpy_figures_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    e = _experiment(value=np.float32(1.5), baseline=np.int64(2), dm_pvalue=np.float64(0.25),
                    n_seeds=np.int64(3))  # fmt: skip
    assert (e.value, e.baseline, e.dm_pvalue, e.n_seeds) == (1.5, 2.0, 0.25, 3)
    assert [type(x) for x in (e.value, e.baseline, e.dm_pvalue, e.n_seeds)] == [
        float, float, float, int,
    ]  # fmt: skip
    record_results("05_stocks", [e], directory=tmp_path)
    _, (back,) = load_results(tmp_path / "05_stocks.json")
    assert back == e


def test_floats_are_rounded_at_any_depth_of_the_parameters(tmp_path):
    import numpy as np

    parameters = {"SWEEP": {"dropout": [0.123456789, np.float32(0.25)], "units": (np.int64(8),)},
                  "LR": 0.0012345678, "FLAG": True, "NAME": "x", "NONE": None}  # fmt: skip
    record_results("05_stocks", [_experiment()], parameters=parameters, directory=tmp_path)
    stored, _ = load_results(tmp_path / "05_stocks.json")
    assert stored == {"SWEEP": {"dropout": [0.123457, 0.25], "units": [8]}, "LR": 0.00123457,
                      "FLAG": True, "NAME": "x", "NONE": None}  # fmt: skip
    assert type(stored["FLAG"]) is bool


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [("value", "1.5", r"value must be a real number, got '1\.5'"),
     ("value", None, "value must be a real number, got None"),
     ("baseline", True, "baseline must be a real number, got True"),
     ("dm_pvalue", "0.03", "dm_pvalue must be a real number"),
     ("baseline", float("inf"), "baseline must be finite"),
     ("n_seeds", 0, "n_seeds must be >= 1, got 0"),
     ("n_seeds", -2, "n_seeds must be >= 1, got -2"),
     ("n_seeds", 2.0, "n_seeds must be an integer, got 2.0"),
     ("n_seeds", "3", "n_seeds must be an integer, got '3'"),
     ("units", 3, "units must be text, got 3"),
     ("source_reported", 0.31, "source_reported must be text, got 0.31")],
)  # fmt: skip
def test_each_bad_field_is_named(field, bad, message):
    with pytest.raises(ValueError, match=rf"LSTM, 2017 test: {message}"):
        _experiment(**{field: bad})


def test_an_invalid_experiment_in_a_file_names_the_file(tmp_path):
    record_results("05_stocks", [_experiment()], directory=tmp_path)
    path = tmp_path / "05_stocks.json"
    payload = json.loads(path.read_text())
    payload["experiments"][0]["n_seeds"] = 0
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=r"05_stocks\.json: LSTM, 2017 test: n_seeds must be >= 1"):
        load_results(path)


def test_a_record_without_dm_variance_reads_as_the_classic_test(tmp_path):
    record_results("05_stocks", [_experiment(dm_variance="hln"), _experiment()],
                   directory=tmp_path)  # fmt: skip
    path = tmp_path / "05_stocks.json"
    payload = json.loads(path.read_text())
    assert [e["dm_variance"] for e in payload["experiments"]] == ["hln", "newey-west"]
    for e in payload["experiments"]:
        del e["dm_variance"]
    path.write_text(json.dumps(payload))
    _, experiments = load_results(path)
    assert [e.dm_variance for e in experiments] == ["hln", "hln"]


def test_bad_records_are_refused(tmp_path):
    with pytest.raises(ValueError, match="dm_pvalue must be in"):
        _experiment(dm_pvalue=1.5)
    with pytest.raises(ValueError, match="dm_variance must be one of"):
        _experiment(dm_variance="hac")
    with pytest.raises(ValueError, match="value must be finite"):
        _experiment(value=float("nan"))
    with pytest.raises(ValueError, match="no experiments"):
        record_results("x", [], directory=tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"parameters": {}}))
    with pytest.raises(ValueError, match="not a results file"):
        load_results(bad)


def test_chapter_seconds_keeps_successful_chapters_and_leaves_out_the_appendices(tmp_path):
    assert read_run(tmp_path) == {}
    run = {"tasks": [
        {"chapter": "01_a", "seconds": 12.5},  # make book writes no "ok" field
        {"chapter": "03_b", "seconds": 300, "ok": True},
        {"chapter": "05_c", "seconds": 9.0, "ok": False},
        {"chapter": "90_appendix", "seconds": 2.0},
    ]}  # fmt: skip
    (tmp_path / "run.json").write_text(json.dumps(run))
    assert read_run(tmp_path) == run
    assert chapter_seconds(read_run(tmp_path)) == {"01_a": 12.5, "03_b": 300.0}


def test_a_written_run_record_reads_back_and_its_folder_is_made(tmp_path):
    folder = tmp_path / "results" / "defaults"
    run = {"tasks": [{"chapter": "01_a", "seconds": 12.5}], "book_run": {"workers": 2}}
    write_run(folder, run)
    assert read_run(folder) == run
    assert (folder / "run.json").read_text().endswith("}\n")


def test_tasks_run_beside_finds_overlapping_spans_beyond_the_stamp_resolution():
    run = {"tasks": [
        {"chapter": "03_a", "seconds": 600, "finished": "2026-12-04 04:10 UTC"},  # 04:00-04:10
        {"chapter": "04_b", "seconds": 300, "finished": "2026-12-04 04:08 UTC"},  # 04:03-04:08
        {"chapter": "05_c", "seconds": 60, "finished": "2026-12-04 04:11 UTC"},  # 04:10-04:11
        {"chapter": "06_d", "seconds": 3000, "finished": "2026-12-04 07:15 UTC"},  # alone
        {"chapter": "07_e", "seconds": 50, "ok": False},  # no stamp: not placed in time
        {"chapter": "90_appendix", "seconds": 5, "finished": "2026-12-04 04:05 UTC"},
    ]}  # fmt: skip
    beside = tasks_run_beside(run)
    assert beside == {"03_a": ["04_b"], "04_b": ["03_a"], "05_c": [], "06_d": []}
    with pytest.raises(ValueError, match="task '03_a': finished stamp"):
        tasks_run_beside({"tasks": [{"chapter": "03_a", "seconds": 1, "finished": "04:10"}]})


def test_measured_when_prefers_the_date_then_spans_the_tasks():
    assert measured_when({"date": "2026-12-03 11:55 UTC", "tasks": []}) == "2026-12-03 11:55 UTC"
    day = {"tasks": [
        {"chapter": "02_b", "finished": "2026-12-03 12:15 UTC"},
        {"chapter": "01_a", "finished": "2026-12-03 12:06 UTC"},
        {"chapter": "91_appendix", "finished": "2026-12-03 13:52 UTC"},  # re-run on its own
    ]}  # fmt: skip
    assert measured_when(day) == "2026-12-03 12:06 to 12:15 UTC"
    two_days = {
        "tasks": [{"finished": "2026-12-02 23:50 UTC"}, {"finished": "2026-12-03 00:10 UTC"}]
    }
    assert measured_when(two_days) == "2026-12-02 23:50 to 2026-12-03 00:10 UTC"
    assert (
        measured_when({"tasks": [{"chapter": "01_a", "finished": "2026-12-03 12:06 UTC"}]})
        == "2026-12-03 12:06 UTC"
    )
    assert measured_when({"tasks": [{"chapter": "01_a", "seconds": 3.0}]}) == "–"


def test_measured_when_starts_at_the_earliest_task_start_not_its_first_end():
    # two workers: the long task started first and ended last but one; stamps are truncated to
    # the minute, so 19:53 means 19:53:30 on average, and 8461.7 s before that is 17:32:28
    run = {"tasks": [
        {"chapter": "06_a", "seconds": 5064.3, "finished": "2026-12-03 18:57 UTC"},
        {"chapter": "07_b", "seconds": 8461.7, "finished": "2026-12-03 19:53 UTC"},
        {"chapter": "05_c", "seconds": 1748.9, "finished": "2026-12-03 20:02 UTC"},
    ]}  # fmt: skip
    assert measured_when(run) == "2026-12-03 17:32 to 20:02 UTC"
    overnight = {
        "tasks": [{"chapter": "01_a", "seconds": 1815.0, "finished": "2026-12-03 00:10 UTC"}]
    }
    assert measured_when(overnight) == "2026-12-02 23:40 to 2026-12-03 00:10 UTC"


def test_measured_when_names_the_task_with_a_malformed_stamp():
    with pytest.raises(ValueError, match=r"task '03_b'.*'2026-12-03T12:06'"):
        measured_when(
            {"tasks": [{"chapter": "03_b", "seconds": 1.0, "finished": "2026-12-03T12:06"}]}
        )


def test_the_stamps_runs_write_are_the_stamps_measured_when_reads():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from run_notebooks import utc_stamp

    stamp = utc_stamp()
    run = {"tasks": [{"chapter": "01_a", "seconds": 0.0, "finished": stamp}]}
    assert measured_when(run) == stamp


def _parameters_notebook(path, source: str):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": kernel}), path)
    return path


def test_notebook_parameters_are_the_literal_defaults_updated_by_the_file(tmp_path):
    nb = _parameters_notebook(
        tmp_path / "c.ipynb", "SEEDS = [0, 1, 2]  # seeds\nUNITS = 32\nYEAR = None"
    )
    assert notebook_parameters(nb) == {"SEEDS": [0, 1, 2], "UNITS": 32, "YEAR": None}
    params = tmp_path / "c_source.yaml"
    params.write_text("# the source's settings\nUNITS: 300\nEPOCHS: 10\n")
    assert notebook_parameters(nb, params) == {"SEEDS": [0, 1, 2], "UNITS": 300, "YEAR": None,
                                               "EPOCHS": 10}  # fmt: skip
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert read_parameter_file(empty) == {}


def test_notebook_parameters_name_what_they_cannot_read(tmp_path):
    nb = _parameters_notebook(tmp_path / "d.ipynb", "SCALE = 2 ** 4")
    with pytest.raises(
        ValueError, match=r"d\.ipynb: parameter SCALE = 2 \*\* 4 is not a Python literal"
    ):
        notebook_parameters(nb)
    listed = tmp_path / "listed.yaml"
    listed.write_text("- UNITS\n- 300\n")
    with pytest.raises(ValueError, match=r"listed\.yaml: expected a mapping"):
        read_parameter_file(listed)
    broken = tmp_path / "broken.yaml"
    broken.write_text("UNITS: [300\n")
    with pytest.raises(ValueError, match=r"broken\.yaml: not valid YAML"):
        read_parameter_file(broken)


@pytest.mark.parametrize(
    ("text", "message"),
    [("- UNITS\n- 300\n", r"p\.yaml: expected a mapping of parameter names to values"),
     ("42\n", r"p\.yaml: expected a mapping"), ("UNITS: [300\n", r"p\.yaml: not valid YAML")],
)  # fmt: skip
def test_the_notebook_runner_names_a_parameter_file_it_cannot_use(tmp_path, capsys, text, message):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from run_notebooks import main

    params = tmp_path / "p.yaml"
    params.write_text(text)
    with pytest.raises(SystemExit) as exit_info:  # argparse's error: nothing is executed
        main(["--params", str(params), "--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert re.search(rf"error: --params: .*{message}", capsys.readouterr().err)
