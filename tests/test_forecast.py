"""closed_loop: paths known in closed form, Keras models through one compiled call, bad input."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from tutorials_lib.forecast import closed_loop, flat_forecast, keras_step
from tutorials_lib.models import build_stacked_rnn

PHI, C = 0.8, 0.5  # AR(1): x_t = C + PHI x_{t-1}, mean C / (1 - PHI)


def ar1_path(x0: float, steps: int) -> np.ndarray:
    """x_k = mu + PHI^k (x0 - mu), k = 1..steps."""
    mu = C / (1 - PHI)
    return mu + PHI ** np.arange(1, steps + 1) * (x0 - mu)


def test_ar1_callable_follows_its_closed_form():
    window = np.array([3.0, -1.0, 7.0])
    path = closed_loop(lambda w: C + PHI * w[-1], window, steps=40)
    assert path.shape == (40,)
    np.testing.assert_allclose(path, ar1_path(7.0, 40), rtol=1e-12)


def test_the_whole_window_moves_fibonacci():
    # x_t = x_{t-1} + x_{t-2} needs the two latest values: the window must slide correctly.
    path = closed_loop(lambda w: w[-1] + w[-2], np.array([0.0, 1.0]), steps=10)
    np.testing.assert_array_equal(path, [1, 2, 3, 5, 8, 13, 21, 34, 55, 89])


def test_oldest_value_drops_out_of_the_window():
    # x_t = x_{t-3}: the path repeats the window forever.
    path = closed_loop(lambda w: w[0], np.array([1.0, 2.0, 3.0]), steps=7)
    np.testing.assert_array_equal(path, [1, 2, 3, 1, 2, 3, 1])


def test_var1_multivariate_path_is_matrix_powers():
    a = np.array([[0.5, 0.2], [-0.3, 0.9]])
    window = np.array([[9.0, 9.0], [9.0, 9.0], [1.0, -2.0]])  # only the last row matters
    path = closed_loop(lambda w: a @ w[-1], window, steps=12)
    expected = np.array([np.linalg.matrix_power(a, k) @ window[-1] for k in range(1, 13)])
    assert path.shape == (12, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12)


def test_column_window_gives_column_path_and_window_is_untouched():
    window = np.array([[1.0], [2.0]])
    before = window.copy()
    path = closed_loop(lambda w: C + PHI * w[-1], window, steps=5)  # returns shape (1,)
    assert path.shape == (5, 1)
    np.testing.assert_allclose(path[:, 0], ar1_path(2.0, 5))
    np.testing.assert_array_equal(window, before)


def test_flat_forecast_is_the_closed_loop_of_persistence():
    for window in (np.array([4.0, 5.0, 6.0]), np.array([[1.0, 2.0], [3.0, 4.0]])):
        flat = flat_forecast(window, 6)
        np.testing.assert_array_equal(flat, closed_loop(lambda w: w[-1], window, 6))
        np.testing.assert_array_equal(flat, np.repeat(window[-1:], 6, axis=0))


def ar1_keras(lookback: int, features: int = 1, a=None) -> keras.Model:
    """A linear Keras model that reads only the window's last row: AR(1) / VAR(1)."""
    model = keras.Sequential(
        [keras.Input((lookback, features)), keras.layers.Flatten(), keras.layers.Dense(features)]
    )
    a = np.array([[PHI]]) if a is None else np.asarray(a)
    kernel = np.zeros((lookback * features, features))
    kernel[-features:] = a.T  # output = a @ last_row (+ bias)
    bias = np.full(features, C if features == 1 else 0.0)
    model.layers[-1].set_weights([kernel, bias])
    return model


@pytest.mark.parametrize("jit_compile", [False, True])
def test_keras_ar1_model_follows_the_closed_form(jit_compile):
    model = ar1_keras(4)
    window = np.array([0.0, 0.0, 0.0, 7.0])
    forecaster = model if not jit_compile else keras_step(model, jit_compile=True)
    path = closed_loop(forecaster, window, steps=30)
    np.testing.assert_allclose(path, ar1_path(7.0, 30), rtol=1e-5)


def test_keras_var1_model_multivariate():
    a = np.array([[0.5, 0.2], [-0.3, 0.9]])
    model = ar1_keras(3, features=2, a=a)
    window = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, -2.0]])
    path = closed_loop(model, window, steps=8)
    expected = np.array([np.linalg.matrix_power(a, k) @ window[-1] for k in range(1, 9)])
    np.testing.assert_allclose(path, expected, rtol=1e-5, atol=1e-6)


def test_keras_recurrent_model_matches_a_predict_loop():
    model = build_stacked_rnn(5, 1, units=(4, 3), cell="gru", dropout=0.2, seed=3)
    window = np.linspace(-1, 1, 5)
    path = closed_loop(model, window, steps=6)
    current, expected = window.copy(), []
    for _ in range(6):
        y = float(model.predict(current.reshape(1, 5, 1), verbose=0)[0, 0])
        expected.append(y)
        current = np.append(current[1:], y)
    np.testing.assert_allclose(path, expected, rtol=1e-5, atol=1e-6)


def test_keras_step_is_cached_per_model_and_does_not_keep_it_alive():
    model = ar1_keras(2)
    assert keras_step(model) is keras_step(model)
    assert keras_step(model, jit_compile=True) is not keras_step(model)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_steps_must_be_a_positive_integer():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="steps"):
            closed_loop(lambda w: w[-1], np.ones(3), bad)
        with pytest.raises(ValueError, match="steps"):
            flat_forecast(np.ones(3), bad)


def test_window_the_model_does_not_take_is_refused():
    model = ar1_keras(4)
    for shape in ((5,), (4, 2), (3, 4, 1)):
        with pytest.raises(ValueError, match="window"):
            closed_loop(model, np.ones(shape), 3)
    with pytest.raises(ValueError, match=r"window of shape \(5,\)"):
        keras_step(model)(np.ones(5))
    with pytest.raises(ValueError, match="window"):
        closed_loop(lambda w: w[-1], np.array([1.0, np.nan]), 3)


def test_nan_prediction_names_the_step():
    # AR(1) from 7 with PHI = 0.8 and C = 0.5: steps 1-3 give 6.1, 5.38, 4.804; step 4 reads
    # 4.804 < 5 and returns NaN
    with pytest.raises(ValueError, match="step 4 of 10: the prediction is not finite"):
        closed_loop(lambda w: C + PHI * w[-1] if w[-1] > 5 else np.nan, np.array([7.0]), 10)
    with pytest.raises(ValueError, match="step 1 of 4: the prediction is not finite"):
        closed_loop(lambda w: np.inf, np.ones(2), 4)


def test_prediction_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="step 1 of 3: the prediction has 2 values"):
        closed_loop(lambda w: np.array([1.0, 2.0]), np.ones(4), 3)
    with pytest.raises(ValueError, match="one time step of the window has 2"):
        closed_loop(lambda w: w[-1, 0], np.ones((4, 2)), 3)


def test_failing_forecaster_and_bad_predict_argument():
    def broken(w):
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match="step 1 of 2: predict failed .* RuntimeError: boom"):
        closed_loop(broken, np.ones(3), 2)
    with pytest.raises(ValueError, match="predict must be"):
        closed_loop("model", np.ones(3), 2)
    with pytest.raises(ValueError, match="model must be a keras.Model"):
        keras_step(lambda w: w)
