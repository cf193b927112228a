import numpy as np
import pytest

from tutorials_lib.metrics import comparison_table, mae, mse, persistence_forecast, rmse


def test_errors_on_known_values():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([1.0, 2.0, 3.0, 6.0])
    assert mse(actual, predicted) == pytest.approx(1.0)
    assert rmse(actual, predicted) == pytest.approx(1.0)
    assert mae(actual, predicted) == pytest.approx(0.5)


def test_column_vector_predictions_do_not_broadcast():
    actual = np.array([1.0, 2.0, 3.0])
    predicted = actual.reshape(-1, 1) + 1.0  # Keras predict() returns (n, 1)
    assert rmse(actual, predicted) == pytest.approx(1.0)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same shape"):
        rmse([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="empty"):
        rmse([], [])
    with pytest.raises(ValueError, match="NaN"):
        rmse([1.0, np.nan], [1.0, 2.0])


def test_persistence_is_last_value_of_each_window():
    windows = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 5.0]])
    np.testing.assert_array_equal(persistence_forecast(windows), [3.0, 5.0])
    windows3d = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(persistence_forecast(windows3d), [[4.0, 5.0], [10.0, 11.0]])
    with pytest.raises(ValueError, match="windows must have 2 or 3 dimensions"):
        persistence_forecast(np.arange(3.0))


def test_comparison_table_ratio_to_baseline():
    actual = np.array([0.0, 0.0, 0.0, 0.0])
    table = comparison_table(
        actual, {"persistence": np.full(4, 2.0), "model": np.full(4, 1.0)}, baseline="persistence"
    )
    assert list(table.index) == ["persistence", "model"]
    assert table.loc["model", "rmse"] == pytest.approx(1.0)
    assert table.loc["model", "rmse / persistence"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="baseline 'zero' is not one of"):
        comparison_table(actual, {"model": actual}, baseline="zero")
    with pytest.raises(ValueError, match="forecasts is empty"):
        comparison_table(actual, {})
