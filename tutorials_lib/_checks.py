"""Argument checks shared by the modules: clear ValueErrors instead of silent guesses."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_dropout",
    "check_float",
    "check_int",
    "check_seed",
    "check_shape",
]


def as_float_array(name: str, value, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``value`` as a float array, or raise ValueError naming ``name``.

    Rejects non-numeric dtypes, the wrong number of dimensions, and NaN or infinite entries.
    """
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} contains NaN or infinite values (first at index {bad})")
    return arr


def check_int(name: str, value, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise ValueError if it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_shape(name: str, arr: np.ndarray, expected: tuple[int | None, ...]) -> None:
    """Raise ValueError unless ``arr.shape`` matches ``expected`` (None matches any size)."""
    ok = arr.ndim == len(expected) and all(
        e is None or s == e for s, e in zip(arr.shape, expected, strict=False)
    )
    if not ok:
        shown = tuple("any" if e is None else e for e in expected)
        raise ValueError(f"{name} must have shape {shown}, got {arr.shape}")


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    """``" in [0, 1)"``, ``" > 0"``, ``" <= 1"`` or ``""``: the allowed range, as text."""
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def check_float(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float in the given range, or raise ValueError naming ``name``.

    ``low`` and ``high`` are inclusive bounds unless ``low_open`` / ``high_open`` exclude them
    (dropout, for example, is ``check_float("dropout", p, 0, 1, high_open=True)``: [0, 1)).
    Booleans, strings and NaN or infinite values are refused, not converted.
    """
    where = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number{where}, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be a number{where}, got {value!r}")
    return value


def check_seed(name: str, value, *, allow_none: bool = False) -> int | np.random.Generator | None:
    """Return a valid seed: an int >= 0 or a NumPy Generator (or None where ``allow_none``).

    Whatever passes can be given to :func:`numpy.random.default_rng`; a Generator is
    returned as it is (drawing from it advances the caller's generator).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        also = ", or None" if allow_none else ""
        raise ValueError(
            f"{name} must be an integer >= 0 or a numpy.random.Generator{also}, got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def check_dropout(value) -> float:
    """A dropout rate: a number in [0, 1) (1 would drop everything)."""
    return check_float("dropout", value, 0.0, 1.0, high_open=True)
