"""A synthetic sequence task that needs memory: what a gate buys can be measured on it.

:func:`delayed_recall` returns inputs of shape (samples, time, features), ready for a Keras
recurrent layer, with their targets and delays, reproducibly from its ``seed``.
"""

from __future__ import annotations

import numpy as np

from tutorials_lib._checks import check_int, check_seed

__all__ = ["delayed_recall"]


def delayed_recall(
    n: int,
    length: int,
    min_delay: int = 0,
    max_delay: int | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recall the value that was marked ``delay`` steps before the end of the sequence.

    Feature 0 holds a fresh uniform value in [-1, 1) at every step; feature 1 is a marker,
    1 at exactly one step and 0 elsewhere. The target is the value shown at the marked step,
    so a model has to notice the marker, store that value and keep it, unchanged, across the
    ``delay`` later steps while new values keep arriving. Each sequence gets its own delay,
    drawn uniformly from ``min_delay .. max_delay`` (``max_delay`` defaults to
    ``length - 1``, the marker on the first step).

    The constant forecast 0 has a mean squared error of 1/3 at every delay: the baseline.
    Returns ``x`` float32 (n, length, 2), ``y`` float32 (n,) and ``delay`` int64 (n,).
    """
    n = check_int("n", n, minimum=1)
    length = check_int("length", length, minimum=1)
    min_delay = check_int("min_delay", min_delay, minimum=0)
    max_delay = length - 1 if max_delay is None else check_int("max_delay", max_delay, minimum=0)
    if not min_delay <= max_delay <= length - 1:
        raise ValueError(
            f"need min_delay <= max_delay <= length - 1, got min_delay={min_delay}, "
            f"max_delay={max_delay}, length={length}"
        )
    rng = np.random.default_rng(check_seed("seed", seed, allow_none=True))
    values = rng.uniform(-1.0, 1.0, size=(n, length))
    delay = rng.integers(min_delay, max_delay + 1, size=n)
    marked = length - 1 - delay
    rows = np.arange(n)
    x = np.zeros((n, length, 2), dtype=np.float32)
    x[:, :, 0] = values
    x[rows, marked, 1] = 1.0
    return x, values[rows, marked].astype(np.float32), delay.astype(np.int64)
