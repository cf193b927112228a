import numpy as np
import pytest

from tutorials_lib.cells import (
    GRU_GATES,
    LSTM_GATES,
    dense_param_count,
    gru_forward,
    gru_param_count,
    lstm_forward,
    lstm_param_count,
    split_gru_weights,
    split_lstm_weights,
)

SHAPES = [(1, 1, 1, 1), (2, 7, 3, 5), (4, 30, 1, 16), (3, 2, 6, 2), (1, 12, 2, 1)]


def random_weights(layer, seed, scale=0.5):
    """Give a built Keras layer random normal weights (biases included) and return them."""
    rng = np.random.default_rng(seed)
    weights = [(scale * rng.normal(size=w.shape)).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def keras_lstm(x, units, seed, initial_state=None, **kwargs):
    import keras

    layer = keras.layers.LSTM(units, return_sequences=True, return_state=True, **kwargs)
    layer.build(x.shape)
    weights = random_weights(layer, seed)
    seq, h_last, c_last = layer(x.astype("float32"), initial_state=initial_state)
    return np.asarray(seq), np.asarray(h_last), np.asarray(c_last), weights


def keras_gru(x, units, seed, initial_state=None, **kwargs):
    import keras

    layer = keras.layers.GRU(units, return_sequences=True, return_state=True, **kwargs)
    layer.build(x.shape)
    weights = random_weights(layer, seed)
    seq, h_last = layer(x.astype("float32"), initial_state=initial_state)
    return np.asarray(seq), np.asarray(h_last), weights


@pytest.mark.parametrize("batch,time,features,units", SHAPES)
def test_lstm_matches_keras(batch, time, features, units):
    x = np.random.default_rng(time).normal(size=(batch, time, features)).astype("float32")
    seq, h_last, c_last, weights = keras_lstm(x, units, seed=batch + units)
    got, c_final = lstm_forward(x, *weights, return_state=True)
    assert got.shape == (batch, time, units)
    np.testing.assert_allclose(got, seq, rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[:, -1], h_last, rtol=0, atol=1e-5)
    np.testing.assert_allclose(c_final, c_last, rtol=0, atol=1e-5)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("batch,time,features,units", SHAPES)
def test_gru_matches_keras(batch, time, features, units, reset_after):
    x = np.random.default_rng(time).normal(size=(batch, time, features)).astype("float32")
    seq, h_last, weights = keras_gru(x, units, seed=batch + units, reset_after=reset_after)
    if reset_after:
        assert weights[2].shape == (2, 3 * units)
    else:
        assert weights[2].shape == (3 * units,)
    got = gru_forward(x, *weights, reset_after=reset_after)
    assert got.shape == (batch, time, units)
    np.testing.assert_allclose(got, seq, rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[:, -1], h_last, rtol=0, atol=1e-5)


def test_lstm_initial_states_and_hard_sigmoid_match_keras():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    h0, c0 = rng.normal(size=(2, 2, 4)).astype("float32")
    seq, _, c_last, weights = keras_lstm(
        x, 4, seed=9, initial_state=[h0, c0], recurrent_activation="hard_sigmoid"
    )
    got, c_final = lstm_forward(
        x, *weights, h0=h0, c0=c0, recurrent_activation="hard_sigmoid", return_state=True
    )
    np.testing.assert_allclose(got, seq, rtol=0, atol=1e-5)
    np.testing.assert_allclose(c_final, c_last, rtol=0, atol=1e-5)
    # the initial state matters: zeros give a different first step
    assert (
        np.max(np.abs(lstm_forward(x, *weights, recurrent_activation="hard_sigmoid") - seq)) > 1e-3
    )


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_initial_state_matches_keras(reset_after):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    h0 = rng.normal(size=(3, 6)).astype("float32")
    seq, _, weights = keras_gru(x, 6, seed=2, initial_state=h0, reset_after=reset_after)
    got = gru_forward(x, *weights, h0=h0, reset_after=reset_after)
    np.testing.assert_allclose(got, seq, rtol=0, atol=1e-5)


def test_without_bias_matches_keras():
    x = np.random.default_rng(5).normal(size=(2, 4, 3)).astype("float32")
    seq, _, _, weights = keras_lstm(x, 3, seed=1, use_bias=False)
    assert len(weights) == 2
    np.testing.assert_allclose(lstm_forward(x, *weights), seq, rtol=0, atol=1e-5)
    seq, _, weights = keras_gru(x, 3, seed=1, use_bias=False)
    np.testing.assert_allclose(gru_forward(x, *weights), seq, rtol=0, atol=1e-5)


def test_gate_order_is_what_keras_uses():
    # Swapping any two gate blocks in the fused weights breaks the match with Keras, so the
    # order i, f, c, o (LSTM) and z, r, h (GRU) is not an arbitrary choice that happens to pass.
    x = np.random.default_rng(6).normal(size=(2, 8, 2)).astype("float32")
    seq, _, _, (kernel, recurrent, bias) = keras_lstm(x, 3, seed=4)
    u = 3
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 3)]:
        perm = np.arange(4 * u).reshape(4, u)
        perm[[a, b]] = perm[[b, a]]
        perm = perm.ravel()
        swapped = lstm_forward(x, kernel[:, perm], recurrent[:, perm], bias[perm])
        assert np.max(np.abs(swapped - seq)) > 1e-3
    seq, _, (kernel, recurrent, bias) = keras_gru(x, 3, seed=4)
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        perm = np.arange(3 * u).reshape(3, u)
        perm[[a, b]] = perm[[b, a]]
        perm = perm.ravel()
        swapped = gru_forward(x, kernel[:, perm], recurrent[:, perm], bias[:, perm])
        assert np.max(np.abs(swapped - seq)) > 1e-3


def test_split_weights_names_the_blocks():
    units = 2
    kernel = np.arange(3 * 4 * units, dtype=float).reshape(3, 4 * units)
    recurrent = -np.arange(units * 4 * units, dtype=float).reshape(units, 4 * units)
    bias = np.arange(4 * units, dtype=float) + 100
    blocks = split_lstm_weights(kernel, recurrent, bias)
    assert tuple(blocks) == LSTM_GATES == ("input", "forget", "candidate", "output")
    np.testing.assert_array_equal(blocks["forget"]["W"], kernel[:, 2:4])
    np.testing.assert_array_equal(blocks["candidate"]["U"], recurrent[:, 4:6])
    np.testing.assert_array_equal(blocks["output"]["b"], [106.0, 107.0])

    gru_bias = np.arange(2 * 3 * units, dtype=float).reshape(2, 3 * units)
    blocks = split_gru_weights(kernel[:, :6], recurrent[:, :6], gru_bias)
    assert tuple(blocks) == GRU_GATES == ("update", "reset", "candidate")
    np.testing.assert_array_equal(blocks["reset"]["b"], [2.0, 3.0])
    np.testing.assert_array_equal(blocks["reset"]["b_rec"], [8.0, 9.0])
    np.testing.assert_array_equal(blocks["candidate"]["W"], kernel[:, 4:6])
    blocks = split_gru_weights(kernel[:, :6], recurrent[:, :6], gru_bias[0], reset_after=False)
    np.testing.assert_array_equal(blocks["candidate"]["b_rec"], [0.0, 0.0])


def test_lstm_by_hand_one_unit():
    # One unit, one step, every pre-activation 0 except the candidate: i = f = o = 1/2,
    # c~ = tanh(1), so c = 1/2 * c0 + 1/2 * tanh(1) and h = 1/2 * tanh(c).
    kernel = np.array([[0.0, 0.0, 1.0, 0.0]])
    recurrent = np.zeros((1, 4))
    h, c, gates = lstm_forward(
        [[[1.0]]], kernel, recurrent, np.zeros(4), c0=[[2.0]], return_state=True, return_gates=True
    )
    c_expected = 0.5 * 2.0 + 0.5 * np.tanh(1.0)
    assert c[0, 0] == pytest.approx(c_expected)
    assert h[0, 0, 0] == pytest.approx(0.5 * np.tanh(c_expected))
    assert gates["forget"][0, 0, 0] == pytest.approx(0.5)
    assert gates["cell"][0, 0, 0] == pytest.approx(c_expected)


def test_gru_by_hand_one_unit():
    # z = sigma(0) = 1/2 keeps half of the old state: h = 1/2 * h0 + 1/2 * tanh(1).
    kernel = np.array([[0.0, 0.0, 1.0]])
    h = gru_forward([[[1.0]]], kernel, np.zeros((1, 3)), np.zeros((2, 3)), h0=[[4.0]])
    assert h[0, 0, 0] == pytest.approx(0.5 * 4.0 + 0.5 * np.tanh(1.0))


def test_gates_are_returned_per_step_and_in_range():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 9, 3))
    lstm_w = [rng.normal(size=s) for s in [(3, 16), (4, 16), (16,)]]
    h, gates = lstm_forward(x, *lstm_w, return_gates=True)
    assert set(gates) == {*LSTM_GATES, "cell"}
    for name in ("input", "forget", "output"):
        assert gates[name].shape == (2, 9, 4)
        assert np.all((gates[name] > 0) & (gates[name] < 1))
    np.testing.assert_allclose(h, gates["output"] * np.tanh(gates["cell"]))
    gru_w = [rng.normal(size=s) for s in [(3, 12), (4, 12), (2, 12)]]
    h, gates = gru_forward(x, *gru_w, return_gates=True)
    assert set(gates) == set(GRU_GATES)
    assert np.all((gates["update"] > 0) & (gates["update"] < 1))


def test_param_counts_match_keras():
    import keras

    model = keras.Sequential(
        [
            keras.Input((60, 1)),
            keras.layers.LSTM(128, return_sequences=True),
            keras.layers.LSTM(64),
            keras.layers.Dense(25),
            keras.layers.Dense(1),
        ]
    )
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [66560, 49408, 1625, 26]
    assert [lstm_param_count(1, 128), lstm_param_count(128, 64)] == counts[:2]
    assert [dense_param_count(64, 25), dense_param_count(25, 1)] == counts[2:]
    assert model.count_params() == 117619
    for reset_after in (True, False):
        layer = keras.layers.GRU(50, reset_after=reset_after)
        layer.build((None, 10, 3))
        assert layer.count_params() == gru_param_count(3, 50, reset_after=reset_after)
    assert gru_param_count(3, 50, reset_after=True) - gru_param_count(3, 50, False) == 150
    layer = keras.layers.LSTM(7, use_bias=False)
    layer.build((None, 4, 2))
    assert layer.count_params() == lstm_param_count(2, 7, use_bias=False)


def _lstm_weights(features=2, units=3):
    return np.ones((features, 4 * units)), np.zeros((units, 4 * units)), np.zeros(4 * units)


@pytest.mark.parametrize(
    "x,message",
    [
        (np.zeros((4, 2)), "x must have 3 dimensions"),
        (np.zeros((1, 0, 2)), "at least one sequence and one time step"),
        (np.full((1, 3, 2), np.nan), "x contains NaN"),
        (np.array([[["a", "b"]]]), "x must be numeric"),
        (np.zeros((1, 3, 5)), r"kernel must have shape \(5, 12\)"),
    ],
)
def test_lstm_bad_input_is_named(x, message):
    with pytest.raises(ValueError, match=message):
        lstm_forward(x, *_lstm_weights())


def test_lstm_bad_weight_shapes_are_named():
    kernel, recurrent, bias = _lstm_weights()
    x = np.zeros((1, 3, 2))
    with pytest.raises(ValueError, match=r"kernel must have 4 \* units columns"):
        lstm_forward(x, np.ones((2, 10)), recurrent, bias)
    with pytest.raises(ValueError, match="recurrent_kernel must have shape"):
        lstm_forward(x, kernel, np.zeros((3, 9)), bias)
    with pytest.raises(ValueError, match=r"bias must have shape \(12,\)"):
        lstm_forward(x, kernel, recurrent, np.zeros(9))
    with pytest.raises(ValueError, match="h0 must have shape"):
        lstm_forward(x, kernel, recurrent, bias, h0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="c0 must have shape"):
        lstm_forward(x, kernel, recurrent, bias, c0=np.zeros((1, 4)))
    with pytest.raises(ValueError, match="recurrent_activation must be one of"):
        lstm_forward(x, kernel, recurrent, bias, recurrent_activation="tanh")
    with pytest.raises(ValueError, match="activation must be one of"):
        lstm_forward(x, kernel, recurrent, bias, activation="softsign")


def test_gru_bad_shapes_are_named():
    x = np.zeros((1, 3, 2))
    kernel, recurrent = np.ones((2, 9)), np.zeros((3, 9))
    with pytest.raises(ValueError, match=r"kernel must have 3 \* units columns"):
        gru_forward(x, np.ones((2, 8)), recurrent, np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"kernel must have shape \(4, 9\), got \(2, 9\)"):
        gru_forward(np.zeros((1, 3, 4)), kernel, recurrent, np.zeros((2, 9)))
    # the reset_after=True bias is (2, 3*units); the flat one belongs to reset_after=False
    with pytest.raises(ValueError, match="bias must have 2 dimensions"):
        gru_forward(x, kernel, recurrent, np.zeros(9))
    with pytest.raises(ValueError, match="bias must have 1 dimensions"):
        gru_forward(x, kernel, recurrent, np.zeros((2, 9)), reset_after=False)
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 9\)"):
        gru_forward(x, kernel, recurrent, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="h0 must have shape"):
        gru_forward(x, kernel, recurrent, np.zeros((2, 9)), h0=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="reset_after must be True or False"):
        gru_forward(x, kernel, recurrent, np.zeros((2, 9)), reset_after="yes")


@pytest.mark.parametrize("bad", [0, -3, 2.5, None])
def test_param_counts_reject_bad_sizes(bad):
    with pytest.raises(ValueError, match="units must"):
        lstm_param_count(3, bad)
    with pytest.raises(ValueError, match="features must"):
        gru_param_count(bad, 3)


def test_split_weights_check_their_arguments():
    with pytest.raises(ValueError, match=r"recurrent_kernel must have shape \(2, 8\)"):
        split_lstm_weights(np.ones((2, 8)), np.zeros((3, 8)))
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\)"):
        split_lstm_weights(np.ones((2, 8)), np.zeros((2, 8)), np.zeros(3))
    with pytest.raises(ValueError, match="reset_after must be True or False"):
        split_gru_weights(np.ones((2, 6)), np.zeros((2, 6)), reset_after=1)
    with pytest.raises(ValueError, match=r"bias must have shape \(2, 6\)"):
        split_gru_weights(np.ones((2, 6)), np.zeros((2, 6)), np.zeros((2, 3)))
