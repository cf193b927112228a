import numpy as np
import pytest

from tutorials_lib._checks import (
    as_float_array,
    check_dropout,
    check_float,
    check_int,
    check_seed,
    check_shape,
)


def test_as_float_array_accepts_ints_and_returns_float():
    out = as_float_array("v", [1, 2, 3], ndim=1)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("bad", [["a", "b"], np.array([object(), 1.0], dtype=object)])
def test_as_float_array_rejects_non_numeric(bad):
    with pytest.raises(ValueError, match="v must be numeric"):
        as_float_array("v", bad)


def test_as_float_array_names_nan_position():
    with pytest.raises(ValueError, match=r"v contains NaN .*index \(1, 0\)"):
        as_float_array("v", [[1.0], [np.nan]])


def test_as_float_array_rejects_wrong_ndim():
    with pytest.raises(ValueError, match="v must have 3 dimensions"):
        as_float_array("v", np.zeros((2, 2)), ndim=3)


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_check_int_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="n must be an integer"):
        check_int("n", bad)


def test_check_int_minimum():
    assert check_int("n", np.int64(4), minimum=1) == 4
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        check_int("n", 0, minimum=1)


def test_check_shape_none_matches_any():
    check_shape("a", np.zeros((3, 4)), (None, 4))
    with pytest.raises(ValueError, match=r"a must have shape \('any', 5\)"):
        check_shape("a", np.zeros((3, 4)), (None, 5))


def test_check_float_returns_a_float_inside_the_range():
    assert check_float("p", 1) == 1.0 and isinstance(check_float("p", np.int64(1)), float)
    assert check_float("p", 0.0, 0.0, 1.0) == 0.0 and check_float("p", 1.0, 0.0, 1.0) == 1.0
    assert check_float("p", np.float32(0.5), 0.0, 1.0, low_open=True, high_open=True) == 0.5


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({"low": 0.0, "high": 1.0}, 1.5, r"p must be a number in \[0, 1\], got 1\.5"),
        ({"low": 0.0, "high": 1.0}, -0.1, r"p must be a number in \[0, 1\], got -0\.1"),
        ({"low": 0.0, "high": 1.0, "high_open": True}, 1.0, r"p must be a number in \[0, 1\)"),
        ({"low": 0.0, "high": 1.0, "low_open": True}, 0.0, r"p must be a number in \(0, 1\]"),
        ({"low": 0.0, "low_open": True}, 0.0, "p must be a number > 0, got 0.0"),
        ({"low": 2.0}, 1.0, "p must be a number >= 2, got 1.0"),
        ({"high": 2.0, "high_open": True}, 2.0, "p must be a number < 2, got 2.0"),
        ({"high": 2.0}, 3, "p must be a number <= 2, got 3.0"),
    ],
)  # fmt: skip
def test_check_float_names_the_argument_and_its_range(kwargs, value, message):
    with pytest.raises(ValueError, match=message):
        check_float("p", value, **kwargs)


@pytest.mark.parametrize("bad", [True, "0.1", None, [0.5], 1 + 2j])
def test_check_float_refuses_non_numbers(bad):
    with pytest.raises(ValueError, match="p must be a number"):
        check_float("p", bad)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_float_refuses_nan_and_infinity(bad):
    with pytest.raises(ValueError, match="p must be a finite number"):
        check_float("p", bad)


def test_check_dropout_is_the_half_open_unit_interval():
    assert check_dropout(0) == 0.0 and check_dropout(0.5) == 0.5
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\), got 1"):
        check_dropout(1)
    with pytest.raises(ValueError, match="dropout must be a number"):
        check_dropout(True)


def test_check_seed_accepts_ints_and_generators():
    assert check_seed("seed", 0) == 0 and type(check_seed("seed", np.int64(3))) is int
    rng = np.random.default_rng(1)
    assert check_seed("seed", rng) is rng
    assert check_seed("seed", None, allow_none=True) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [(-1, "seed must be >= 0, got -1"), (1.0, "seed must be an integer >= 0 or a numpy"),
     ("3", "seed must be an integer"), (True, "seed must be an integer"),
     (None, r"seed must be an integer >= 0 or a numpy\.random\.Generator, got None"),
     (np.random.RandomState(0), "seed must be an integer")],
)  # fmt: skip
def test_check_seed_refuses_the_rest(bad, message):
    with pytest.raises(ValueError, match=message):
        check_seed("seed", bad)


def test_check_seed_says_when_none_is_allowed():
    with pytest.raises(ValueError, match="or a numpy.random.Generator, or None, got -2.5"):
        check_seed("seed", -2.5, allow_none=True)
