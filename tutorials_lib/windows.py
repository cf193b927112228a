"""Lookback windows and chronological splits.

Windows are strided views into the series, so a year of daily data with a
60-day lookback costs no more memory than the series itself.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tutorials_lib._checks import as_float_array, check_int


def sliding_windows(values, lookback: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)`` with ``X[i] = values[i:i+lookback]`` and ``y[i] = values[i+lookback+horizon-1]``.

    ``values`` is 1-D (time,) or 2-D (time, features). X is (n, lookback) or
    (n, lookback, features) and y is (n,) or (n, features), with
    ``n = len(values) - lookback - horizon + 1``. Both are read-only views, not copies.
    """
    values = as_float_array("values", values, ndim=(1, 2))
    lookback = check_int("lookback", lookback, minimum=1)
    horizon = check_int("horizon", horizon, minimum=1)
    n = len(values) - lookback - horizon + 1
    if n < 1:
        raise ValueError(
            f"lookback ({lookback}) + horizon ({horizon}) must not exceed the series length "
            f"({len(values)}): no window fits"
        )
    windows = sliding_window_view(values, lookback, axis=0)[:n]  # (n, [features,] lookback)
    if values.ndim == 2:
        windows = np.moveaxis(windows, -1, 1)  # (n, lookback, features)
    targets = values[lookback + horizon - 1 :][:n].view()
    targets.flags.writeable = False
    return windows, targets


def chronological_split(n: int, train_fraction: float) -> int:
    """Return the index that puts the first ``train_fraction`` of ``n`` samples in training.

    The split is by time, never shuffled: everything before the index is the past.
    """
    n = check_int("n", n, minimum=2)
    if not 0.0 < float(train_fraction) < 1.0:
        raise ValueError(f"train_fraction must be strictly between 0 and 1, got {train_fraction}")
    split = int(round(n * float(train_fraction)))
    return min(max(split, 1), n - 1)
