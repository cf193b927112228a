"""Forecast errors in the data's own units, the naive baselines every model must beat, and the
tests that decide whether one forecast really beats another.

Two questions, two tools:

* On one test set, is forecast A more accurate than forecast B, or is the gap noise?
  :func:`diebold_mariano` compares their losses day by day.
* Over several training seeds, does configuration A score better than B?
  :func:`paired_seed_comparison` compares their scores seed by seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from tutorials_lib._checks import as_float_array, check_int

__all__ = [
    "DM_VARIANCES",
    "DieboldMarianoResult",
    "PairedComparison",
    "andrews_lags",
    "comparison_table",
    "diebold_mariano",
    "mae",
    "mse",
    "paired_seed_comparison",
    "persistence_forecast",
    "rmse",
]


def _pair(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as floats of one shape; only (n,) against (n, 1) is reshaped."""
    actual = as_float_array("actual", actual)
    predicted = as_float_array("predicted", predicted)
    if actual.shape != predicted.shape:
        # Keras predict() returns (n, 1) for (n,) targets: broadcasting would give (n, n).
        column = {actual.shape, predicted.shape} == {(len(actual),), (len(actual), 1)}
        if not column:
            raise ValueError(
                f"actual and predicted must have the same shape, got {actual.shape} "
                f"and {predicted.shape}"
            )
        predicted = predicted.reshape(actual.shape)
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


class DieboldMarianoResult(NamedTuple):
    """Outcome of :func:`diebold_mariano`.

    ``mean_diff`` is the mean of ``|e_a|^p - |e_b|^p``: negative when A has the smaller loss.
    ``pvalue`` is two-sided: small means the two forecasts' accuracies differ. ``lags`` is the
    truncation lag: the loss differential's autocovariances at lags 1 to ``lags`` enter its
    long-run variance.
    """

    statistic: float
    pvalue: float
    mean_diff: float
    lags: int = 0


#: The long-run variance estimators :func:`diebold_mariano` offers.
DM_VARIANCES = ("newey-west", "hln")


def _autocovariance(d: np.ndarray, lag: int) -> float:
    """Sample autocovariance at ``lag`` with denominator n, as R's ``acf(type="covariance")``."""
    c = d - d.mean()
    return float(np.dot(c[lag:], c[: len(c) - lag]) / len(c))


def andrews_lags(d, minimum: int = 0) -> int:
    """Newey–West lag count for the loss differential ``d`` from Andrews' AR(1) plug-in rule.

    Andrews (1991) fits an AR(1) to the series and gives the Bartlett kernel the bandwidth
    ``S = 1.1447 (alpha n)^(1/3)`` with ``alpha = 4 rho^2 / ((1 - rho)^2 (1 + rho)^2)``: the
    more persistent the series, the more lags its long-run variance needs. ``rho`` is the
    lag-1 sample autocorrelation (below 1 in size). Returns the truncation lag
    ``L = floor(S)``, raised to ``minimum`` and capped at ``n - 1``. :func:`diebold_mariano`
    then weights lag ``j <= L`` by ``1 - j/(L+1)``, the Newey–West practice (the weights of
    R's ``sandwich::NeweyWest(lag = L)`` and statsmodels' HAC with ``maxlags = L``), not by
    Andrews' ``1 - j/S`` with the unrounded ``S``.
    """
    d = as_float_array("d", d, ndim=1)
    n = len(d)
    if n < 2:
        raise ValueError(f"the lag count needs at least 2 values, got {n}")
    gamma0 = _autocovariance(d, 0)
    rho = _autocovariance(d, 1) / gamma0 if gamma0 > 0 else 0.0
    alpha = 4 * rho**2 / ((1 - rho) ** 2 * (1 + rho) ** 2)
    bandwidth = 1.1447 * (alpha * n) ** (1 / 3)
    return int(min(n - 1, max(minimum, np.floor(bandwidth))))


def diebold_mariano(
    actual,
    forecast_a,
    forecast_b,
    horizon: int = 1,
    power: int = 2,
    *,
    variance: str = "newey-west",
    lags: int | None = None,
) -> DieboldMarianoResult:
    """Diebold–Mariano test of equal accuracy of two forecasts on the same test days.

    The loss differential is ``d_t = |actual_t - a_t|^power - |actual_t - b_t|^power``; the
    test asks whether its mean differs from zero, dividing it by the standard error that the
    differential's long-run variance gives, and compares the statistic with Student's t with
    ``n - 1`` degrees of freedom, two-sided. Two variances:

    * ``"newey-west"`` (default): the autocovariances up to lag ``L`` with Newey–West
      (Bartlett) weights ``1 - j/(L+1)``, where ``L = lags`` or, when ``lags`` is None,
      ``L = andrews_lags(d, minimum=horizon - 1)``: the whole part of Andrews' bandwidth
      ``S``, at least ``horizon - 1``, taken as the truncation lag (so the weights are
      ``1 - j/(L+1)``, not Andrews' ``1 - j/S``). This is statsmodels' HAC variance of the
      mean with ``maxlags = L`` and no small-sample correction. It allows for serially
      correlated differentials: a forecast that lags the series, or paths whose errors
      persist, has them even one step ahead. It assumes a covariance-stationary differential, and on few
      days with strong autocorrelation its p-values are still somewhat too small.
    * ``"hln"``: the autocovariances up to lag ``horizon - 1`` unweighted, with the
      Harvey–Leybourne–Newbold small-sample factor: R's ``forecast::dm.test``. It assumes the
      differential is uncorrelated beyond lag ``horizon - 1``, as the errors of optimal
      ``horizon``-step forecasts are. Where its variance comes out negative (possible for
      ``horizon > 1``), it falls back to ``horizon = 1`` with a warning, as R does.

    Raises ValueError for arrays of unequal shape, NaN values, ``horizon < 1``, fewer than
    two days, an unknown ``variance``, ``lags`` outside ``0..n-1``, or losses identical on
    every day (the statistic is undefined).
    """
    horizon = check_int("horizon", horizon, minimum=1)
    power = check_int("power", power, minimum=1)
    if variance not in DM_VARIANCES:
        raise ValueError(f"variance must be one of {DM_VARIANCES}, got {variance!r}")
    actual, forecast_a = _pair(actual, forecast_a)
    actual_b, forecast_b = _pair(actual, forecast_b)
    d = (np.abs(actual - forecast_a) ** power - np.abs(actual_b - forecast_b) ** power).ravel()
    n = len(d)
    if n < 2:
        raise ValueError(f"the Diebold-Mariano test needs at least 2 test days, got {n}")
    if horizon >= n:
        raise ValueError(f"horizon ({horizon}) must be smaller than the number of days ({n})")
    if _autocovariance(d, 0) <= 0:
        raise ValueError(
            "the two forecasts have identical losses on every day (or a loss differential "
            "with zero variance): the Diebold-Mariano statistic is undefined"
        )
    if variance == "hln":
        if lags is not None:
            raise ValueError("lags applies to variance='newey-west'; 'hln' uses horizon - 1")
        return _dm_hln(d, horizon, actual, forecast_a, forecast_b, power)
    if lags is None:
        lags = andrews_lags(d, minimum=horizon - 1)
    lags = check_int("lags", lags, minimum=0)
    if lags >= n:
        raise ValueError(f"lags ({lags}) must be smaller than the number of days ({n})")
    weights = 1.0 - np.arange(1, lags + 1) / (lags + 1)
    gamma = [_autocovariance(d, lag) for lag in range(lags + 1)]
    long_run = gamma[0] + 2.0 * float(np.dot(weights, gamma[1:]))
    statistic = float(d.mean() / np.sqrt(long_run / n))
    pvalue = float(2 * stats.t.sf(abs(statistic), df=n - 1))
    return DieboldMarianoResult(statistic, pvalue, float(d.mean()), lags)


def _dm_hln(d, horizon, actual, forecast_a, forecast_b, power) -> DieboldMarianoResult:
    """The classic test: unweighted autocovariances to lag ``horizon - 1``, HLN factor."""
    n = len(d)
    gamma = [_autocovariance(d, lag) for lag in range(horizon)]
    variance = (gamma[0] + 2.0 * sum(gamma[1:])) / n
    if variance <= 0:
        warnings.warn(
            f"the long-run variance at horizon {horizon} is negative; using horizon 1",
            RuntimeWarning,
            stacklevel=3,
        )
        return diebold_mariano(actual, forecast_a, forecast_b, 1, power, variance="hln")
    h = horizon
    hln = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = float(d.mean() / np.sqrt(variance) * hln)
    pvalue = float(2 * stats.t.sf(abs(statistic), df=n - 1))
    return DieboldMarianoResult(statistic, pvalue, float(d.mean()), horizon - 1)


class PairedComparison(NamedTuple):
    """Outcome of :func:`paired_seed_comparison` (differences are ``a - b``, seed by seed)."""

    mean_diff: float
    std_error: float
    n_seeds: int
    pvalue: float  #: two-sided paired t-test of a zero mean difference
    a_wins: int  #: seeds on which A scored lower (better, for an error)


def paired_seed_comparison(scores_a, scores_b) -> PairedComparison:
    """Compare two configurations trained on the same seeds: mean of ``a - b`` ± standard error.

    ``scores_a`` and ``scores_b`` are errors (lower is better), either sequences in the same
    seed order or mappings ``{seed: score}`` with the same seeds. A paired comparison removes
    what the seeds share (the draw of initial weights, batch order), so it can tell apart
    configurations whose scores overlap. Needs at least two seeds.
    """
    if isinstance(scores_a, Mapping) or isinstance(scores_b, Mapping):
        if not (isinstance(scores_a, Mapping) and isinstance(scores_b, Mapping)):
            raise ValueError("give both score sets as {seed: score} mappings, or neither")
        if set(scores_a) != set(scores_b):
            raise ValueError(
                f"the comparison must use the same seeds, got {sorted(scores_a)} and "
                f"{sorted(scores_b)}"
            )
        seeds = sorted(scores_a)
        scores_a = [scores_a[s] for s in seeds]
        scores_b = [scores_b[s] for s in seeds]
    a = as_float_array("scores_a", scores_a, ndim=1)
    b = as_float_array("scores_b", scores_b, ndim=1)
    if len(a) != len(b):
        raise ValueError(
            f"scores_a and scores_b must cover the same seeds, got {len(a)} and {len(b)}"
        )
    if len(a) < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds, got {len(a)}")
    diff = a - b
    std_error = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    if std_error == 0:
        pvalue = 1.0 if diff.mean() == 0 else 0.0
    else:
        pvalue = float(2 * stats.t.sf(abs(diff.mean() / std_error), df=len(diff) - 1))
    return PairedComparison(float(diff.mean()), std_error, len(diff), pvalue, int(np.sum(diff < 0)))


def comparison_table(
    actual,
    forecasts: Mapping[str, np.ndarray],
    baseline: str | None = None,
    horizon: int = 1,
) -> pd.DataFrame:
    """Tabulate RMSE and MAE of each forecast against ``actual``, one row per forecast.

    With ``baseline`` (a key of ``forecasts``), two more columns: each RMSE as a ratio of the
    baseline's (below 1 beats it) and the Diebold–Mariano p-value of the squared-error
    comparison with the baseline on the same days (``horizon`` for multi-step forecasts).
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
        table[f"DM p vs {baseline}"] = [
            np.nan
            if name == baseline
            else diebold_mariano(actual, pred, forecasts[baseline], horizon=horizon).pvalue
            for name, pred in forecasts.items()
        ]
    return table
