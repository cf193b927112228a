import math

import pytest

from tutorials_lib.report import (
    count_text,
    describe_machine,
    describe_run_machines,
    glue_significant,
    join_words,
    scientific_text,
    significant,
    significant_text,
    upper_bound,
)


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.8998886333030545, 4, 0.8999), (1263.3079518022155, 4, 1263.0), (-0.0012345, 2, -0.0012),
     (0.0, 4, 0.0), (2.0545317587514888e111, 3, 2.05e111)],
)  # fmt: skip
def test_significant(value, digits, expected):
    assert significant(value, digits) == expected


def test_significant_keeps_non_finite_and_rejects_bad_input():
    assert math.isinf(significant(math.inf))
    with pytest.raises(ValueError, match="digits must be between 1 and 6"):
        significant(1.0, 7)
    with pytest.raises(ValueError, match="value must be a real number"):
        significant("1.0")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "below 1e-12"), (1.7e-16, "below 1e-12"), (3.5e-13, "below 1e-12"),
     (1.8e-07, "below 1e-6"), (1e-07, "below 1e-6"), (2.3e-08, "below 1e-7")],
)  # fmt: skip
def test_upper_bound(value, text):
    assert upper_bound(value) == text


@pytest.mark.parametrize(
    ("value", "floor", "text"),
    [(1.0000000000000002e-12, 1e-12, "below 1e-11"),  # log10 of it rounds to -12 exactly
     (1.0000000000000001e-07, 1e-12, "below 1e-6"), (1.0000000000000002e-06, 1e-6, "below 1e-5"),
     (1e-05, 1e-12, "below 1e-4"),  # 1e-6 * 10 is 9.999999999999999e-06, not 1e-05
     (9.999999999999999e-06, 1e-12, "below 1e-5"), (1e-12, 1e-12, "below 1e-11"),
     (math.nextafter(1e-12, 0), 1e-12, "below 1e-12"), (0.05, 1e-3, "below 1e-1")],
)  # fmt: skip
def test_upper_bound_is_true_next_to_a_power_of_ten(value, floor, text):
    assert upper_bound(value, floor) == text
    assert value < float(text.removeprefix("below "))


def test_upper_bound_rejects_negative_nan_and_infinite_input():
    for bad in (-1e-20, math.nan):
        with pytest.raises(ValueError, match="non-negative"):
            upper_bound(bad)
    with pytest.raises(ValueError, match="value must be finite, got inf"):
        upper_bound(math.inf)
    for floor in (0.0, math.inf, "1e-6"):
        with pytest.raises(ValueError, match="floor must be a finite number > 0"):
            upper_bound(1e-3, floor)


def test_describe_machine_names_cpu_vector_unit_and_cores():
    machine = {"cores": 2, "cpu": "AMD EPYC 7B13", "simd": "AVX2", "python": "3.11.9"}
    assert describe_machine(machine) == "AMD EPYC 7B13 (AVX2), 2 cores"
    assert describe_machine(machine, python=True) == "AMD EPYC 7B13 (AVX2), 2 cores, Python 3.11.9"


def test_describe_machine_says_what_an_older_record_lacks():
    text = describe_machine({"cores": 4, "cpu": "Intel Xeon"}, python=True)
    assert text == "Intel Xeon (vector unit not recorded), 4 cores, Python not recorded"
    assert describe_machine({}) == "CPU not recorded (vector unit not recorded), ? cores"
    with pytest.raises(ValueError, match="machine must be a dict"):
        describe_machine(None)


def _frame():
    import pandas as pd

    frame = pd.DataFrame(
        {"RMSE (USD)": [613.912, 4626.4], "note": ["<b>bold?</b>", None]},
        index=pd.Index(["persistence", "LSTM"], name="forecast"),
    )
    return frame


def test_table_shows_the_same_formatted_numbers_as_text_and_html():
    from tutorials_lib.report import Table

    table = Table(_frame(), float_format=lambda v: f"{v:,.1f}", na_rep="-")
    text, html = repr(table), table._repr_html_()
    for shown in ("613.9", "4,626.4", "persistence", "RMSE (USD)"):
        assert shown in text and shown in html
    assert "-" in text.splitlines()[-1] and '<td class="text">-</td>' in html
    # cell text is escaped in the HTML, never markup
    assert "<b>" not in html and "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert html.lstrip().startswith('<table class="dataframe">')


def test_table_rejects_what_it_cannot_show():
    from tutorials_lib.report import Table

    with pytest.raises(ValueError, match="frame must be a pandas DataFrame, got list"):
        Table([[1, 2]])
    with pytest.raises(ValueError, match=r"unknown table option\(s\) \['col_space'\]"):
        Table(_frame(), col_space=4)
    with pytest.raises(ValueError, match=r"formatters name column\(s\) \['RMSE'\]"):
        Table(_frame(), formatters={"RMSE": str})


def test_show_table_displays_html_and_text_once(monkeypatch):
    import IPython.display

    from tutorials_lib.report import show_table

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    result = show_table(_frame(), index=False, formatters={"RMSE (USD)": "{:.0f}".format})
    assert result is None and len(shown) == 1
    assert repr(shown[0]).splitlines()[1].split()[0] == "614"
    assert "forecast" not in shown[0]._repr_html_()


def test_table_marks_the_cells_of_columns_of_words():
    import pandas as pd

    from tutorials_lib.report import Table

    frame = pd.DataFrame(
        {"model": ["LSTM(32)", "persistence"], "RMSE": [2.5, 1.25], "gap": [2.8, None],
         "p": ["< 0.001", "0.04"], "bound": ["below 1e-12", "3e-05"]},
    )  # fmt: skip
    table = Table(frame, index=False, formatters={"gap": "{:.1e}".format}, na_rep="–")
    assert table.text_columns() == [True, False, False, False, True]
    rows = table.to_html().split("<tbody>")[1].split("</tr>")[:2]
    for row in rows:
        cells = row.split("<td")[1:]
        assert [c.startswith(' class="text"') for c in cells] == [True, False, False, False, True]
    assert 'class="text"' not in Table(frame[["RMSE", "p"]]).to_html()


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(9.9, 3, "9.90"), (0.001034, 2, "0.0010"), (0.001034, 3, "0.00103"), (12.5, 3, "12.5"),
     (1234.5, 3, "1230"), (125.0, 3, "125"), (9.97, 2, "10"), (-0.0456, 2, "-0.046"),
     (0.0, 3, "0.00"), (5.557, 4, "5.557")],
)  # fmt: skip
def test_significant_text_keeps_trailing_zeros(value, digits, text):
    assert significant_text(value, digits) == text


@pytest.mark.parametrize(
    "value, digits, text",
    [
        (2.7e7, 2, "2.7 \u00d7 10\u2077"),
        (2.0512e111, 3, "2.05 \u00d7 10\u00b9\u00b9\u00b9"),
        (-3.0e-12, 2, "-3.0 \u00d7 10\u207b\u00b9\u00b2"),
        (12345.0, 3, "12300"),  # below 10**5: plain digits
        (0.0, 2, "0.0"),
    ],
)
def test_scientific_text_writes_powers_of_ten(value, digits, text):
    assert scientific_text(value, digits) == text


def test_scientific_text_bad_input():
    with pytest.raises(ValueError, match="digits"):
        scientific_text(1e9, 0)
    with pytest.raises(ValueError, match="finite"):
        scientific_text(float("inf"), 2)


def test_significant_text_bad_input():
    with pytest.raises(ValueError, match="digits must be >= 1"):
        significant_text(1.0, 0)
    with pytest.raises(ValueError, match="value must be finite"):
        significant_text(float("nan"), 2)
    with pytest.raises(ValueError, match="value must be a real number"):
        significant_text("1.5", 2)


def test_glue_significant_glues_the_text_it_returns(monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, v, display: glued.update({name: v}))
    assert glue_significant("shown", 9.9, 3) == "9.90"
    assert glued == {"shown": "9.90"}


def test_run_machines_named_per_chapter_when_they_differ():
    a = {"cpu": "CPU A", "simd": "AVX2", "cores": 2}
    b = {"cpu": "CPU A", "simd": "AVX-512", "cores": 2}
    one = {"machine": b, "tasks": [{"chapter": "01_x", "machine": b}, {"chapter": "02_y"}]}
    assert describe_run_machines(one) == "CPU A (AVX-512), 2 cores"
    two = {
        "machine": b,
        "tasks": [
            {"chapter": "03_x", "machine": b},
            {"chapter": "04_y", "machine": a},
            {"chapter": "05_z"},
        ],
    }
    assert describe_run_machines(two) == (
        "CPU A (AVX-512), 2 cores (chapters 03, 05); CPU A (AVX2), 2 cores (chapters 04)"
    )
    assert describe_run_machines({"machine": a}) == "CPU A (AVX2), 2 cores"
    with pytest.raises(ValueError, match="run must be a dict"):
        describe_run_machines([])


def test_count_text_agrees_with_its_number():
    assert count_text(1, "epoch") == "1 epoch"
    assert count_text(0, "epoch") == "0 epochs"
    assert count_text(50, "epoch") == "50 epochs"
    with pytest.raises(ValueError, match="whole number"):
        count_text(1.5, "epoch")


def test_join_words_lists_items_in_a_sentence():
    assert join_words(["batch size"]) == "batch size"
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"], "or") == "a, b or c"
    with pytest.raises(ValueError, match="empty"):
        join_words([])
