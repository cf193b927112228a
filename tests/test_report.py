import math

import pytest

from tutorials_lib.report import describe_machine, significant, upper_bound


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


def test_upper_bound_rejects_negative_and_nan():
    for bad in (-1e-20, math.nan):
        with pytest.raises(ValueError, match="non-negative"):
            upper_bound(bad)


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
