import numpy as np
import pandas as pd
import pytest

from tutorials_lib.synthetic import sawtooth_series


def source_frame(repeats: int = 20) -> pd.DataFrame:
    """The saw-tooth pair as the source tutorial builds it, before its scalar factor."""
    flow = (list(range(1, 10)) + list(range(10, 1, -1))) * repeats
    frame = pd.DataFrame({"a": flow, "b": flow})
    frame["b"] = frame["b"].shift(9)
    return frame.iloc[10:]


def test_reproduces_the_source_pair_exactly():
    frame = source_frame()
    values = sawtooth_series(len(frame), period=18, shifts=(8, 17))
    np.testing.assert_array_equal(values, frame.to_numpy(dtype=float))


def test_default_wave_is_the_integer_sawtooth():
    values = sawtooth_series(36, shifts=(0,))
    expected = np.tile(np.r_[1:11, 9:1:-1], 2).astype(float)
    np.testing.assert_array_equal(values[:, 0], expected)


def test_each_column_lags_by_its_shift():
    values = sawtooth_series(200, period=18, shifts=(0, 9, 3, 12, 6))
    for j, shift in enumerate((0, 9, 3, 12, 6)):
        np.testing.assert_array_equal(values[shift:, j], values[: 200 - shift, 0])


def test_wave_spans_low_to_high_and_repeats_with_the_period():
    values = sawtooth_series(70, period=14, shifts=(0,), low=-2.0, high=5.0)[:, 0]
    assert values.min() == -2.0 and values.max() == 5.0
    np.testing.assert_allclose(values[14:], values[:-14], rtol=0, atol=1e-12)


def test_odd_period_is_symmetric():
    values = sawtooth_series(7, period=7, shifts=(0,), low=0.0, high=7.0)[:, 0]
    np.testing.assert_allclose(values, [0, 2, 4, 6, 6, 4, 2], rtol=0, atol=1e-12)


def test_noise_is_additive_gaussian_with_the_given_deviation():
    clean = sawtooth_series(20000, shifts=(0, 9))
    noisy = sawtooth_series(20000, shifts=(0, 9), noise=0.5, seed=3)
    residual = noisy - clean
    assert abs(residual.std() - 0.5) < 0.01
    assert abs(residual.mean()) < 0.01
    assert abs(np.corrcoef(residual[:, 0], residual[:, 1])[0, 1]) < 0.03
    draws = np.random.default_rng(3).standard_normal((20000, 2))
    np.testing.assert_allclose(residual, 0.5 * draws, rtol=0, atol=1e-12)


def test_seeded_noise_repeats_and_differs_across_seeds():
    a = sawtooth_series(100, noise=1.0, seed=1)
    b = sawtooth_series(100, noise=1.0, seed=1)
    c = sawtooth_series(100, noise=1.0, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_lookback_accepts_exactly_one_window_and_target():
    assert sawtooth_series(101, lookback=100).shape == (101, 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": 1}, r"period must be >= 2, got 1"),
        ({"period": 2.5}, r"period must be an integer"),
        ({"shifts": (0, 18)}, r"shifts\[1\] must lie in \[0, period\) = \[0, 18\), got 18"),
        ({"shifts": (-1,)}, r"shifts\[0\] must lie in \[0, period\)"),
        ({"shifts": (0, 1.5)}, r"shifts\[1\] must be an integer"),
        ({"shifts": ()}, r"shifts must be a non-empty sequence"),
        ({"shifts": 9}, r"shifts must be a non-empty sequence"),
        ({"noise": -0.1}, r"noise must be a number >= 0, got -0.1"),
        ({"noise": float("nan")}, r"noise must be a finite number >= 0, got nan"),
        ({"low": 3.0, "high": 3.0}, r"high must be greater than low"),
        ({"n": 0}, r"n must be >= 1"),
        ({"n": 50, "lookback": 100}, r"n \(50\) must be at least lookback \+ 1 \(101\)"),
        ({"n": 100, "lookback": 100}, r"fewer rows than one window and its target"),
        ({"lookback": 0}, r"lookback must be >= 1"),
        ({"seed": -1}, r"seed must be >= 0"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(kwargs, message):
    args = {"n": 200, **kwargs}
    with pytest.raises(ValueError, match=message):
        sawtooth_series(**args)
