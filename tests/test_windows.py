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
    assert chronological_split(10, 0.06) == 1 and chronological_split(10, 0.94) == 9
    assert chronological_split(10, np.float64(0.5)) == 5
    for bad in (0.0, 1.0, -0.2, float("nan"), "0.5", True):
        with pytest.raises(
            ValueError, match=r"train_fraction must be a (finite )?number in \(0, 1\)"
        ):
            chronological_split(10, bad)
    with pytest.raises(ValueError, match="n must be >= 2"):
        chronological_split(1, 0.5)


@pytest.mark.parametrize(
    ("n", "fraction", "message"),
    [(10, 0.01, "train_fraction=0.01 of n=10 samples gives 0 training samples and 10 test"),
     (10, 0.05, "gives 0 training samples"),  # round(0.5) is 0
     (10, 0.99, "train_fraction=0.99 of n=10 samples gives 10 training samples and 0 test")],
)  # fmt: skip
def test_chronological_split_never_moves_the_split_to_make_room(n, fraction, message):
    with pytest.raises(ValueError, match=message):
        chronological_split(n, fraction)


@pytest.mark.parametrize("fraction", [0.3, 0.8])
@pytest.mark.parametrize(("lookback", "horizon"), [(1, 1), (5, 1), (4, 3)])
@pytest.mark.parametrize("features", [None, 2])
def test_no_training_window_sees_a_value_from_the_test_span(lookback, horizon, fraction, features):
    """Windows split by chronological_split: changing any value at or after the first test
    target changes no training input and no training target, and changes some test window."""
    shape = (40,) if features is None else (40, features)
    values = np.random.default_rng(lookback + horizon).normal(size=shape)
    X, y = sliding_windows(values, lookback, horizon)
    split = chronological_split(len(y), fraction)
    first_test_row = split + lookback + horizon - 1  # the row that y[split] is read from
    for row in range(first_test_row, len(values)):
        changed = values.copy()
        changed[row] += 1000.0
        X_c, y_c = sliding_windows(changed, lookback, horizon)
        np.testing.assert_array_equal(X_c[:split], X[:split])
        np.testing.assert_array_equal(y_c[:split], y[:split])
        assert not (
            np.array_equal(X_c[split:], X[split:]) and np.array_equal(y_c[split:], y[split:])
        )


def test_the_last_training_row_does_reach_a_training_target():
    """The property above can fail: the row just before the test span is a training target."""
    values = np.arange(30.0)
    X, y = sliding_windows(values, lookback=4, horizon=2)
    split = chronological_split(len(y), 0.7)
    changed = values.copy()
    changed[split + 4 + 2 - 2] += 1.0
    assert not np.array_equal(sliding_windows(changed, 4, 2)[1][:split], y[:split])


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


# --------------------------------------------------------------------------- scaled windows

from sklearn.preprocessing import MinMaxScaler, StandardScaler  # noqa: E402

from tutorials_lib.windows import scaled_windows  # noqa: E402


def test_scaled_windows_fit_on_training_rows_and_split_by_target():
    values = np.arange(30.0) ** 1.5
    sw = scaled_windows(values, lookback=4, train_size=20)
    assert sw.scaler.mean_[0] == pytest.approx(values[:20].mean())
    assert sw.train_targets[-1] == 19 and sw.test_targets[0] == 20
    assert len(sw.X_train) == 16 and len(sw.X_test) == 10
    # the first test window reaches back into the last `lookback` training rows
    np.testing.assert_allclose(sw.inverse(sw.X_test[0]), values[16:20])
    np.testing.assert_allclose(sw.inverse(sw.y_test), values[20:])
    np.testing.assert_allclose(sw.inverse(sw.y_train), values[4:20])


def test_scaled_windows_leave_the_given_scaler_unfitted():
    scaler = MinMaxScaler(feature_range=(-1, 1))
    sw = scaled_windows(np.arange(10.0), lookback=2, train_size=6, scaler=scaler)
    assert not hasattr(scaler, "data_max_") and sw.scaler.data_max_[0] == 5.0
    assert sw.y_train.max() == 1.0 and sw.X_train.min() == -1.0


def test_changing_test_values_changes_no_training_input_nor_the_scaler():
    """The no-leakage property: the future can be anything, training sees the same numbers."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(80, 3)).cumsum(axis=0)
    train_size = 60
    base = scaled_windows(values, lookback=7, train_size=train_size, target=1)
    for trial in range(5):
        future = values.copy()
        future[train_size:] = rng.normal(scale=10.0**trial, size=(20, 3))
        other = scaled_windows(future, lookback=7, train_size=train_size, target=1)
        np.testing.assert_array_equal(other.X_train, base.X_train)
        np.testing.assert_array_equal(other.y_train, base.y_train)
        np.testing.assert_array_equal(other.scaler.mean_, base.scaler.mean_)
        np.testing.assert_array_equal(other.scaler.scale_, base.scaler.scale_)
        assert not np.array_equal(other.y_test, base.y_test)


def test_changing_a_training_value_does_change_the_scaler():
    """The property above can fail: a change inside the training span is seen."""
    values = np.arange(40.0)
    base = scaled_windows(values, lookback=3, train_size=30)
    changed = values.copy()
    changed[29] = 100.0
    assert scaled_windows(changed, lookback=3, train_size=30).scaler.mean_ != base.scaler.mean_


def test_scaled_windows_multivariate_target_and_inverse():
    values = np.column_stack([np.arange(20.0), 100 + 3 * np.arange(20.0)])
    sw = scaled_windows(values, lookback=3, train_size=15, scaler=StandardScaler(), target=1)
    assert sw.X_train.shape == (12, 3, 2) and sw.y_train.shape == (12,)
    np.testing.assert_allclose(sw.inverse(sw.y_test), values[15:, 1])
    all_columns = scaled_windows(values, lookback=3, train_size=15)
    assert all_columns.y_test.shape == (5, 2)
    np.testing.assert_allclose(all_columns.inverse(all_columns.y_test), values[15:])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lookback": 5, "train_size": 5}, "train_size \\(5\\) must exceed lookback"),
        ({"lookback": 2, "train_size": 10}, "train_size \\(10\\) must be smaller than the series"),
        ({"lookback": 0, "train_size": 5}, "lookback must be >= 1"),
        ({"lookback": 2, "train_size": 5, "target": 0}, "target must index a column"),
    ],
)
def test_scaled_windows_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scaled_windows(np.arange(10.0), **kwargs)
