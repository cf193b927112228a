"""Models against a naive baseline over several seeds, date-based splits, and lag diagnostics.

The price chapters repeat three steps, collected here:

* **Splitting by date.** :func:`year_split` puts every row before a calendar year in training
  and that year in the test span; :func:`last_full_year` finds the latest year the data cover
  from its first week to its last.
* **Model against baseline.** :func:`versus_baseline` scores one model trained on several seeds
  against a baseline forecast on the same test days: RMSE per seed in the data's own units, a
  Diebold–Mariano test per seed (on these test days, is the difference beyond the day-to-day
  noise of the losses?) and a paired comparison over the seeds (on this test span, is it beyond
  the seed-to-seed noise of training?); the verdict follows from both tests.
  :func:`holm_family` corrects the verdicts of several such comparisons together (Holm), and
  :func:`seeds_table` puts several results next to the baseline.
* **A against B by tests that must all agree.** :func:`joint_verdicts` takes, for every
  comparison of a family, its tests' p-values and directions, and finds a difference only
  where every test finds one the same way and the largest p-value survives the Holm
  correction over the family (:class:`JointVerdict`).
* **Is the model only lagging?** A forecast that repeats yesterday's value "tracks" the price
  perfectly and knows nothing. :func:`lag_diagnostics` measures how much of that a forecast is.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, TypeVar

import numpy as np
import pandas as pd

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.metrics import (
    PairedComparison,
    diebold_mariano,
    paired_seed_comparison,
    rmse,
)
from tutorials_lib.report import significant_text

__all__ = [
    "JointVerdict",
    "LagDiagnostics",
    "SeedsVersusBaseline",
    "SignedTest",
    "YearSplit",
    "alignment_shift",
    "check_lookback_fits",
    "format_holm_pvalue",
    "format_pvalue",
    "holm_adjust",
    "holm_family",
    "holm_p_text",
    "joint_verdicts",
    "lag_diagnostics",
    "last_full_year",
    "p_range_text",
    "p_text",
    "price_column",
    "seeds_p_text",
    "seeds_table",
    "versus_baseline",
    "year_split",
]

#: p-values below this are reported as a bound ("< 0.001"): their digits mean nothing.
PVALUE_FLOOR = 1e-3


def format_pvalue(p: float) -> str:
    """A p-value as text: two significant digits, trailing zeros kept (``"0.60"``, ``"1.0"``),
    or ``"< 0.001"`` below :data:`PVALUE_FLOOR`. Every chapter writes its p-values this way."""
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"a p-value must lie in [0, 1], got {p}")
    return f"< {PVALUE_FLOOR:g}" if p < PVALUE_FLOOR else f"{p:#.2g}"


def _p_words(text: str) -> str:
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def p_text(p: float) -> str:
    """``"p = 0.31"`` or ``"p < 0.001"``: a p-value inside a sentence."""
    return _p_words(format_pvalue(p))


def p_range_text(pvalues) -> str:
    """Several p-values (one per seed, say) in a few words: ``"p = 0.31"`` when they read
    alike (``"p < 0.001"`` when all are below :data:`PVALUE_FLOOR`), ``"p from 0.020 to
    0.31"``, or ``"p from below 0.001 to 0.031"``."""
    p = as_float_array("pvalues", pvalues, ndim=1)
    if p.size == 0:
        raise ValueError("pvalues is empty")
    lo, hi = format_pvalue(p.min()), format_pvalue(p.max())
    if lo == hi:
        return _p_words(lo)
    return f"p from {lo.replace('<', 'below')} to {hi}"


def seeds_p_text(pvalues) -> str:
    """One p-value per seed in words: :func:`p_range_text`, followed by ``" on every seed"``
    when the seeds' p-values read alike and by ``" over the seeds"`` when they span a range
    (nothing for a single seed): ``"p < 0.001 on every seed"``."""
    text = p_range_text(pvalues)
    if len(pvalues) == 1:
        return text
    return text + (" over the seeds" if text.startswith("p from") else " on every seed")


def holm_p_text(raw: float, adjusted: float, family_size: int) -> str:
    """``"p = 0.12"`` or ``"p < 0.008"``: :func:`format_holm_pvalue` inside a sentence."""
    return _p_words(format_holm_pvalue(raw, adjusted, family_size))


def format_holm_pvalue(raw: float, adjusted: float, family_size: int) -> str:
    """A Holm-adjusted p-value as text, as :func:`format_pvalue` writes p-values.

    When the raw p-value is below :data:`PVALUE_FLOOR`, its digits mean nothing, and neither do
    those of the adjusted one: it is then stated as the bound the correction guarantees, at most
    ``family_size`` times the raw value (``"< 0.008"`` in a family of 8), or ``"< 0.001"``.
    """
    family_size = check_int("family_size", family_size, minimum=1)
    adjusted_text = format_pvalue(adjusted)
    format_pvalue(raw)  # a p-value, or ValueError
    if adjusted < raw:
        raise ValueError(f"an adjusted p-value ({adjusted}) cannot be below the raw one ({raw})")
    if raw >= PVALUE_FLOOR or adjusted_text.startswith("<"):
        return adjusted_text
    return f"< {min(round(family_size * PVALUE_FLOOR, 12), 1.0):g}"


def holm_adjust(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the order given.

    The smallest of ``m`` p-values is multiplied by ``m``, the next by ``m - 1``, and so on;
    each adjusted value is kept at least as large as the one before it and at most 1. A
    comparison whose adjusted p-value is below ``alpha`` is significant with a probability of
    at most ``alpha`` of even one false finding in the whole family.
    """
    p = as_float_array("pvalues", pvalues, ndim=1)
    if p.size == 0:
        raise ValueError("pvalues is empty: a family needs at least one comparison")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    from statsmodels.stats.multitest import multipletests

    return np.asarray(multipletests(p, method="holm")[1], dtype=np.float64)


# --------------------------------------------------------------------------- tests that must agree


class SignedTest(NamedTuple):
    """One test of A against B: its p-value and the sign of A's loss minus B's (-1: A's is
    lower, 0: no difference at all)."""

    pvalue: float
    sign: int

    @classmethod
    def of(cls, result) -> SignedTest:
        """From a test result with ``pvalue`` and ``mean_diff`` (A minus B), such as
        :func:`~tutorials_lib.metrics.diebold_mariano`'s or
        :func:`~tutorials_lib.metrics.paired_seed_comparison`'s."""
        diff = float(result.mean_diff)
        if np.isnan(diff):
            raise ValueError("the test's mean difference is NaN: it has no direction")
        return cls(float(result.pvalue), int(np.sign(diff)))


@dataclass(frozen=True)
class JointVerdict:
    """A against B by several tests that must all agree, Holm-corrected over a family.

    The claim "A's loss is lower" (or higher) needs every test to find a difference in that
    direction. As an intersection–union test its p-value is the largest of the tests'
    (:attr:`pvalue`), and no correction over the tests is needed; over a family of
    ``family_size`` comparisons that p-value is Holm-adjusted (``adjusted``), and the verdict
    (:attr:`outcome`) rests on the adjusted value. Build these with :func:`joint_verdicts`.
    """

    tests: tuple[SignedTest, ...]
    adjusted: float
    family_size: int
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not self.tests:
            raise ValueError("tests is empty: a comparison needs at least one test")
        for i, (p, sign) in enumerate(self.tests):
            _signed_test(f"tests[{i}]", p, sign)
        check_int("family_size", self.family_size, minimum=1)
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if not self.pvalue <= self.adjusted <= 1:
            raise ValueError(
                f"the adjusted p-value ({self.adjusted}) must lie between the raw one "
                f"({self.pvalue}) and 1"
            )

    @property
    def pvalue(self) -> float:
        """The p-value of "every test finds a difference": the largest of the tests'."""
        return max(p for p, _ in self.tests)

    @property
    def direction(self) -> int:
        """The sign every test agrees on (-1: A's loss lower), or 0 when they differ."""
        signs = {sign for _, sign in self.tests}
        return signs.pop() if len(signs) == 1 else 0

    @property
    def outcome(self) -> int:
        """-1 (A's loss is lower) or 1 (higher) when every test points that way and the
        Holm-adjusted p-value is below ``alpha``; 0 (no verdict) otherwise."""
        return self.direction if self.adjusted < self.alpha else 0

    @property
    def found_alone(self) -> bool:
        """Whether every test finds a difference the same way before the Holm correction."""
        return self.direction != 0 and self.pvalue < self.alpha

    def holm_text(self, in_words: bool = True) -> str:
        """The adjusted p-value as :func:`holm_p_text` (``in_words``) or
        :func:`format_holm_pvalue` writes it: a bound when the raw one is below the floor."""
        text = holm_p_text if in_words else format_holm_pvalue
        return text(self.pvalue, self.adjusted, self.family_size)


def _signed_test(where: str, p, sign) -> SignedTest:
    """``(p, sign)`` as a SignedTest, or a ValueError that names ``where`` it came from."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: the p-value must be a number, got {p!r}") from None
    if not 0 <= p <= 1:
        raise ValueError(f"{where}: a p-value must lie in [0, 1], got {p}")
    if isinstance(sign, bool) or sign not in (-1, 0, 1):
        raise ValueError(f"{where}: the sign must be -1, 0 or 1, got {sign!r}")
    return SignedTest(p, int(sign))


def _signed_tests(key, items) -> list[SignedTest]:
    """``items`` as SignedTests, or a ValueError naming the comparison and the test."""
    tests = []
    for i, item in enumerate(items):
        where = f"family[{key!r}][{i}]"
        try:
            p, sign = item
        except (TypeError, ValueError):
            raise ValueError(f"{where} must be a (p-value, sign) pair, got {item!r}") from None
        tests.append(_signed_test(where, p, sign))
    if not tests:
        raise ValueError(f"family[{key!r}] has no tests")
    return tests


K = TypeVar("K", bound=Hashable)


def joint_verdicts(
    family: Mapping[K, Sequence[SignedTest | tuple[float, int]]], alpha: float = 0.05
) -> dict[K, JointVerdict]:
    """The verdicts of a family of comparisons, each by tests that must all agree.

    ``family`` maps each comparison (any key) to its tests, as :class:`SignedTest` or
    ``(p-value, sign)`` pairs. Every comparison's p-value (the largest of its tests') is
    Holm-adjusted over the whole family (:func:`holm_adjust`), which keeps the chance of even
    one false verdict in the family at most ``alpha``.
    """
    if not isinstance(family, Mapping) or not family:
        raise ValueError("family must be a non-empty mapping {comparison: tests}")
    tests = {key: tuple(_signed_tests(key, items)) for key, items in family.items()}
    adjusted = holm_adjust([max(p for p, _ in t) for t in tests.values()])
    return {
        key: JointVerdict(t, float(a), len(tests), alpha)
        for (key, t), a in zip(tests.items(), adjusted, strict=True)
    }


# --------------------------------------------------------------------------- splits by date


def _dates(dates) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(dates)
    if len(index) == 0:
        raise ValueError("dates is empty")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise ValueError("dates must be strictly increasing")
    return index


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

    The two tests answer different questions. The Diebold–Mariano test asks whether, on these
    test days, the difference in squared errors is beyond the day-to-day noise of the loss
    differential. The paired test asks whether, on this test span, the difference in RMSE is
    beyond the seed-to-seed noise of training; against a baseline without seeds it is a
    one-sample test of the seeds' RMSEs against the baseline's one number, and it says nothing
    about other test spans.

    After :func:`holm_family`, ``family_size`` is the number of comparisons corrected together,
    ``paired_pvalue_holm`` the paired p-value and ``dm_pvalue_holm`` the largest DM p-value over
    the seeds (:attr:`dm_every_pvalue`), each Holm-adjusted over the family; the verdict then
    uses the adjusted values. Never corrected, both are None (and ``family_size`` is 1).
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
    family_size: int = 1
    paired_pvalue_holm: float | None = None
    dm_pvalue_holm: float | None = None

    def __post_init__(self) -> None:
        check_int("family_size", self.family_size, minimum=1)
        adjusted = (self.paired_pvalue_holm, self.dm_pvalue_holm)
        if (adjusted[0] is None) != (adjusted[1] is None):
            raise ValueError("give both Holm-adjusted p-values (paired and DM) or neither")
        if adjusted[0] is None and self.family_size != 1:
            raise ValueError(
                f"family_size is {self.family_size} but no Holm-adjusted p-values are given"
            )

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

    @property
    def dm_every_pvalue(self) -> float:
        """The p-value of "every seed's DM test finds a difference": the largest of them.

        An intersection–union test: the claim needs every seed's test to reject, so its level
        is that of the weakest one, and no correction over the seeds is needed.
        """
        return float(max(self.dm_pvalue))

    @property
    def corrected(self) -> bool:
        """Whether the verdict is Holm-corrected over a family (see :func:`holm_family`)."""
        return self.paired_pvalue_holm is not None

    def _direction(self) -> tuple[int, int]:
        """(sign agreed by every seed's DM test, sign of a significant paired test); 0: none.

        Significance is judged on the Holm-adjusted p-values when the result has them.
        """
        dm_p = self.dm_every_pvalue if self.dm_pvalue_holm is None else self.dm_pvalue_holm
        paired_p = (
            self.paired.pvalue if self.paired_pvalue_holm is None else self.paired_pvalue_holm
        )
        dm = 0
        if dm_p < self.alpha:
            for sign in (-1, 1):
                if all(np.sign(st) == sign for st in self.dm_statistic):
                    dm = sign
        paired = int(np.sign(self.paired.mean_diff)) if paired_p < self.alpha else 0
        return dm, paired

    @property
    def verdict(self) -> str:
        """What the two tests say, at level ``alpha`` (Holm-adjusted after :func:`holm_family`).

        ``"better"`` or ``"worse"`` when the Diebold–Mariano test on every seed's test days and
        the paired comparison over seeds agree; ``"better on the test days only"`` (or worse)
        when every seed's DM test does but the paired test does not; ``"better across seeds
        only"`` (or worse) when the paired test does but not every seed's DM test; otherwise
        ``"no significant difference"`` (``"... after the Holm correction"`` in a family, where
        a test may have been significant alone).
        """
        dm, paired = self._direction()
        word = {-1: "better", 1: "worse"}
        if dm and dm == paired:
            return word[dm]
        if dm and not paired:
            return f"{word[dm]} on the test days only"
        if paired and not dm:
            return f"{word[paired]} across seeds only"
        if self.family_size > 1:
            return "no significant difference after the Holm correction"
        return "no significant difference"

    def sentence(self, units: str = "", digits: int = 4) -> str:
        """The verdict with its numbers, e.g. for a printed line or a glued phrase.

        The p-values are the tests' own; after :func:`holm_family` the Holm-adjusted ones
        follow, with the size of the family, and the verdict rests on those.
        """
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
                f"is {verdict.split()[0]} than {base} on every seed's test days, but not "
                "significantly across seeds on this test span"
            )
        elif verdict.endswith("across seeds only"):
            claim = (
                f"is {verdict.split()[0]} than {base} across seeds on this test span, but not "
                "significantly on every seed's test days"
            )
        else:
            claim = f"is not shown to differ from {base}"
        tests = f"paired {p_text(self.paired.pvalue)}; DM {seeds_p_text(self.dm_pvalue)}"
        if self.corrected:
            m = self.family_size
            paired = format_holm_pvalue(self.paired.pvalue, self.paired_pvalue_holm, m)
            every = format_holm_pvalue(self.dm_every_pvalue, self.dm_pvalue_holm, m)
            largest = "largest DM" if n > 1 else "DM"
            tests += (
                f"; Holm-adjusted over {m} comparisons: paired {_p_words(paired)}, "
                f"{largest} {_p_words(every)}"
            )
        return (
            f"{self.name} {claim}: RMSE {significant_text(self.mean_rmse, digits)}{unit} "
            f"(mean of {n} seeds) against {significant_text(self.baseline_rmse, digits)}{unit}, "
            f"lower on {self.paired.a_wins} of {n} seeds ({tests})"
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


def holm_family(results: Sequence[SeedsVersusBaseline]) -> list[SeedsVersusBaseline]:
    """Correct the verdicts of several comparisons together: copies with Holm-adjusted p-values.

    Each comparison tested at level ``alpha`` alone makes a false finding with probability up to
    ``alpha``; over many, the chance of at least one grows. Holm's step-down method
    (:func:`holm_adjust`) keeps that probability at most ``alpha`` for the whole family. It is
    applied to each test separately: to the paired p-values over the family, and to the p-values
    of "every seed's DM test finds a difference" (:attr:`SeedsVersusBaseline.dm_every_pvalue`,
    the largest over the seeds). The copies keep the raw p-values, carry the adjusted ones and
    the family's size, and judge their verdicts on the adjusted ones. A family of one changes
    nothing but the record that it was corrected.

    Every result must use the same ``alpha``; no two may compare the same model with the same
    baseline (the family would count one comparison twice).
    """
    results = list(results)
    if not results:
        raise ValueError("results is empty: a family needs at least one comparison")
    for r in results:
        if not isinstance(r, SeedsVersusBaseline):
            raise ValueError(
                f"every member of the family must be a SeedsVersusBaseline, got {type(r).__name__}"
            )
    alphas = sorted({r.alpha for r in results})
    if len(alphas) > 1:
        raise ValueError(f"the family mixes levels alpha {alphas}: correct each level apart")
    seen = set()
    for r in results:
        key = (r.name, r.baseline_name)
        if key in seen:
            raise ValueError(f"{r.name!r} against {r.baseline_name!r} is in the family twice")
        seen.add(key)
    paired = holm_adjust([r.paired.pvalue for r in results])
    dm = holm_adjust([r.dm_every_pvalue for r in results])
    return [
        replace(
            r,
            family_size=len(results),
            paired_pvalue_holm=float(p),
            dm_pvalue_holm=float(d),
        )
        for r, p, d in zip(results, paired, dm, strict=True)
    ]


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
      sign, over the days on which both the actual and the predicted move are non-zero; 0.5 is
      a coin.
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
    if np.std(error) == 0:
        raise ValueError("the error is constant: its correlation with the move is undefined")
    moved = (move != 0) & (predicted_move != 0)
    if not moved.any():
        raise ValueError("no day has both an actual and a predicted move")
    hits = np.sign(move[moved]) == np.sign(predicted_move[moved])
    shift, scores = alignment_shift(actual, predicted, max_shift)
    return LagDiagnostics(
        error_move_corr=float(np.corrcoef(error, move)[0, 1]),
        predicted_move_corr=float(np.corrcoef(predicted_move, move)[0, 1]),
        direction_hit_rate=float(np.mean(hits)),
        best_shift=shift,
        shift_rmse=scores,
    )
