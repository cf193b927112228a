import numpy as np
import pytest

from tutorials_lib.synthetic import cointegrated_pair, random_walk


def reference_pair(n, delta, sigma, p0, draws):
    """The source's coupled walks written as a plain loop over given normal draws."""
    x, y = [p0], [p0]
    for t in range(n):
        x.append(x[-1] + draws[2 * t] + delta * (y[-1] - x[-1]))
        y.append(y[-1] + draws[2 * t + 1] + sigma * (x[-1] - y[-1]))
    return np.array(x), np.array(y)


def test_matches_the_coupled_recursion():
    x, y = cointegrated_pair(30, 0.9, 0.1, p0=2.0, seed=5)
    draws = np.random.default_rng(5).standard_normal(60)
    x_ref, y_ref = reference_pair(30, 0.9, 0.1, 2.0, draws)
    np.testing.assert_allclose(x, x_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-12)
    assert x.shape == y.shape == (31,) and x[0] == y[0] == 2.0


def test_seeded_runs_repeat_and_differ_across_seeds():
    a = cointegrated_pair(60, 0.9, 0.1, seed=1)
    b = cointegrated_pair(60, 0.9, 0.1, seed=1)
    c = cointegrated_pair(60, 0.9, 0.1, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])  # seeds 1 and 2 give different walks


def test_gap_stays_small_while_levels_wander():
    x, y = cointegrated_pair(5000, 0.9, 0.1, seed=0)
    gap = x - y
    # The gap is stationary (bounded variance) while each level drifts like a random walk.
    assert np.std(gap) < 2.0
    assert np.std(x) > 5 * np.std(gap)


def test_uncoupled_pair_is_two_random_walks():
    x, y = cointegrated_pair(2000, 0.0, 0.0, seed=3)
    assert np.std(x - y) > 5.0  # no pull: the gap wanders as well


def test_random_walk():
    w = random_walk(10, p0=1.0, seed=4)
    steps = np.random.default_rng(4).standard_normal(10)
    np.testing.assert_allclose(w, 1.0 + np.concatenate([[0.0], np.cumsum(steps)]))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n": 0}, "n must be >= 1"),
        ({"n": 2.5}, "n must be an integer"),
        ({"delta": 1.5}, r"delta must be a number in \[0, 1\], got 1\.5"),
        ({"delta": -0.1}, r"delta must be a number in \[0, 1\], got -0\.1"),
        ({"sigma": float("nan")}, "sigma must be a finite number"),
        ({"sigma": "0.1"}, "sigma must be a number"),
        ({"p0": float("inf")}, "p0 must be a finite number"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.0}, "seed must be an integer >= 0 or a numpy.random.Generator"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"n": 10, "delta": 0.9, "sigma": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        cointegrated_pair(**args)


def test_random_walk_bad_arguments():
    with pytest.raises(ValueError, match="n must be >= 1"):
        random_walk(0)
    with pytest.raises(ValueError, match="p0 must be a finite"):
        random_walk(3, p0=float("nan"))
    with pytest.raises(ValueError, match="seed must be >= 0"):
        random_walk(3, seed=-1)


def test_a_generator_seed_is_drawn_from():
    w = random_walk(10, seed=np.random.default_rng(4))
    np.testing.assert_allclose(w, random_walk(10, seed=4))
    rng = np.random.default_rng(5)
    first, second = (
        cointegrated_pair(20, 0.5, 0.5, seed=rng),
        cointegrated_pair(20, 0.5, 0.5, seed=rng),
    )
    assert not np.array_equal(first[0], second[0])  # the generator moved on
    np.testing.assert_allclose(first[0], cointegrated_pair(20, 0.5, 0.5, seed=5)[0])


def test_regression_intercepts_match_polyfit():
    from tutorials_lib.synthetic import regression_intercepts

    w = np.random.default_rng(2).standard_normal((6, 15, 2)).cumsum(axis=1)
    expected = [win[-1, 0] - np.polyfit(win[:, 1], win[:, 0], 1)[0] * win[-1, 1] for win in w]
    np.testing.assert_allclose(regression_intercepts(w), expected, rtol=1e-10, atol=1e-12)


def test_regression_intercept_of_an_exact_line():
    from tutorials_lib.synthetic import regression_intercepts

    y = np.linspace(0.0, 3.0, 10)
    w = np.stack([1.5 + 2.0 * y, y], axis=-1)[None]  # x = 1.5 + 2 y exactly
    np.testing.assert_allclose(regression_intercepts(w), [1.5])


@pytest.mark.parametrize(
    "windows,message",
    [
        (np.zeros((3, 5)), "windows must have 3 dimensions"),
        (np.zeros((3, 5, 3)), r"windows must have shape \(n, lookback, 2\)"),
        (np.zeros((3, 1, 2)), "lookback of at least 2"),
        (np.stack([np.arange(5.0), np.ones(5)], -1)[None], r"windows\[0\]: the second column"),
        (np.full((1, 4, 2), np.nan), "windows contains NaN"),
    ],
)
def test_regression_intercepts_bad_input(windows, message):
    from tutorials_lib.synthetic import regression_intercepts

    with pytest.raises(ValueError, match=message):
        regression_intercepts(windows)
