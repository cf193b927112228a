"""Models against a naive baseline over several seeds, date-based splits, and lag diagnostics.

The price chapters repeat three steps, collected here:

* **Splitting by date.** :func:`rows_through` counts the rows up to a day; :func:`year_split`
  puts every row before a calendar year in training and that year in the test span;
  :func:`last_full_year` finds the latest year the data cover from its first week to its last.
* **Model against baseline.** :func:`versus_baseline` scores one model trained on several seeds
  against a baseline forecast on the same test days: RMSE per seed in the data's own units, a
  Diebold–Mariano test per seed, and a paired comparison over the seeds; the verdict follows
  from both tests. :func:`seeds_table` puts several such results next to the baseline.
* **Is the model only lagging?** A forecast that repeats yesterday's value "tracks" the price
  perfectly and knows nothing. :func:`lag_diagnostics` measures how much of that a forecast is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.metrics import (
    PairedComparison,
    diebold_mariano,
    paired_seed_comparison,
    rmse,
)

__all__ = [
    "LagDiagnostics",
    "SeedsVersusBaseline",
    "YearSplit",
    "alignment_shift",
    "check_lookback_fits",
    "format_pvalue",
    "lag_diagnostics",
    "last_full_year",
    "p_text",
    "price_column",
    "rows_through",
    "seeds_table",
    "versus_baseline",
    "year_split",
]

#: p-values below this are reported as a bound ("< 0.001"): their digits mean nothing.
PVALUE_FLOOR = 1e-3


def format_pvalue(p: float) -> str:
    """A p-value as text: two significant digits, or ``"< 0.001"`` below :data:`PVALUE_FLOOR`."""
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"a p-value must lie in [0, 1], got {p}")
    return f"< {PVALUE_FLOOR:g}" if p < PVALUE_FLOOR else f"{p:.2g}"


def p_text(p: float) -> str:
    """``"p = 0.31"`` or ``"p < 0.001"``: a p-value inside a sentence."""
    text = format_pvalue(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


# --------------------------------------------------------------------------- splits by date


def _dates(dates) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(dates)
    if len(index) == 0:
        raise ValueError("dates is empty")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError("dates must be strictly increasing")
    return index


def rows_through(dates, last_day) -> int:
    """How many rows fall on or before ``last_day``: the ``train_size`` of a split at that day.

    Raises ValueError when no row or every row does (nothing to train on, or nothing to test).
    """
    index = _dates(dates)
    day = pd.Timestamp(last_day)
    n = int(np.searchsorted(index.values, day.to_datetime64(), side="right"))
    if n == 0:
        raise ValueError(f"last_day {day.date()} is before the first date {index[0].date()}")
    if n == len(index):
        raise ValueError(
            f"last_day {day.date()} is on or after the last date {index[-1].date()}: "
            "nothing would be left to test on"
        )
    return n


def full_years(dates, slack_days: int = 7) -> list[int]:
    """Calendar years the data cover from their first to their last week.

    A year counts when its first row falls within ``slack_days`` of 1 January and its last
    row within ``slack_days`` of 31 December (markets close on holidays and weekends).
    """
    index = _dates(dates)
    slack_days = check_int("slack_days", slack_days, minimum=0)
    years = []
    for year in sorted(set(index.year)):
        in_year = index[index.year == year]
        starts = (in_year[0] - pd.Timestamp(year, 1, 1)).days <= slack_days
        ends = (pd.Timestamp(year, 12, 31) - in_year[-1]).days <= slack_days
        if starts and ends:
            years.append(int(year))
    return years


def last_full_year(dates, slack_days: int = 7) -> int:
    """The latest year in :func:`full_years`; ValueError if the data hold none."""
    years = full_years(dates, slack_days)
    if not years:
        index = _dates(dates)
        raise ValueError(
            f"the dates ({index[0].date()} to {index[-1].date()}) cover no full calendar year"
        )
    return years[-1]


class YearSplit(NamedTuple):
    """Rows ``[0, train_size)`` train, rows ``[train_size, stop)`` are the test year."""

    train_size: int
    stop: int
    test_year: int


def year_split(dates, test_year: int) -> YearSplit:
    """Train on every row before ``test_year``, test on that year's rows (later rows unused).

    Raises ValueError when the year has no rows or nothing precedes it.
    """
    index = _dates(dates)
    test_year = check_int("test_year", test_year)
    train_size = int((index.year < test_year).sum())
    stop = int((index.year <= test_year).sum())
    if stop == train_size:
        raise ValueError(
            f"test_year {test_year} has no rows: the data run from {index[0].date()} to "
            f"{index[-1].date()}"
        )
    if train_size == 0:
        raise ValueError(f"test_year {test_year} is the first year of the data: no training rows")
    return YearSplit(train_size, stop, test_year)


def check_lookback_fits(lookback: int, train_size: int, name: str = "lookback") -> int:
    """Raise ValueError (naming ``name``) unless one window and its target fit in training."""
    lookback = check_int(name, lookback, minimum=1)
    train_size = check_int("train_size", train_size, minimum=0)
    if lookback >= train_size:
        raise ValueError(
            f"{name} ({lookback}) must be shorter than the training span ({train_size} rows): "
            "no training window would fit"
        )
    return lookback


def price_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as floats; ValueError naming the column, the ones there, and any gap."""
    if column not in frame.columns:
        symbol = frame.attrs.get("symbol") or "the data"
        raise ValueError(
            f"column {column!r} is not in {symbol}; the columns are {list(frame.columns)}"
        )
    values = frame[column].to_numpy(dtype=float)
    empty = np.flatnonzero(np.isnan(values))
    if empty.size:
        days = ", ".join(str(frame.index[i].date()) for i in empty[:3])
        raise ValueError(f"column {column!r} has {empty.size} empty value(s), first on {days}")
    return values


# --------------------------------------------------------------------------- model vs baseline


@dataclass(frozen=True)
class SeedsVersusBaseline:
    """One model, trained on several seeds, against a baseline on the same test days.

    ``rmse`` holds each seed's RMSE in the data's units and ``baseline_rmses`` the baseline's
    (the same number for every seed when the baseline is one forecast, such as persistence);
    ``dm_statistic`` and ``dm_pvalue`` each seed's Diebold–Mariano test against the baseline
    (negative statistic: the model's squared errors are smaller); ``paired`` compares the
    seeds' RMSEs with the baseline's, seed by seed.
    """

    name: str
    baseline_name: str
    seeds: tuple[int, ...]
    rmse: tuple[float, ...]
    baseline_rmses: tuple[float, ...]
    dm_statistic: tuple[float, ...]
    dm_pvalue: tuple[float, ...]
    paired: PairedComparison
    alpha: float = 0.05

    @property
    def mean_rmse(self) -> float:
        return float(np.mean(self.rmse))

    @property
    def baseline_rmse(self) -> float:
        """The baseline's RMSE (its mean over seeds when it differs from seed to seed)."""
        return float(np.mean(self.baseline_rmses))

    @property
    def sd_rmse(self) -> float:
        """Standard deviation of the RMSE over seeds (0 for one seed)."""
        return float(np.std(self.rmse, ddof=1)) if len(self.rmse) > 1 else 0.0

    @property
    def ratio(self) -> float:
        """Mean RMSE over the baseline's: below 1 is more accurate."""
        return self.mean_rmse / self.baseline_rmse

    @property
    def median_dm_pvalue(self) -> float:
        return float(np.median(self.dm_pvalue))

    def _direction(self) -> tuple[int, int]:
        """(sign agreed by every seed's DM test, sign of a significant paired test); 0: none."""
        dm = 0
        for sign in (-1, 1):
            if all(
                np.sign(st) == sign and p < self.alpha
                for st, p in zip(self.dm_statistic, self.dm_pvalue, strict=True)
            ):
                dm = sign
        paired = int(np.sign(self.paired.mean_diff)) if self.paired.pvalue < self.alpha else 0
        return dm, paired

    @property
    def verdict(self) -> str:
        """What the two tests say, at level ``alpha``.

        ``"better"`` or ``"worse"`` when the Diebold–Mariano test on every seed's test days and
        the paired comparison over seeds agree; ``"better on the test days only"`` (or worse)
        when every seed's DM test does but the seeds vary too much for the paired test;
        ``"better across seeds only"`` (or worse) when the paired test does but not every
        seed's DM test; otherwise ``"no evidence of a difference"``.
        """
        dm, paired = self._direction()
        word = {-1: "better", 1: "worse"}
        if dm and dm == paired:
            return word[dm]
        if dm and not paired:
            return f"{word[dm]} on the test days only"
        if paired and not dm:
            return f"{word[paired]} across seeds only"
        return "no evidence of a difference"

    def sentence(self, units: str = "", digits: int = 4) -> str:
        """The verdict with its numbers, e.g. for a printed line or a glued phrase."""
        unit = f" {units}" if units else ""
        base = self.baseline_name
        n = len(self.seeds)
        verdict = self.verdict
        if verdict == "better":
            claim = f"beats {base}"
        elif verdict == "worse":
            claim = f"is worse than {base}"
        elif verdict.endswith("on the test days only"):
            claim = (
                f"is {verdict.split()[0]} than {base} on every seed's test days, but the seeds "
                "vary too much for the paired test"
            )
        elif verdict.endswith("across seeds only"):
            claim = (
                f"is {verdict.split()[0]} than {base} across seeds, but not significantly on "
                "every seed's test days"
            )
        else:
            claim = f"is not shown to differ from {base}"
        lo, hi = min(self.dm_pvalue), max(self.dm_pvalue)
        if format_pvalue(lo) == format_pvalue(hi):
            dm = f"DM {p_text(lo)} on every seed" if n > 1 else f"DM {p_text(lo)}"
        else:
            dm = f"DM p from {format_pvalue(lo)} to {format_pvalue(hi)}"
        return (
            f"{self.name} {claim}: RMSE {self.mean_rmse:.{digits}g}{unit} (mean of {n} seeds) "
            f"against {self.baseline_rmse:.{digits}g}{unit}, lower on {self.paired.a_wins} of "
            f"{n} seeds (paired {p_text(self.paired.pvalue)}; {dm})"
        )

    def row(self) -> dict:
        """One row of :func:`seeds_table`."""
        return {
            "rmse": self.mean_rmse,
            "rmse sd": self.sd_rmse,
            "rmse ratio": self.ratio,
            "seeds better": f"{self.paired.a_wins}/{len(self.seeds)}",
            "paired p": format_pvalue(self.paired.pvalue),
            "DM p (median)": format_pvalue(self.median_dm_pvalue),
        }


def versus_baseline(
    actual,
    forecasts: Mapping[int, np.ndarray],
    baseline,
    *,
    name: str,
    baseline_name: str = "persistence",
    horizon: int = 1,
    alpha: float = 0.05,
) -> SeedsVersusBaseline:
    """Score a model's forecasts (one per seed, ``{seed: forecast}``) against ``baseline``.

    ``baseline`` is one forecast (such as persistence) or, to compare two trained models,
    another ``{seed: forecast}`` mapping over the same seeds: then seed ``s`` of the model
    meets seed ``s`` of the baseline. Every forecast covers the same test days as ``actual``,
    in the same units. Needs at least two seeds (the paired comparison does).
    """
    actual = as_float_array("actual", actual, ndim=1)
    if not isinstance(forecasts, Mapping) or not forecasts:
        raise ValueError("forecasts must be a non-empty mapping {seed: forecast}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    seeds = tuple(sorted(forecasts))

    def same_days(label: str, values) -> np.ndarray:
        values = as_float_array(label, values, ndim=1)
        if values.shape != actual.shape:
            raise ValueError(
                f"{label} must cover the same days as actual, got {values.shape} and {actual.shape}"
            )
        return values

    if isinstance(baseline, Mapping):
        if set(baseline) != set(seeds):
            raise ValueError(
                f"baseline must cover the same seeds as forecasts, got {sorted(baseline)} and "
                f"{list(seeds)}"
            )
        baselines = {s: same_days(f"baseline[{s}]", baseline[s]) for s in seeds}
    else:
        baselines = dict.fromkeys(seeds, same_days("baseline", baseline))
    arrays = {s: same_days(f"forecasts[{s}]", forecasts[s]) for s in seeds}
    scores = tuple(rmse(actual, arrays[s]) for s in seeds)
    base = tuple(rmse(actual, baselines[s]) for s in seeds)
    tests = [diebold_mariano(actual, arrays[s], baselines[s], horizon=horizon) for s in seeds]
    paired = paired_seed_comparison(list(scores), list(base))
    return SeedsVersusBaseline(
        name=name,
        baseline_name=baseline_name,
        seeds=seeds,
        rmse=scores,
        baseline_rmses=base,
        dm_statistic=tuple(t.statistic for t in tests),
        dm_pvalue=tuple(t.pvalue for t in tests),
        paired=paired,
        alpha=alpha,
    )


def seeds_table(results: Sequence[SeedsVersusBaseline]) -> pd.DataFrame:
    """The baseline's row, then one row per model: mean RMSE over seeds and its standard
    deviation, the ratio to the baseline's RMSE (below 1 is better), on how many seeds the
    model was better, the paired p-value and the median Diebold–Mariano p-value.

    All results must share the baseline and its RMSEs: the same forecast on the same test days.
    """
    if not results:
        raise ValueError("results is empty: nothing to tabulate")
    first = results[0]
    for r in results[1:]:
        same = (
            r.baseline_name == first.baseline_name
            and len(set(r.baseline_rmses)) == len(set(first.baseline_rmses))
            and np.allclose(r.baseline_rmse, first.baseline_rmse, rtol=1e-12, atol=0)
        )
        if not same:
            raise ValueError(
                f"{r.name!r} is compared with {r.baseline_name} (RMSE {r.baseline_rmse}), "
                f"{first.name!r} with {first.baseline_name} (RMSE {first.baseline_rmse}): "
                "not the same baseline on the same days"
            )
    rows = {
        first.baseline_name: {
            "rmse": first.baseline_rmse,
            "rmse sd": np.nan,
            "rmse ratio": 1.0,
            "seeds better": "",
            "paired p": "",
            "DM p (median)": "",
        }
    }
    for r in results:
        if r.name in rows:
            raise ValueError(f"two results are named {r.name!r}")
        rows[r.name] = r.row()
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "forecast"
    return table


# --------------------------------------------------------------------------- lag diagnostics


def alignment_shift(actual, predicted, max_shift: int = 5) -> tuple[int, np.ndarray]:
    """The shift ``k`` (0..max_shift) for which ``predicted[t]`` best matches ``actual[t - k]``.

    Returns ``(k, rmse_by_shift)``, each RMSE over the same days ``t >= max_shift``. A forecast
    that only repeats the latest value is best aligned at ``k = 1``: it is yesterday's price.
    """
    actual = as_float_array("actual", actual, ndim=1)
    predicted = as_float_array("predicted", predicted, ndim=1)
    if actual.shape != predicted.shape:
        raise ValueError(
            f"actual and predicted must have the same shape, got {actual.shape} and "
            f"{predicted.shape}"
        )
    max_shift = check_int("max_shift", max_shift, minimum=0)
    n = len(actual)
    if max_shift >= n - 1:
        raise ValueError(f"max_shift ({max_shift}) must be below len(actual) - 1 ({n - 1})")
    scores = np.array(
        [rmse(actual[max_shift - k : n - k], predicted[max_shift:]) for k in range(max_shift + 1)]
    )
    return int(np.argmin(scores)), scores


class LagDiagnostics(NamedTuple):
    """How much of a one-step forecast is the previous value.

    * ``error_move_corr``: correlation of the error ``actual - predicted`` with the day's move
      ``actual - previous``. Near 1, the forecast missed the whole move: it is yesterday's value.
    * ``predicted_move_corr``: correlation of the predicted move ``predicted - previous`` with
      the actual move. Near 0, the forecast knows nothing about the direction or size of the move.
    * ``direction_hit_rate``: share of days on which the predicted move has the actual move's
      sign (days without a move left out); 0.5 is a coin.
    * ``best_shift`` and ``shift_rmse``: see :func:`alignment_shift`.
    """

    error_move_corr: float
    predicted_move_corr: float
    direction_hit_rate: float
    best_shift: int
    shift_rmse: np.ndarray


def lag_diagnostics(actual, predicted, previous, max_shift: int = 5) -> LagDiagnostics:
    """Measure how far a one-step forecast is the previous value in disguise.

    ``previous[t]`` is the value known when ``actual[t]`` was forecast (for prices, the
    previous day's), so ``previous`` is also the persistence forecast.
    """
    actual = as_float_array("actual", actual, ndim=1)
    predicted = as_float_array("predicted", predicted, ndim=1)
    previous = as_float_array("previous", previous, ndim=1)
    if not actual.shape == predicted.shape == previous.shape:
        raise ValueError(
            f"actual, predicted and previous must have one shape, got {actual.shape}, "
            f"{predicted.shape} and {previous.shape}"
        )
    move = actual - previous
    predicted_move = predicted - previous
    for label, v in (("the actual move", move), ("the predicted move", predicted_move)):
        if np.std(v) == 0:
            raise ValueError(f"{label} is constant: its correlation is undefined")
    error = actual - predicted
    moved = (move != 0) & (predicted_move != 0)
    if not moved.any():
        raise ValueError("no day has both an actual and a predicted move")
    hits = np.sign(move[moved]) == np.sign(predicted_move[moved])
    shift, scores = alignment_shift(actual, predicted, max_shift)
    return LagDiagnostics(
        error_move_corr=float(np.corrcoef(error, move)[0, 1]) if np.std(error) > 0 else 0.0,
        predicted_move_corr=float(np.corrcoef(predicted_move, move)[0, 1]),
        direction_hit_rate=float(np.mean(hits)),
        best_shift=shift,
        shift_rmse=scores,
    )
