"""Lookback windows and chronological splits.

Windows are strided views into the series, so a year of daily data with a
60-day lookback costs no more memory than the series itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import TransformerMixin, clone
from sklearn.preprocessing import StandardScaler

from tutorials_lib._checks import as_float_array, check_float, check_int

__all__ = ["ScaledWindows", "chronological_split", "scaled_windows", "sliding_windows"]


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

    The index is ``round(n * train_fraction)``. The split is by time, never shuffled:
    everything before the index is the past. Raises ValueError when ``train_fraction`` is
    not a number strictly between 0 and 1, or when the index would leave no sample for
    training or none for testing (it is never moved to make room).
    """
    n = check_int("n", n, minimum=2)
    train_fraction = check_float(
        "train_fraction", train_fraction, 0.0, 1.0, low_open=True, high_open=True
    )
    split = int(round(n * train_fraction))
    if not 0 < split < n:
        raise ValueError(
            f"train_fraction={train_fraction} of n={n} samples gives {split} training samples "
            f"and {n - split} test samples: both must be at least 1"
        )
    return split


@dataclass(frozen=True)
class ScaledWindows:
    """Windows of a scaled series, split by time, with the scaler that made them.

    ``X_train, y_train`` are the windows whose target falls in the first ``train_size`` rows,
    ``X_test, y_test`` the rest (their inputs may reach back into the training rows: the last
    ``lookback`` days before the test span, never the other way round). ``train_targets`` and
    ``test_targets`` are the row index of each target in the original series.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_targets: np.ndarray
    test_targets: np.ndarray
    scaler: TransformerMixin
    target: int | None

    def inverse(self, scaled) -> np.ndarray:
        """Map scaled targets (or predictions of them) back to the data's own units."""
        scaled = as_float_array("scaled", scaled)
        n_features = self.scaler.n_features_in_
        if self.target is None:
            flat = scaled.reshape(-1, n_features)
            return self.scaler.inverse_transform(flat).reshape(scaled.shape)
        full = np.zeros((scaled.size, n_features))
        full[:, self.target] = scaled.ravel()
        return self.scaler.inverse_transform(full)[:, self.target].reshape(scaled.shape)


def scaled_windows(
    values,
    lookback: int,
    train_size: int,
    *,
    scaler: TransformerMixin | None = None,
    horizon: int = 1,
    target: int | None = None,
) -> ScaledWindows:
    """Fit ``scaler`` on the first ``train_size`` rows only, scale the series, then window it.

    ``values`` is (time,) or (time, features); the scaler (a scikit-learn transformer such as
    ``StandardScaler`` or ``MinMaxScaler``; default ``StandardScaler()``) is cloned, so the
    one passed in is left unfitted. ``target`` picks the column to predict from a 2-D series
    (None: every column). Windows are those of :func:`sliding_windows` on the scaled series;
    a window is in training when its target row is below ``train_size``. Nothing from rows
    ``train_size`` onwards reaches the scaler or a training window.
    """
    values = as_float_array("values", values, ndim=(1, 2))
    lookback = check_int("lookback", lookback, minimum=1)
    horizon = check_int("horizon", horizon, minimum=1)
    train_size = check_int("train_size", train_size, minimum=1)
    if train_size < lookback + horizon:
        raise ValueError(
            f"train_size ({train_size}) must exceed lookback + horizon - 1 "
            f"({lookback + horizon - 1}): no training window would fit"
        )
    if train_size >= len(values):
        raise ValueError(
            f"train_size ({train_size}) must be smaller than the series length ({len(values)}): "
            "nothing would be left to test on"
        )
    columns = values.reshape(len(values), -1)
    if target is not None:
        target = check_int("target", target, minimum=0)
        if values.ndim != 2 or target >= columns.shape[1]:
            raise ValueError(
                f"target must index a column of a 2-D series, got target={target} for shape "
                f"{values.shape}"
            )
    fitted = clone(scaler if scaler is not None else StandardScaler()).fit(columns[:train_size])
    scaled = fitted.transform(columns).reshape(values.shape)
    X, y = sliding_windows(scaled, lookback, horizon)
    if target is not None:
        y = y[:, target]
    rows = np.arange(len(y)) + lookback + horizon - 1
    n_train = train_size - (lookback + horizon - 1)  # targets rows[:n_train] are < train_size
    return ScaledWindows(
        X_train=X[:n_train],
        y_train=y[:n_train],
        X_test=X[n_train:],
        y_test=y[n_train:],
        train_targets=rows[:n_train],
        test_targets=rows[n_train:],
        scaler=fitted,
        target=target,
    )
