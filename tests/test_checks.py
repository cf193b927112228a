import numpy as np
import pytest

from tutorials_lib._checks import as_float_array, check_int, check_shape


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
