"""Forecast errors in the data's own units, and the naive baselines every model must beat."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tutorials_lib._checks import as_float_array


def _pair(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    actual = as_float_array("actual", actual)
    predicted = as_float_array("predicted", predicted)
    if actual.shape != predicted.shape:
        # A (n,) vs (n, 1) mismatch would broadcast to (n, n) and give a meaningless error.
        if actual.size == predicted.size and actual.size > 0:
            predicted = predicted.reshape(actual.shape)
        else:
            raise ValueError(
                f"actual and predicted must have the same shape, got {actual.shape} "
                f"and {predicted.shape}"
            )
    if actual.size == 0:
        raise ValueError("actual and predicted are empty")
    return actual, predicted


def rmse(actual, predicted) -> float:
    """Root mean squared error."""
    actual, predicted = _pair(actual, predicted)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mae(actual, predicted) -> float:
    """Mean absolute error."""
    actual, predicted = _pair(actual, predicted)
    return float(np.mean(np.abs(actual - predicted)))


def mse(actual, predicted) -> float:
    """Mean squared error."""
    actual, predicted = _pair(actual, predicted)
    return float(np.mean((actual - predicted) ** 2))


def persistence_forecast(windows) -> np.ndarray:
    """Predict that the next value equals the last one seen: ``windows[:, -1]``.

    ``windows`` is (n, lookback) or (n, lookback, features), as from
    :func:`tutorials_lib.windows.sliding_windows`.
    """
    windows = as_float_array("windows", windows, ndim=(2, 3))
    if windows.shape[1] == 0:
        raise ValueError("windows must hold at least one time step")
    return np.array(windows[:, -1])


def comparison_table(
    actual,
    forecasts: Mapping[str, np.ndarray],
    baseline: str | None = None,
) -> pd.DataFrame:
    """Tabulate RMSE and MAE of each forecast against ``actual``, one row per forecast.

    With ``baseline`` (a key of ``forecasts``), a column gives each RMSE as a ratio of the
    baseline's: below 1 beats the baseline.
    """
    if not forecasts:
        raise ValueError("forecasts is empty: nothing to compare")
    if baseline is not None and baseline not in forecasts:
        raise ValueError(f"baseline {baseline!r} is not one of the forecasts {list(forecasts)}")
    rows = {
        name: {"rmse": rmse(actual, pred), "mae": mae(actual, pred)}
        for name, pred in forecasts.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "forecast"
    if baseline is not None:
        table[f"rmse / {baseline}"] = table["rmse"] / table.loc[baseline, "rmse"]
    return table
