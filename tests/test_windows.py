import numpy as np
import pytest

from tutorials_lib.windows import chronological_split, sliding_windows


def loop_windows(values, lookback, horizon):
    """The explicit loop the book's chapters start from."""
    xs, ys = [], []
    for i in range(len(values) - lookback - horizon + 1):
        xs.append(values[i : i + lookback])
        ys.append(values[i + lookback + horizon - 1])
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("horizon", [1, 3])
@pytest.mark.parametrize("lookback", [1, 4, 9])
def test_matches_explicit_loop_1d(lookback, horizon):
    values = np.arange(20.0) ** 1.5
    X, y = sliding_windows(values, lookback, horizon)
    X_ref, y_ref = loop_windows(values, lookback, horizon)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_matches_explicit_loop_2d_shape_time_major():
    values = np.arange(30.0).reshape(15, 2)
    X, y = sliding_windows(values, lookback=4)
    X_ref, y_ref = loop_windows(values, 4, 1)
    assert X.shape == (11, 4, 2) and y.shape == (11, 2)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_windows_are_read_only_views():
    values = np.arange(10.0)
    X, y = sliding_windows(values, 3)
    assert np.shares_memory(X, values) and np.shares_memory(y, values)
    assert not X.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError):
        X[0, 0] = 99.0
    assert values.flags.writeable  # the caller's array is untouched


def test_longest_possible_lookback_gives_one_window():
    values = np.arange(6.0)
    X, y = sliding_windows(values, lookback=5, horizon=1)
    assert X.shape == (1, 5) and y.tolist() == [5.0]


def test_target_never_inside_its_window():
    values = np.arange(50.0)
    X, y = sliding_windows(values, lookback=7, horizon=2)
    assert np.all(X.max(axis=1) < y)  # strictly after the window: no overlap with the future
    np.testing.assert_array_equal(y - X[:, -1], 2.0)


@pytest.mark.parametrize(
    "args,message",
    [
        ((np.arange(5.0), 5), r"lookback \(5\) \+ horizon \(1\) must not exceed"),
        ((np.arange(5.0), 6), "no window fits"),
        ((np.arange(5.0), 0), "lookback must be >= 1"),
        ((np.arange(5.0), 2, 0), "horizon must be >= 1"),
        ((np.arange(5.0), 2.0), "lookback must be an integer"),
        ((np.zeros((2, 3, 4)), 1), "values must have 1 or 2 dimensions"),
        ((np.array([1.0, np.nan, 3.0, 4.0]), 2), "values contains NaN"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        sliding_windows(*args)


def test_chronological_split():
    assert chronological_split(1266, 0.8) == 1013
    assert chronological_split(10, 0.01) == 1 and chronological_split(10, 0.99) == 9
    with pytest.raises(ValueError, match="train_fraction"):
        chronological_split(10, 1.0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        chronological_split(1, 0.5)


def test_lookback_equal_to_length_minus_horizon_gives_one_window_2d():
    values = np.arange(16.0).reshape(8, 2)
    X, y = sliding_windows(values, lookback=5, horizon=3)
    assert X.shape == (1, 5, 2) and y.shape == (1, 2)
    np.testing.assert_array_equal(X[0], values[:5])
    np.testing.assert_array_equal(y[0], values[7])


def test_lookback_longer_than_series_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"lookback \(9\) \+ horizon \(1\) must not exceed the series length \(8\)"
    ):
        sliding_windows(np.zeros((8, 2)), lookback=9)


def test_2d_windows_are_views_of_the_series():
    values = np.arange(20.0).reshape(10, 2)
    X, _ = sliding_windows(values, lookback=3)
    assert np.shares_memory(X, values) and not X.flags.writeable
    assert X.shape == (7, 3, 2) and X.strides[0] == values.strides[0]


def test_matches_keras_timeseries_dataset():
    keras = pytest.importorskip("keras")
    values = np.random.default_rng(0).standard_normal((30, 2)).astype(np.float32)
    X, y = sliding_windows(values, lookback=6)
    ds = keras.utils.timeseries_dataset_from_array(
        values, values[6:], sequence_length=6, batch_size=100, shuffle=False
    )
    (X_k, y_k) = next(iter(ds))
    # Keras also emits a last window with no target after it; ours stops at the last target.
    np.testing.assert_array_equal(np.asarray(X_k)[: len(X)], X)
    np.testing.assert_array_equal(np.asarray(y_k), y)
