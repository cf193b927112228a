import numpy as np
import pytest

from tutorials_lib.cells import rnn_forward


def keras_simple_rnn(x, units, seed, activation="tanh"):
    import keras

    keras.utils.set_random_seed(seed)
    layer = keras.layers.SimpleRNN(
        units, return_sequences=True, activation=activation, bias_initializer="random_normal"
    )
    out = layer(x.astype("float32"))
    return np.asarray(out), layer.get_weights()


@pytest.mark.parametrize(
    "batch,time,features,units", [(1, 1, 1, 1), (2, 7, 3, 5), (4, 30, 1, 16), (3, 2, 6, 2)]
)
def test_matches_keras_simple_rnn(batch, time, features, units):
    rng = np.random.default_rng(batch * 100 + time)
    x = rng.normal(size=(batch, time, features))
    expected, weights = keras_simple_rnn(x, units, seed=time)
    got = rnn_forward(x.astype("float32"), *weights)
    assert got.shape == (batch, time, units)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_matches_keras_with_relu_and_initial_state():
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    h0 = rng.normal(size=(2, 4)).astype("float32")
    keras.utils.set_random_seed(1)
    layer = keras.layers.SimpleRNN(4, return_sequences=True, activation="relu")
    expected = np.asarray(layer(x, initial_state=h0))
    got = rnn_forward(x, *layer.get_weights(), h0=h0, activation="relu")
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_recurrence_by_hand():
    # One unit, weights chosen so the recurrence can be followed on paper.
    x = np.array([[[1.0], [0.0], [0.0]]])
    out = rnn_forward(x, [[0.5]], [[2.0]], [0.0], activation="linear")
    np.testing.assert_allclose(out[0, :, 0], [0.5, 1.0, 2.0])


def _weights(features=2, units=3):
    return np.ones((features, units)), np.eye(units), np.zeros(units)


@pytest.mark.parametrize(
    "x,message",
    [
        (np.zeros((4, 2)), "x must have 3 dimensions"),
        (np.zeros((1, 0, 2)), "at least one sequence and one time step"),
        (np.full((1, 3, 2), np.nan), "x contains NaN"),
        (np.array([[["a", "b"]]]), "x must be numeric"),
        (np.zeros((1, 3, 5)), r"kernel must have shape \(5, 3\)"),
    ],
)
def test_bad_input_is_named(x, message):
    with pytest.raises(ValueError, match=message):
        rnn_forward(x, *_weights())


def test_bad_weight_shapes_are_named():
    kernel, recurrent, bias = _weights()
    x = np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match="recurrent_kernel must have shape"):
        rnn_forward(x, kernel, np.eye(4), bias)
    with pytest.raises(ValueError, match="bias must have shape"):
        rnn_forward(x, kernel, recurrent, np.zeros(2))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn_forward(x, kernel, recurrent, bias, h0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="activation must be one of"):
        rnn_forward(x, kernel, recurrent, bias, activation="sigmoidish")
