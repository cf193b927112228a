import numpy as np
import pytest
from scipy import stats as scipy_stats

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
        actual,
        {"persistence": np.array([2.0, -2.0, 3.0, -2.0]), "model": np.array([1.0, 1.0, -1.0, 1.5])},
        baseline="persistence",
    )
    assert list(table.index) == ["persistence", "model"]
    assert table.loc["model", "rmse"] == pytest.approx(np.sqrt(1.3125))
    assert table.loc["model", "rmse / persistence"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="baseline 'zero' is not one of"):
        comparison_table(actual, {"model": actual}, baseline="zero")
    with pytest.raises(ValueError, match="forecasts is empty"):
        comparison_table(actual, {})


# --------------------------------------------------------------------------- Diebold-Mariano

from tutorials_lib.metrics import diebold_mariano, paired_seed_comparison  # noqa: E402


def _dm_by_hand(e_a, e_b, h, p):
    """The statistic written out from its definition, loop by loop (independent of the library)."""
    d = [abs(a) ** p - abs(b) ** p for a, b in zip(e_a, e_b, strict=True)]
    n = len(d)
    mean = sum(d) / n
    gamma = []
    for k in range(h):
        gamma.append(sum((d[t] - mean) * (d[t - k] - mean) for t in range(k, n)) / n)
    var = (gamma[0] + 2 * sum(gamma[1:])) / n
    dm = mean / var**0.5
    return dm * ((n + 1 - 2 * h + h * (h - 1) / n) / n) ** 0.5


def test_dm_matches_its_definition_written_out():
    rng = np.random.default_rng(3)
    actual = rng.normal(size=40)
    fa, fb = actual + rng.normal(size=40), actual + 1.3 * rng.normal(size=40)
    for h, p in [(1, 2), (3, 2), (2, 1)]:
        res = diebold_mariano(actual, fa, fb, horizon=h, power=p, variance="hln")
        expected = _dm_by_hand(actual - fa, actual - fb, h, p)
        assert res.statistic == pytest.approx(expected, rel=1e-12)
        assert res.pvalue == pytest.approx(2 * scipy_stats.t.sf(abs(expected), df=39), rel=1e-10)
        assert res.mean_diff == pytest.approx(
            np.mean(np.abs(actual - fa) ** p - np.abs(actual - fb) ** p)
        )


# Reference values from R 4.2.2 with forecast 8.20 (Debian's r-cran-forecast), computed once:
#   e1 <- c(...); e2 <- c(...); dm.test(e1, e2, h = H, power = P)
# R falls back to h = 1 (with a warning) where the h-step variance estimate is negative; so
# does the library. The statistic and p-value R printed are compared here.
E1 = [0.5, -1.2, 0.3, 2.1, -0.7, 1.5, -0.2, 0.9, -1.8, 0.4, 1.1, -0.6]
E2 = [1.1, -0.4, 1.7, 0.2, -1.9, 0.8, 1.4, -0.3, 0.6, -1.5, 0.7, 2.2]
F1 = [0.2, -0.3, 0.1, 0.5, -0.4, 0.3, -0.1, 0.2, -0.6, 0.1, 0.4, -0.2, 0.3, -0.5, 0.2]
F2 = [1.1, -0.9, 1.7, 0.8, -1.9, 0.8, 1.4, -1.3, 0.6, -1.5, 0.7, 2.2, -0.4, 1.0, -1.2]
R_DM = [
    # errors a, errors b, h, power, statistic, p-value
    (E1, E2, 1, 2, -0.4106464737, 0.6892173080),
    (E1, E2, 2, 2, -0.4106464737, 0.6892173080),  # R: variance negative, h = 1
    (E1, E2, 3, 2, -0.4162925145, 0.6852027240),
    (E1, E2, 1, 1, -0.3649861916, 0.7220420959),
    (F1, F2, 1, 2, -4.1979009125, 0.0008941846),
    (F1, F2, 4, 1, -5.6099531669, 0.0000643189),
]


@pytest.mark.filterwarnings("ignore:the long-run variance")
@pytest.mark.parametrize(("e_a", "e_b", "h", "p", "statistic", "pvalue"), R_DM)
def test_dm_matches_r_forecast_dm_test(e_a, e_b, h, p, statistic, pvalue):
    actual = np.zeros(len(e_a))  # errors are actual - forecast, so the forecasts are -e
    res = diebold_mariano(
        actual, -np.array(e_a), -np.array(e_b), horizon=h, power=p, variance="hln"
    )
    assert res.statistic == pytest.approx(statistic, abs=1e-9)
    assert res.pvalue == pytest.approx(pvalue, abs=1e-9)


def test_dm_falls_back_to_horizon_one_with_a_warning_where_r_does():
    actual = np.zeros(len(E1))
    with pytest.warns(RuntimeWarning, match="long-run variance at horizon 2 is negative"):
        res = diebold_mariano(actual, -np.array(E1), -np.array(E2), horizon=2, variance="hln")
    assert res == diebold_mariano(actual, -np.array(E1), -np.array(E2), variance="hln")


def test_dm_sign_says_which_forecast_is_better():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=200)
    good, bad = actual + 0.1 * rng.normal(size=200), actual + rng.normal(size=200)
    res = diebold_mariano(actual, good, bad)
    assert res.statistic < 0 and res.mean_diff < 0 and res.pvalue < 1e-6
    flipped = diebold_mariano(actual, bad, good)
    assert flipped.statistic == pytest.approx(-res.statistic)
    assert flipped.pvalue == pytest.approx(res.pvalue)


def test_dm_bad_input_names_the_problem():
    a = np.arange(5.0)
    with pytest.raises(ValueError, match="same shape"):
        diebold_mariano(a, a + 1, np.arange(4.0))
    with pytest.raises(ValueError, match="NaN"):
        diebold_mariano(a, a + 1, np.array([1.0, np.nan, 1, 1, 1]))
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        diebold_mariano(a, a + 1, a + 2, horizon=0)
    with pytest.raises(ValueError, match="identical losses"):
        diebold_mariano(a, a + 1, a - 1)  # |e| equal every day
    with pytest.raises(ValueError, match="at least 2 test days"):
        diebold_mariano([1.0], [2.0], [3.0])
    with pytest.raises(ValueError, match="horizon \\(5\\) must be smaller"):
        diebold_mariano(a, a + 1, a + np.arange(5.0), horizon=5)


def test_dm_bad_variance_and_lags_are_named():
    a = np.arange(6.0)
    b = a + np.array([1.0, -2, 1, 3, -1, 2])
    with pytest.raises(ValueError, match="variance must be one of"):
        diebold_mariano(a, a + 1, b, variance="hac")
    with pytest.raises(ValueError, match=r"lags \(6\) must be smaller than the number of days"):
        diebold_mariano(a, a + 1, b, lags=6)
    with pytest.raises(ValueError, match="lags must be >= 0"):
        diebold_mariano(a, a + 1, b, lags=-1)
    with pytest.raises(ValueError, match="lags applies to variance='newey-west'"):
        diebold_mariano(a, a + 1, b, lags=2, variance="hln")


def _ar1(rng, n: int, rho: float) -> np.ndarray:
    x = np.empty(n)
    x[0] = rng.normal() / np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + rng.normal()
    return x


def test_newey_west_variance_matches_statsmodels_hac():
    """The long-run variance is statsmodels' HAC (Bartlett, no small-sample correction) of the
    mean of d: regress d on a constant and read the constant's standard error."""
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(7)
    actual = rng.normal(size=120)
    fa = actual + _ar1(rng, 120, 0.8)
    fb = actual + rng.normal(size=120)
    d = (actual - fa) ** 2 - (actual - fb) ** 2
    for lags in (0, 1, 4, 17):
        fit = sm.OLS(d, np.ones_like(d)).fit(
            cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
        )
        res = diebold_mariano(actual, fa, fb, lags=lags)
        assert res.lags == lags
        assert res.statistic == pytest.approx(d.mean() / fit.bse[0], rel=1e-10)
        assert res.pvalue == pytest.approx(2 * scipy_stats.t.sf(abs(res.statistic), 119))


def test_andrews_lags_follow_the_plug_in_rule():
    from tutorials_lib.metrics import andrews_lags

    rng = np.random.default_rng(11)
    for rho in (0.0, 0.5, 0.9):
        d = _ar1(rng, 400, rho)
        c = d - d.mean()
        r = np.dot(c[1:], c[:-1]) / np.dot(c, c)
        alpha = 4 * r**2 / ((1 - r) ** 2 * (1 + r) ** 2)
        assert andrews_lags(d) == int(np.floor(1.1447 * (alpha * 400) ** (1 / 3)))
    white, persistent = andrews_lags(_ar1(rng, 400, 0.0)), andrews_lags(_ar1(rng, 400, 0.95))
    assert white <= 3 < 20 <= persistent
    assert andrews_lags(_ar1(rng, 400, 0.0), minimum=9) == 9  # at least horizon - 1
    assert andrews_lags(np.cumsum(rng.normal(size=30))) <= 29  # at most n - 1
    with pytest.raises(ValueError, match="at least 2 values"):
        andrews_lags([1.0])


def test_default_lags_are_chosen_from_the_data_and_cover_the_horizon():
    rng = np.random.default_rng(5)
    actual = rng.normal(size=300)
    fa, fb = actual + _ar1(rng, 300, 0.9), actual + _ar1(rng, 300, 0.9)
    from tutorials_lib.metrics import andrews_lags

    d = (actual - fa) ** 2 - (actual - fb) ** 2
    assert diebold_mariano(actual, fa, fb).lags == andrews_lags(d) > 0
    assert diebold_mariano(actual, fa, fb, horizon=200).lags == 199


def test_newey_west_keeps_its_size_where_the_hln_test_does_not():
    """Equal accuracy, but each forecast's errors persist (AR(1), rho 0.9), so the loss
    differential is serially correlated even one step ahead. The HLN variance (horizon 1)
    assumes it is not and rejects equal accuracy in about half the trials instead of 5 %; the
    Newey-West variance with data-chosen lags comes much closer (about 15 %: on 250 days of
    such persistent errors it still rejects too often, as the docstring says)."""
    rng = np.random.default_rng(2024)
    n, trials = 250, 300
    rejected = {"hln": 0, "newey-west": 0}
    for _ in range(trials):
        actual = np.zeros(n)
        fa, fb = _ar1(rng, n, 0.9), _ar1(rng, n, 0.9)
        for variance in rejected:
            rejected[variance] += diebold_mariano(actual, fa, fb, variance=variance).pvalue < 0.05
    assert rejected["hln"] / trials > 0.4
    assert rejected["newey-west"] / trials < 0.2


def test_paired_comparison_on_known_numbers():
    res = paired_seed_comparison([1.0, 2.0, 3.0], [1.5, 2.25, 3.75])
    diffs = np.array([-0.5, -0.25, -0.75])
    assert res.mean_diff == pytest.approx(-0.5)
    assert res.std_error == pytest.approx(np.std(diffs, ddof=1) / np.sqrt(3))
    assert res.n_seeds == 3 and res.a_wins == 3
    assert res.pvalue == pytest.approx(
        scipy_stats.ttest_rel([1.0, 2.0, 3.0], [1.5, 2.25, 3.75]).pvalue
    )


def test_paired_comparison_matches_seeds_by_key():
    # The keys come in opposite orders: pairing by position would give the differences
    # [1 - 1, 2 - 3, 4 - 2] = [0, -1, 2] (A wins once, standard error sqrt(7) / 3); by seed
    # they are [4 - 1, 2 - 3, 1 - 2] = [3, -1, -1] (A wins twice, standard error 4 / 3).
    # The mean difference is 1/3 either way, so it cannot tell the pairings apart.
    by_seed = paired_seed_comparison({3: 1.0, 2: 2.0, 1: 4.0}, {1: 1.0, 2: 3.0, 3: 2.0})
    assert by_seed == paired_seed_comparison([4.0, 2.0, 1.0], [1.0, 3.0, 2.0])
    assert by_seed.a_wins == 2 and by_seed.n_seeds == 3
    assert by_seed.std_error == pytest.approx(4 / 3, rel=1e-12)
    assert by_seed.mean_diff == pytest.approx(1 / 3, rel=1e-12)
    assert by_seed.pvalue == pytest.approx(scipy_stats.ttest_rel([4, 2, 1], [1, 3, 2]).pvalue)
    with pytest.raises(ValueError, match="same seeds"):
        paired_seed_comparison({1: 1.0, 2: 1.0}, {1: 1.0, 3: 1.0})
    with pytest.raises(ValueError, match="both"):
        paired_seed_comparison({1: 1.0, 2: 1.0}, [1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        paired_seed_comparison([1.0], [2.0])
    with pytest.raises(ValueError, match="same seeds, got 2 and 3"):
        paired_seed_comparison([1.0, 2.0], [1.0, 2.0, 3.0])


def test_comparison_table_carries_dm_pvalues_against_the_baseline():
    rng = np.random.default_rng(1)
    actual = rng.normal(size=60)
    forecasts = {
        "persistence": actual + rng.normal(size=60),
        "model": actual + 0.2 * rng.normal(size=60),
    }
    table = comparison_table(actual, forecasts, baseline="persistence")
    assert np.isnan(table.loc["persistence", "DM p vs persistence"])
    expected = diebold_mariano(actual, forecasts["model"], forecasts["persistence"]).pvalue
    assert table.loc["model", "DM p vs persistence"] == pytest.approx(expected)


def test_pair_reshapes_only_a_column_vector():
    with pytest.raises(ValueError, match="same shape"):
        rmse(np.zeros(6), np.zeros((2, 3)))  # same size, not a column: no silent reshape
