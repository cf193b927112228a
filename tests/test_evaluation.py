import numpy as np
import pandas as pd
import pytest

from tutorials_lib.evaluation import (
    JointVerdict,
    SignedTest,
    alignment_shift,
    check_lookback_fits,
    format_holm_pvalue,
    format_pvalue,
    full_years,
    holm_adjust,
    holm_family,
    holm_p_text,
    joint_verdicts,
    lag_diagnostics,
    last_full_year,
    p_range_text,
    p_text,
    price_column,
    seeds_p_text,
    seeds_table,
    versus_baseline,
    year_split,
)
from tutorials_lib.metrics import diebold_mariano, paired_seed_comparison, rmse

BUSINESS_DAYS = pd.bdate_range("2015-01-02", "2017-12-29")


def _walk(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return 100 + np.cumsum(rng.normal(0, 1, n))


# ------------------------------------------------------------------ dates


def test_full_years_need_the_first_and_last_week():
    assert full_years(BUSINESS_DAYS) == [2015, 2016, 2017]
    cut = BUSINESS_DAYS[(BUSINESS_DAYS >= "2015-03-02") & (BUSINESS_DAYS <= "2017-03-01")]
    assert full_years(cut) == [2016]
    assert last_full_year(cut) == 2016
    with pytest.raises(ValueError, match="cover no full calendar year"):
        last_full_year(cut[cut.year == 2017])


def test_year_split_trains_before_the_year_and_stops_at_its_end():
    split = year_split(BUSINESS_DAYS, 2016)
    assert split.train_size == int((BUSINESS_DAYS.year < 2016).sum())
    assert split.stop == int((BUSINESS_DAYS.year <= 2016).sum())
    assert BUSINESS_DAYS[split.train_size].year == 2016
    assert BUSINESS_DAYS[split.stop - 1].year == 2016 and BUSINESS_DAYS[split.stop].year == 2017
    assert split.test_year == 2016


@pytest.mark.parametrize(
    ("year", "message"),
    [(2018, "test_year 2018 has no rows"), (2015, "first year of the data"),
     (2016.0, "test_year must be an integer")],
)  # fmt: skip
def test_year_split_bad_years(year, message):
    with pytest.raises(ValueError, match=message):
        year_split(BUSINESS_DAYS, year)


def test_check_lookback_fits_names_the_parameter():
    assert check_lookback_fits(60, 61, name="LAG") == 60
    with pytest.raises(ValueError, match=r"LAG \(61\) must be shorter than the training span"):
        check_lookback_fits(61, 61, name="LAG")
    with pytest.raises(ValueError, match="LAG must be >= 1"):
        check_lookback_fits(0, 61, name="LAG")


def test_price_column_names_missing_columns_and_gaps():
    frame = pd.DataFrame(
        {"high": [1.0, 2.0, 3.0], "low": [1.0, np.nan, 2.0]},
        index=pd.DatetimeIndex(["2017-07-28", "2017-07-31", "2017-08-01"]),
    )
    frame.attrs["symbol"] = "IBM"
    np.testing.assert_allclose(price_column(frame, "high"), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"column 'Close' is not in IBM; the columns are"):
        price_column(frame, "Close")
    with pytest.raises(
        ValueError, match=r"column 'low' has 1 empty value\(s\), first on 2017-07-31"
    ):
        price_column(frame, "low")


# ------------------------------------------------------------------ p-values


@pytest.mark.parametrize(
    ("p", "text"), [(0.31, "0.31"), (0.04912, "0.049"), (0.0009, "< 0.001"), (1e-23, "< 0.001"),
                    (1.0, "1.0"), (0.596, "0.60"), (0.1, "0.10"), (0.001, "0.0010")],
)  # fmt: skip
def test_format_pvalue(p, text):
    assert format_pvalue(p) == text


def test_p_text_reads_in_a_sentence():
    assert p_text(0.31) == "p = 0.31"
    assert p_text(1e-9) == "p < 0.001"


@pytest.mark.parametrize(
    ("pvalues", "text"),
    [([0.31], "p = 0.31"), ([0.311, 0.309], "p = 0.31"), ([0.31, 0.02], "p from 0.020 to 0.31"),
     ([1e-5, 0.031, 0.002], "p from below 0.001 to 0.031"), ([1e-5, 4e-4], "p < 0.001")],
)  # fmt: skip
def test_p_range_text(pvalues, text):
    assert p_range_text(pvalues) == text


@pytest.mark.parametrize(
    "pvalues, text",
    [
        ([0.31], "p = 0.31"),
        ((0.0002, 0.0004, 0.0009), "p < 0.001 on every seed"),
        (np.array([0.312, 0.309]), "p = 0.31 on every seed"),
        ([0.02, 0.31, 0.1], "p from 0.020 to 0.31 over the seeds"),
        ([0.0002, 0.031], "p from below 0.001 to 0.031 over the seeds"),
    ],
)
def test_seeds_p_text(pvalues, text):
    assert seeds_p_text(pvalues) == text


def test_p_range_text_bad_input():
    with pytest.raises(ValueError, match="pvalues is empty"):
        p_range_text([])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        p_range_text([0.2, 1.5])


def test_holm_p_text_states_the_bound_in_words():
    assert holm_p_text(0.01, 0.08, 8) == "p = 0.080"
    assert holm_p_text(0.0004, 0.0032, 8) == "p < 0.008"
    with pytest.raises(ValueError, match="cannot be below the raw one"):
        holm_p_text(0.2, 0.1, 3)


def test_format_pvalue_refuses_non_probabilities():
    with pytest.raises(ValueError, match="a p-value must lie in"):
        format_pvalue(1.5)


# ------------------------------------------------------------------ Holm


def test_holm_adjust_follows_the_step_down_rule():
    # sorted 0.01, 0.03, 0.04, 0.2 times 4, 3, 2, 1 -> 0.04, 0.09, 0.08 -> 0.09 (kept at least
    # as large as the one before), 0.2; returned in the order given
    np.testing.assert_allclose(holm_adjust([0.01, 0.04, 0.03, 0.2]), [0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(holm_adjust([0.3, 0.6]), [0.6, 0.6])  # 0.6 * 1 equals 0.3 * 2
    np.testing.assert_allclose(holm_adjust([0.4, 0.9]), [0.8, 0.9])
    np.testing.assert_allclose(holm_adjust([0.7, 0.1]), [0.7, 0.2])
    np.testing.assert_allclose(holm_adjust([0.8, 0.9, 0.7]), [1.0, 1.0, 1.0])  # at most 1
    assert holm_adjust([0.5]).tolist() == [0.5]  # a family of one is not corrected


def test_holm_adjust_bad_input():
    with pytest.raises(ValueError, match="pvalues is empty"):
        holm_adjust([])
    with pytest.raises(ValueError, match=r"p-values must lie in \[0, 1\]"):
        holm_adjust([0.2, 1.2])
    with pytest.raises(ValueError, match="pvalues contains NaN"):
        holm_adjust([0.2, np.nan])


@pytest.mark.parametrize(
    ("raw", "adjusted", "size", "text"),
    [(0.01, 0.08, 8, "0.080"), (0.0004, 0.0012, 8, "< 0.008"), (1e-9, 5e-9, 8, "< 0.001"),
     (0.0004, 0.0004, 1, "< 0.001"), (0.0009, 0.0171, 30, "< 0.03"), (0.3, 1.0, 8, "1.0")],
)  # fmt: skip
def test_format_holm_pvalue_bounds_what_the_floor_hides(raw, adjusted, size, text):
    assert format_holm_pvalue(raw, adjusted, size) == text


def test_format_holm_pvalue_bad_input():
    with pytest.raises(ValueError, match="cannot be below the raw one"):
        format_holm_pvalue(0.2, 0.1, 3)
    with pytest.raises(ValueError, match="a p-value must lie in"):
        format_holm_pvalue(-0.1, 0.1, 3)
    with pytest.raises(ValueError, match="family_size must be >= 1"):
        format_holm_pvalue(0.1, 0.1, 0)


def _family(n_null=7, seeds=range(8)):
    """One model that beats persistence, and ``n_null`` that only add noise."""
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    good = versus_baseline(
        actual, _forecasts(actual, previous, 0.05, seeds=seeds, weight=0.6), previous,
        name="informed",
    )  # fmt: skip
    nulls = []
    for k in range(n_null):
        rng = np.random.default_rng(50 + k)
        forecasts = {s: previous + rng.normal(0, 0.02, len(actual)) for s in seeds}
        nulls.append(versus_baseline(actual, forecasts, previous, name=f"null {k}"))
    return good, nulls


def test_a_family_of_one_changes_no_verdict():
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    alone = versus_baseline(actual, _forecasts(actual, previous, 1.0), previous, name="noisy")
    (corrected,) = holm_family([alone])
    assert corrected.family_size == 1
    assert corrected.paired_pvalue_holm == alone.paired.pvalue
    assert corrected.dm_pvalue_holm == max(alone.dm_pvalue)
    assert corrected.verdict == alone.verdict == "worse"
    assert corrected.sentence("USD").startswith(alone.sentence("USD").removesuffix(")"))
    assert "Holm-adjusted over 1 comparisons" in corrected.sentence("USD")
    assert "Holm" not in alone.sentence("USD")


def test_holm_family_adjusts_each_test_as_statsmodels_does():
    from statsmodels.stats.multitest import multipletests

    good, nulls = _family()
    family = [good, *nulls]
    corrected = holm_family(family)
    assert [r.name for r in corrected] == [r.name for r in family]
    assert all(r.family_size == len(family) for r in corrected)
    np.testing.assert_allclose(
        [r.paired_pvalue_holm for r in corrected],
        multipletests([r.paired.pvalue for r in family], method="holm")[1], rtol=1e-12,
    )  # fmt: skip
    np.testing.assert_allclose(
        [r.dm_pvalue_holm for r in corrected],
        multipletests([max(r.dm_pvalue) for r in family], method="holm")[1], rtol=1e-12,
    )  # fmt: skip
    # the raw tests are kept as they were
    for before, after in zip(family, corrected, strict=True):
        assert after.paired == before.paired and after.dm_pvalue == before.dm_pvalue
        assert after.rmse == before.rmse
    assert good.verdict == corrected[0].verdict == "better"  # a strong result survives


def test_significant_alone_is_not_significant_in_a_large_family():
    """Both tests just below 0.05 alone: among many comparisons, no longer a finding."""
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    forecasts = _forecasts(actual, previous, 0.3, seeds=range(3), weight=0.1)
    marginal = versus_baseline(actual, forecasts, previous, name="small gain")
    assert marginal.paired.pvalue < 0.05 and max(marginal.dm_pvalue) < 0.05
    assert marginal.verdict == "better"
    _, nulls = _family(n_null=9)
    corrected = holm_family([marginal, *nulls])[0]
    assert corrected.paired_pvalue_holm >= 0.05 > corrected.paired.pvalue
    assert corrected.dm_pvalue_holm >= 0.05 > corrected.dm_every_pvalue
    assert corrected.verdict == "no significant difference after the Holm correction"
    text = corrected.sentence()
    assert "small gain is not shown to differ from persistence" in text
    dm_text = p_range_text(marginal.dm_pvalue)
    assert dm_text.startswith("p from")  # the seeds' DM p-values span a range
    assert (
        f"(paired p = {format_pvalue(marginal.paired.pvalue)}; DM {dm_text} over the seeds;" in text
    )
    assert (
        "; Holm-adjusted over 10 comparisons: "
        f"paired p = {format_pvalue(corrected.paired_pvalue_holm)}, "
        f"largest DM p = {format_pvalue(corrected.dm_pvalue_holm)})"
    ) in text


def test_holm_family_bad_input():
    good, nulls = _family(n_null=1)
    with pytest.raises(ValueError, match="results is empty"):
        holm_family([])
    with pytest.raises(ValueError, match="'informed' against 'persistence' is in the family twice"):
        holm_family([good, nulls[0], good])
    with pytest.raises(ValueError, match="must be a SeedsVersusBaseline, got dict"):
        holm_family([good, {"name": "x"}])
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"mixes levels alpha \[0.01, 0.05\]"):
        holm_family([good, replace(nulls[0], alpha=0.01)])
    with pytest.raises(ValueError, match="both Holm-adjusted p-values"):
        replace(good, paired_pvalue_holm=0.5)
    with pytest.raises(ValueError, match="family_size is 3 but no Holm-adjusted"):
        replace(good, family_size=3)


# ------------------------------------------------------------------ model vs baseline


def _forecasts(actual, previous, noise, seeds=(0, 1, 2), weight=0.0):
    """Persistence plus ``weight`` of the true move plus seeded noise, one per seed."""
    out = {}
    for s in seeds:
        rng = np.random.default_rng(100 + s)
        out[s] = previous + weight * (actual - previous) + rng.normal(0, noise, len(actual))
    return out


def test_versus_baseline_matches_the_metrics_functions():
    series = _walk()
    actual, previous = series[1:], series[:-1]
    forecasts = _forecasts(actual, previous, noise=0.5)
    result = versus_baseline(actual, forecasts, previous, name="model")
    assert result.seeds == (0, 1, 2)
    np.testing.assert_allclose(result.rmse, [rmse(actual, forecasts[s]) for s in (0, 1, 2)])
    assert result.baseline_rmse == pytest.approx(rmse(actual, previous))
    for s, stat, p in zip(result.seeds, result.dm_statistic, result.dm_pvalue, strict=True):
        dm = diebold_mariano(actual, forecasts[s], previous)
        assert (stat, p) == pytest.approx((dm.statistic, dm.pvalue))
    paired = paired_seed_comparison(list(result.rmse), [result.baseline_rmse] * 3)
    assert result.paired.pvalue == pytest.approx(paired.pvalue)
    assert result.ratio == pytest.approx(np.mean(result.rmse) / result.baseline_rmse)


def test_verdicts_follow_the_tests():
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    worse = versus_baseline(actual, _forecasts(actual, previous, 1.0), previous, name="noisy")
    assert worse.verdict == "worse"
    assert worse.sentence("USD").startswith("noisy is worse than persistence: RMSE ")
    better = versus_baseline(
        actual, _forecasts(actual, previous, 0.05, weight=0.6), previous, name="informed"
    )
    assert better.verdict == "better"
    assert "beats persistence" in better.sentence()
    same = versus_baseline(
        actual, _forecasts(actual, previous, 0.02), previous, name="persistence-like"
    )
    assert same.verdict == "no significant difference"
    assert "is not shown to differ from" in same.sentence()


def test_a_better_average_alone_is_not_a_verdict():
    """Lower RMSE on every seed (paired p < 0.05) but not on some seed's days: no verdict."""
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    forecasts = _forecasts(actual, previous, 0.5, seeds=range(8), weight=0.2)
    result = versus_baseline(actual, forecasts, previous, name="small gain")
    assert result.paired.a_wins == 8 and result.paired.pvalue < 0.05
    assert max(result.dm_pvalue) >= 0.05
    assert result.verdict == "better across seeds only"
    assert (
        "is better than persistence across seeds on this test span, but not significantly on "
        "every seed's test days" in result.sentence()
    )


def test_every_seed_worse_on_its_days_but_seeds_too_varied_for_the_paired_test():
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    rng = np.random.default_rng(7)
    forecasts = {
        0: previous + rng.normal(0, 1.0, len(actual)),
        1: previous + rng.normal(0, 4.0, len(actual)),
    }
    result = versus_baseline(actual, forecasts, previous, name="unstable")
    assert max(result.dm_pvalue) < 0.05 and result.paired.pvalue >= 0.05
    assert result.verdict == "worse on the test days only"
    assert (
        "on every seed's test days, but not significantly across seeds on this test span"
        in result.sentence()
    )


def test_versus_baseline_bad_input():
    series = _walk()
    actual, previous = series[1:], series[:-1]
    with pytest.raises(ValueError, match="non-empty mapping"):
        versus_baseline(actual, [previous], previous, name="m")
    with pytest.raises(ValueError, match=r"forecasts\[1\] must cover the same days"):
        versus_baseline(actual, {0: previous + 1, 1: previous[1:]}, previous, name="m")
    with pytest.raises(ValueError, match="baseline must cover the same days"):
        versus_baseline(actual, {0: previous, 1: previous}, previous[1:], name="m")
    with pytest.raises(ValueError, match="at least 2 seeds"):
        versus_baseline(actual, {0: previous + 0.1}, previous, name="m")


def test_seeds_table_puts_the_baseline_first_and_refuses_other_days():
    series = _walk()
    actual, previous = series[1:], series[:-1]
    a = versus_baseline(actual, _forecasts(actual, previous, 1.0), previous, name="a")
    b = versus_baseline(actual, _forecasts(actual, previous, 0.3), previous, name="b")
    table = seeds_table([a, b])
    assert list(table.index) == ["persistence", "a", "b"]
    assert table.loc["persistence", "rmse ratio"] == 1.0
    assert table.loc["b", "rmse"] == pytest.approx(b.mean_rmse)
    assert table.loc["b", "rmse ratio"] == pytest.approx(b.mean_rmse / b.baseline_rmse)
    assert table.loc["a", "seeds better"] == f"{a.paired.a_wins}/3"
    assert table.loc["a", "paired p"] == format_pvalue(a.paired.pvalue)
    other = versus_baseline(
        actual[1:], {s: f[1:] for s, f in _forecasts(actual, previous, 1.0).items()},
        previous[1:], name="c",
    )  # fmt: skip
    with pytest.raises(ValueError, match="not the same baseline on the same days"):
        seeds_table([a, other])
    with pytest.raises(ValueError, match="two results are named 'a'"):
        seeds_table([a, a])


# ------------------------------------------------------------------ lag diagnostics


def test_a_one_day_lagged_forecast_is_detected():
    series = _walk(n=500)
    actual, previous = series[1:], series[:-1]
    lagged = previous + np.random.default_rng(5).normal(0, 0.05, len(actual))
    diag = lag_diagnostics(actual, lagged, previous)
    assert diag.best_shift == 1
    assert diag.error_move_corr > 0.95
    assert abs(diag.predicted_move_corr) < 0.2
    assert 0.35 < diag.direction_hit_rate < 0.65


def test_a_forecast_that_knows_the_move_is_not_called_lagged():
    series = _walk(n=500)
    actual, previous = series[1:], series[:-1]
    informed = actual + np.random.default_rng(6).normal(0, 0.1, len(actual))
    diag = lag_diagnostics(actual, informed, previous)
    assert diag.best_shift == 0
    assert diag.predicted_move_corr > 0.9
    assert diag.direction_hit_rate > 0.9
    assert abs(diag.error_move_corr) < 0.3


def test_alignment_shift_scores_each_shift_on_the_same_days():
    series = _walk(n=50)
    shift, scores = alignment_shift(series[3:], series[1:-2], max_shift=4)  # two days late
    assert shift == 2
    assert scores[2] == 0.0
    assert scores.shape == (5,)
    with pytest.raises(ValueError, match="max_shift"):
        alignment_shift(series, series, max_shift=49)


def test_lag_diagnostics_bad_input():
    series = _walk(n=20)
    with pytest.raises(ValueError, match="one shape"):
        lag_diagnostics(series[1:], series[1:], series[:-2])
    flat = np.full(19, 3.0)
    with pytest.raises(ValueError, match="the predicted move is constant"):
        lag_diagnostics(series[1:], series[:-1], series[:-1])
    with pytest.raises(ValueError, match="the actual move is constant"):
        lag_diagnostics(flat, series[1:], flat)
    # a forecast off by the same amount every day: its error has no correlation to report
    with pytest.raises(ValueError, match="the error is constant"):
        lag_diagnostics(series[1:], series[1:] - 2.0, series[:-1])


def test_two_models_are_compared_seed_by_seed():
    series = _walk(n=400)
    actual, previous = series[1:], series[:-1]
    noisy = _forecasts(actual, previous, 1.0)
    calm = _forecasts(actual, previous, 0.3)
    result = versus_baseline(actual, noisy, calm, name="noisy", baseline_name="calm")
    assert result.baseline_rmses == tuple(rmse(actual, calm[s]) for s in (0, 1, 2))
    assert result.verdict == "worse"
    dm = diebold_mariano(actual, noisy[2], calm[2])
    assert result.dm_pvalue[2] == pytest.approx(dm.pvalue)
    with pytest.raises(ValueError, match="baseline must cover the same seeds"):
        versus_baseline(actual, noisy, {0: calm[0], 1: calm[1]}, name="m")
    with pytest.raises(ValueError, match=r"baseline\[1\] must cover the same days"):
        versus_baseline(actual, noisy, {0: calm[0], 1: calm[1][1:], 2: calm[2]}, name="m")


def test_a_year_split_keeps_the_test_year_out_of_training():
    """No leakage: rewriting the test year changes neither the scaler nor a training window."""
    from sklearn.preprocessing import MinMaxScaler

    from tutorials_lib.windows import scaled_windows

    prices = _walk(n=len(BUSINESS_DAYS))
    split = year_split(BUSINESS_DAYS, 2016)
    series = prices[: split.stop]
    a = scaled_windows(series, 20, split.train_size, scaler=MinMaxScaler())
    changed = series.copy()
    changed[split.train_size :] = 1e6
    b = scaled_windows(changed, 20, split.train_size, scaler=MinMaxScaler())
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    np.testing.assert_array_equal(a.scaler.data_max_, b.scaler.data_max_)
    assert a.test_targets[0] == split.train_size
    assert BUSINESS_DAYS[a.test_targets[-1]].year == 2016
    # and the change does reach the test windows, so the check can fail
    assert not np.array_equal(a.y_test, b.y_test)


# ------------------------------------------------------------------ tests that must all agree


def test_joint_verdict_needs_every_test_the_same_way():
    verdicts = joint_verdicts(
        {
            "A vs B": [(0.001, -1), (0.004, -1)],  # both find A lower
            "A vs C": [(0.001, -1), (0.002, 1)],  # opposite directions
            "A vs D": [(0.001, 1), (0.3, 1)],  # one test finds nothing
            "A vs E": [SignedTest(0.0001, 1)],  # one test, A higher
        }
    )
    assert [v.outcome for v in verdicts.values()] == [-1, 0, 0, 1]
    assert [v.direction for v in verdicts.values()] == [-1, 0, 1, 1]
    assert verdicts["A vs B"].pvalue == 0.004  # the largest of the tests'
    assert verdicts["A vs C"].found_alone is False
    assert verdicts["A vs D"].found_alone is False
    assert all(v.family_size == 4 for v in verdicts.values())


def test_joint_verdicts_holm_adjust_the_largest_p_values():
    family = {"x": [(0.01, -1), (0.02, -1)], "y": [(0.03, 1)], "z": [(0.2, -1), (0.001, -1)]}
    verdicts = joint_verdicts(family)
    expected = holm_adjust([0.02, 0.03, 0.2])  # 0.06, 0.06, 0.2
    np.testing.assert_allclose([v.adjusted for v in verdicts.values()], expected, rtol=1e-12)
    # significant alone, not after the correction for three comparisons
    assert verdicts["x"].found_alone and verdicts["x"].outcome == 0
    assert verdicts["x"].holm_text() == "p = 0.060"
    assert verdicts["z"].holm_text(in_words=False) == "0.20"
    alone = joint_verdicts({"x": family["x"]})["x"]  # a family of one changes nothing
    assert alone.adjusted == 0.02 and alone.outcome == -1


def test_joint_verdict_states_a_bound_below_the_floor():
    verdicts = joint_verdicts({k: [(0.0002, -1), (0.0004, -1)] for k in "abcde"})
    assert verdicts["a"].holm_text() == "p < 0.005"
    assert verdicts["a"].holm_text(in_words=False) == "< 0.005"


def test_signed_test_from_a_test_result():
    rng = np.random.default_rng(3)
    actual = rng.normal(size=200)
    good, bad = actual + rng.normal(0, 0.1, 200), actual + rng.normal(0, 1.0, 200)
    dm = diebold_mariano(actual, good, bad)
    assert SignedTest.of(dm) == (dm.pvalue, -1)
    paired = paired_seed_comparison([2.0, 3.0, 4.5], [1.0, 1.5, 2.0])
    assert SignedTest.of(paired).sign == 1
    with pytest.raises(ValueError, match="NaN"):
        SignedTest.of(paired._replace(mean_diff=float("nan")))


@pytest.mark.parametrize(
    "family, message",
    [
        ({}, "non-empty mapping"),
        ([(0.1, 1)], "non-empty mapping"),
        ({"a": []}, r"family\['a'\] has no tests"),
        ({"a": [(0.1, 1)], "b": [0.1]}, r"family\['b'\]\[0\] must be a \(p-value, sign\)"),
        ({"a": [(1.2, 1)]}, r"family\['a'\]\[0\]: a p-value must lie in \[0, 1\]"),
        ({"a": [(float("nan"), 1)]}, "a p-value must lie"),
        ({"a": [(0.1, 1), (0.2, 0.5)]}, r"family\['a'\]\[1\]: the sign must be -1, 0 or 1"),
        ({"a": [(0.1, True)]}, "the sign must be"),
    ],
)
def test_joint_verdicts_bad_input(family, message):
    with pytest.raises(ValueError, match=message):
        joint_verdicts(family)


def test_joint_verdict_checks_its_fields():
    with pytest.raises(ValueError, match="alpha"):
        joint_verdicts({"a": [(0.1, 1)]}, alpha=1.5)
    with pytest.raises(ValueError, match="between the raw one"):
        JointVerdict((SignedTest(0.2, 1),), adjusted=0.1, family_size=2)
    with pytest.raises(ValueError, match="at least one test"):
        JointVerdict((), adjusted=0.1, family_size=1)
    with pytest.raises(ValueError, match="family_size"):
        JointVerdict((SignedTest(0.2, 1),), adjusted=0.2, family_size=0)
