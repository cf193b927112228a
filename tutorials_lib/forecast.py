"""Closed-loop generation: forecast many steps ahead by feeding each prediction back in.

A one-step forecaster evaluated with teacher forcing sees the true past at every step. Given
only a starting window, the same forecaster can run on its own: predict the next step, drop
the window's oldest step, append the prediction, predict again. That is closed-loop
generation; the path it returns is a multi-step forecast whose errors compound.

:func:`closed_loop` takes any forecaster: a plain callable (a window in, the next step out)
or a Keras model. For a Keras model it compiles one step function (``model(x,
training=False)`` under ``tf.function``, cached per model; see :func:`keras_step`), since
``model.predict`` costs tens of milliseconds a call. Importing this module does not import
TensorFlow.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable

import numpy as np

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.executor import graph_executor

__all__ = ["closed_loop", "flat_forecast", "keras_step"]

#: A forecaster: one window, (lookback,) or (lookback, features), in; the next step out.
Forecaster = Callable[[np.ndarray], object]

_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _is_keras_model(obj) -> bool:
    keras = sys.modules.get("keras")  # a Keras model exists only if Keras was imported
    return keras is not None and isinstance(obj, keras.Model)


def _model_window_shape(model, window_shape: tuple[int, ...]) -> tuple[int | None, ...]:
    """The model's per-sample input shape, checked against ``window_shape``."""
    wanted = tuple(model.input_shape[1:])
    fits = len(wanted) == 2 and (
        (len(window_shape) == 2 and _dims_match(wanted, window_shape))
        or (len(window_shape) == 1 and wanted[1] == 1 and _dims_match(wanted[:1], window_shape))
    )
    if not fits:
        raise ValueError(
            f"window of shape {window_shape} does not fit the model's input shape "
            f"{model.input_shape} (one window is (lookback,) for one feature, or "
            "(lookback, features))"
        )
    return wanted


def _dims_match(wanted: tuple, actual: tuple) -> bool:
    return len(wanted) == len(actual) and all(
        w is None or w == a for w, a in zip(wanted, actual, strict=True)
    )


def keras_step(model, jit_compile: bool = False) -> Callable[[np.ndarray], np.ndarray]:
    """One compiled call of ``model(x, training=False)`` on a single window, cached per model.

    The returned function takes one window, (lookback,) or (lookback, features), and returns
    the model's output for it as a float64 array. It is traced once per model (and
    ``jit_compile`` setting); :func:`closed_loop` uses it for Keras models, and it can be
    passed to :func:`closed_loop` as the forecaster itself. ``model.predict`` does the same
    work with tens of milliseconds of overhead per call. ``jit_compile=True`` compiles the
    call with XLA: seconds to compile, then several times faster per step for recurrent
    layers (their time loop runs inside one fused computation); worth it when one model
    generates many paths, for instance when its weights are reloaded for every seed.
    """
    if not _is_keras_model(model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}")
    jit_compile = bool(jit_compile)
    cached = _STEPS.setdefault(model, {}).get(jit_compile)
    if cached is not None:
        return cached
    import tensorflow as tf

    wanted = tuple(model.input_shape[1:])
    if len(wanted) != 2:
        raise ValueError(
            f"model must take windows of shape (lookback, features), its input shape is "
            f"{model.input_shape}"
        )
    owner = model_ref = weakref.ref(model)  # the cache must not keep the model alive

    @tf.function(input_signature=[tf.TensorSpec((1, *wanted), tf.float32)], jit_compile=jit_compile)
    def compiled(x):
        return owner()(x, training=False)

    def step(window) -> np.ndarray:
        window = np.asarray(window)
        _model_window_shape(model_ref(), window.shape)
        x = window.astype(np.float32).reshape(1, window.shape[0], -1)
        with graph_executor():
            return compiled(tf.constant(x)).numpy().astype(np.float64)

    _STEPS[model][jit_compile] = step
    return step


def closed_loop(predict: Forecaster, window, steps: int) -> np.ndarray:
    """Generate ``steps`` values from ``window`` alone, feeding each prediction back as input.

    ``predict`` is a Keras model (stepped through :func:`keras_step`) or a callable that maps
    one window to the next time step. ``window`` is the starting window, (lookback,) for a
    univariate series or (lookback, features); it is not modified. Each prediction must be
    one time step: a scalar (or one value) for a (lookback,) window, ``features`` values
    otherwise. Returns the generated path, shape ``(steps,)`` or ``(steps, features)``.

    Raises ValueError for ``steps < 1``, a window the model does not take, a prediction of
    the wrong size, and a prediction that is NaN or infinite (naming the step).
    """
    steps = check_int("steps", steps, minimum=1)
    window = as_float_array("window", window, ndim=(1, 2))
    if window.shape[0] < 1:
        raise ValueError(f"window must hold at least one time step, got shape {window.shape}")
    step_shape = window.shape[1:]
    step_size = int(np.prod(step_shape, dtype=int))
    if _is_keras_model(predict):
        _model_window_shape(predict, window.shape)
        forecaster = keras_step(predict)
    elif callable(predict):
        forecaster = predict
    else:
        raise ValueError(f"predict must be a Keras model or a callable, got {predict!r}")

    current = np.array(window, dtype=np.float64)  # a copy: the caller's window stays as it was
    path = np.empty((steps, *step_shape))
    for k in range(1, steps + 1):
        try:
            raw = forecaster(current.copy())
        except Exception as err:
            raise ValueError(
                f"step {k} of {steps}: predict failed on a window of shape {current.shape}: "
                f"{type(err).__name__}: {err}"
            ) from err
        try:
            value = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"step {k} of {steps}: the prediction {raw!r} is not numeric") from err
        if value.size != step_size:
            raise ValueError(
                f"step {k} of {steps}: the prediction has {value.size} values (shape "
                f"{value.shape}), one time step of the window has {step_size}"
            )
        value = value.reshape(step_shape)
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"step {k} of {steps}: the prediction is not finite ({value.tolist()}); "
                "generation stops there"
            )
        path[k - 1] = value
        current[:-1] = current[1:]
        current[-1] = value
    return path


def flat_forecast(window, steps: int) -> np.ndarray:
    """Every future step equals the window's last one: the closed-loop path of persistence.

    The naive baseline for a generated path; shape ``(steps,)`` or ``(steps, features)``.
    """
    steps = check_int("steps", steps, minimum=1)
    window = as_float_array("window", window, ndim=(1, 2))
    if window.shape[0] < 1:
        raise ValueError(f"window must hold at least one time step, got shape {window.shape}")
    return np.repeat(window[-1:], steps, axis=0)
