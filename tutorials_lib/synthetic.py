"""Seeded synthetic series with known structure, so a chapter can check what a model learns."""

from __future__ import annotations

import numpy as np

from tutorials_lib._checks import as_float_array, check_float, check_int, check_seed

__all__ = ["cointegrated_pair", "random_walk", "regression_intercepts", "sawtooth_series"]


def cointegrated_pair(
    n: int,
    delta: float,
    sigma: float,
    p0: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two random walks pulled towards each other: a cointegrated pair of ``n + 1`` points.

    Starting from ``x[0] = y[0] = p0``, for each step ``t = 1..n``::

        x[t] = x[t-1] + e_t + delta * (y[t-1] - x[t-1])
        y[t] = y[t-1] + u_t + sigma * (x[t] - y[t-1])

    with ``e_t, u_t`` independent standard normal draws. ``delta`` and ``sigma`` in [0, 1]
    are the strengths with which each series closes the gap to the other; ``y`` reacts to
    the already-updated ``x``. Both series wander like random walks, but their gap stays
    stationary as long as ``delta + sigma > 0``. ``seed`` (an int >= 0, or a NumPy Generator to
    draw from) makes it repeatable; None draws fresh randomness.
    """
    n = check_int("n", n, minimum=1)
    delta = check_float("delta", delta, 0.0, 1.0)
    sigma = check_float("sigma", sigma, 0.0, 1.0)
    p0 = check_float("p0", p0)
    seed = check_seed("seed", seed, allow_none=True)
    rng = np.random.default_rng(seed)
    x = np.empty(n + 1)
    y = np.empty(n + 1)
    x[0] = y[0] = p0
    for t in range(1, n + 1):
        x[t] = x[t - 1] + rng.standard_normal() + delta * (y[t - 1] - x[t - 1])
        y[t] = y[t - 1] + rng.standard_normal() + sigma * (x[t] - y[t - 1])
    return x, y


def random_walk(
    n: int, p0: float = 0.0, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """A Gaussian random walk of ``n + 1`` points starting at ``p0`` (standard normal steps).

    ``seed`` as in :func:`cointegrated_pair`: an int >= 0, a NumPy Generator, or None.
    """
    n = check_int("n", n, minimum=1)
    p0 = check_float("p0", p0)
    seed = check_seed("seed", seed, allow_none=True)
    steps = np.random.default_rng(seed).standard_normal(n)
    return p0 + np.concatenate([[0.0], np.cumsum(steps)])


def regression_intercepts(windows) -> np.ndarray:
    """For each (lookback, 2) window of a pair, the intercept that puts its last point on the line.

    Within window ``k`` the first column ``x`` is regressed on the second ``y`` by least
    squares, ``x ~ a + beta * y``; the value returned is ``x[-1] - beta * y[-1]``, the
    intercept that the slope ``beta`` implies at the window's latest observation (the
    spread of the pair at that point). ``windows`` is (n, lookback, 2), lookback >= 2.
    """
    w = as_float_array("windows", windows, ndim=3)
    if w.shape[2] != 2:
        raise ValueError(f"windows must have shape (n, lookback, 2), got {w.shape}")
    if w.shape[1] < 2:
        raise ValueError(f"windows need a lookback of at least 2 points, got {w.shape[1]}")
    x, y = w[:, :, 0], w[:, :, 1]
    yc = y - y.mean(axis=1, keepdims=True)
    xc = x - x.mean(axis=1, keepdims=True)
    var = np.sum(yc * yc, axis=1)
    if np.any(var == 0):
        k = int(np.argmax(var == 0))
        raise ValueError(f"windows[{k}]: the second column is constant, the slope is undefined")
    beta = np.sum(yc * xc, axis=1) / var
    return x[:, -1] - beta * y[:, -1]


def sawtooth_series(
    n: int,
    period: int = 18,
    shifts: tuple[int, ...] | list[int] = (0, 9),
    *,
    noise: float = 0.0,
    low: float = 1.0,
    high: float = 10.0,
    lookback: int | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """Columns of one triangular saw-tooth wave, each delayed by its own shift, plus noise.

    Returns an ``(n, len(shifts))`` array with::

        values[t, j] = wave((t - shifts[j]) mod period) + noise * e[t, j]
        wave(p) = low + (high - low) * 2 * min(p, period - p) / period

    so each column climbs from ``low`` (phase 0) to ``high`` (phase ``period / 2``; an odd
    period stops one step short of it) and back, column ``j`` running ``shifts[j]`` steps
    behind a column with shift 0. The ``e[t, j]`` are independent standard normal draws:
    ``noise`` is the noise's standard deviation in the data's units, and 0 gives the clean
    wave. With ``period=18, low=1, high=10`` the clean wave is the integer saw-tooth
    1, 2, ..., 10, 9, ..., 2. ``lookback``, when given, is the window length the series will
    be cut into: ``n`` must then leave at least one window and its target. ``seed`` (an
    int >= 0) makes the noise repeatable; None draws fresh noise.
    """
    n = check_int("n", n, minimum=1)
    period = check_int("period", period, minimum=2)
    if isinstance(shifts, str | bytes) or not hasattr(shifts, "__len__") or len(shifts) == 0:
        raise ValueError(f"shifts must be a non-empty sequence of integers, got {shifts!r}")
    shifts = [check_int(f"shifts[{k}]", s) for k, s in enumerate(shifts)]
    for k, s in enumerate(shifts):
        if not 0 <= s < period:
            raise ValueError(f"shifts[{k}] must lie in [0, period) = [0, {period}), got {s}")
    noise = check_float("noise", noise, low=0.0)
    low = check_float("low", low)
    high = check_float("high", high)
    if not high > low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")
    if lookback is not None:
        lookback = check_int("lookback", lookback, minimum=1)
        if n < lookback + 1:
            raise ValueError(
                f"n ({n}) must be at least lookback + 1 ({lookback + 1}): fewer rows than one "
                "window and its target"
            )
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    phase = (np.arange(n)[:, None] - np.asarray(shifts)[None, :]) % period
    # Multiply before dividing: integer-valued waves (such as the default) come out exact.
    values = low + (high - low) * (2.0 * np.minimum(phase, period - phase)) / period
    if noise > 0:
        values = values + noise * np.random.default_rng(seed).standard_normal(values.shape)
    return values
