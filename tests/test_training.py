import keras
import numpy as np
import pytest

from tutorials_lib.models import build_stacked_rnn
from tutorials_lib.training import choose_epochs, fit_seeded, fit_with_chosen_epochs, predict


def _data(n=120, lookback=6):
    t = np.arange(n + lookback, dtype=np.float32)
    series = np.sin(0.3 * t)
    X = np.stack([series[i : i + lookback] for i in range(n)])[..., None]
    y = series[lookback : lookback + n]
    return X, y


def _build(seed):
    return build_stacked_rnn(6, 1, units=(4,), seed=seed)


def test_same_seed_same_model_other_seed_other_model():
    X, y = _data()
    a = fit_seeded(_build, X, y, seed=1, epochs=2, batch_size=16)
    b = fit_seeded(_build, X, y, seed=1, epochs=2, batch_size=16)
    c = fit_seeded(_build, X, y, seed=2, epochs=2, batch_size=16)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(predict(a.model, X), predict(b.model, X))
    assert not np.array_equal(a.loss, c.loss)
    assert a.loss.shape == (2,) and a.val_loss.size == 0


def test_choose_epochs_validates_on_the_latest_windows_only():
    X, y = _data()
    best, search = choose_epochs(_build, X, y, seed=0, max_epochs=4, batch_size=16,
                                 validation_fraction=0.25)  # fmt: skip
    assert best == int(np.argmin(search.val_loss)) + 1
    # the search run was trained on the first 90 windows only: same as fitting them directly
    direct = fit_seeded(_build, X[:90], y[:90], seed=0, epochs=4, batch_size=16,
                        validation=(X[90:], y[90:]))  # fmt: skip
    np.testing.assert_allclose(search.val_loss, direct.val_loss, rtol=1e-6)


def test_refit_uses_every_window_with_the_chosen_count():
    X, y = _data()
    final, search = fit_with_chosen_epochs(_build, X, y, seed=0, max_epochs=3, batch_size=16)
    assert final.epochs == int(np.argmin(search.val_loss)) + 1
    again = fit_seeded(_build, X, y, seed=0, epochs=final.epochs, batch_size=16)
    np.testing.assert_allclose(predict(final.model, X), predict(again.model, X), rtol=1e-6)


def test_predict_matches_keras_and_flattens_one_output():
    X, y = _data(n=50)
    model = _build(0)
    out = predict(model, X, batch_size=7)
    assert out.shape == (50,)
    np.testing.assert_allclose(out, model.predict(X, verbose=0)[:, 0], rtol=1e-5, atol=1e-6)
    two = build_stacked_rnn(6, 1, units=(3,), outputs=2, seed=0)
    assert predict(two, X).shape == (50, 2)


def test_bad_arguments_name_the_problem():
    X, y = _data(n=20)
    with pytest.raises(ValueError, match="X and y must have the same length"):
        fit_seeded(_build, X, y[:5], seed=0, epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        fit_seeded(_build, X, y, seed=0, epochs=0, batch_size=4)
    with pytest.raises(ValueError, match="validation_fraction must be in"):
        choose_epochs(_build, X, y, seed=0, max_epochs=2, batch_size=4, validation_fraction=1.0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        predict(keras.Sequential([keras.Input((6, 1)), keras.layers.Dense(1)]), X, batch_size=0)
