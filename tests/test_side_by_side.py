import keras
import numpy as np
import pytest

from tutorials_lib import side_by_side as sbs
from tutorials_lib.tasks import delayed_recall

UNITS = 3
LEAD = 1
DELAYS = (2, 5)  # two groups of sequences of different lengths, padded to one array


def _data(n, seed):
    parts = [delayed_recall(n, k + LEAD + 1, k, k, seed=seed + i) for i, k in enumerate(DELAYS)]
    x, lengths = sbs.pad_start([p[0] for p in parts])
    return x, np.stack([p[1] for p in parts]), lengths, parts


def _population(n_networks, seed=0):
    return {
        "SimpleRNN": sbs.initial_networks("SimpleRNN", n_networks, 2, UNITS, seed),
        "LSTM": sbs.initial_networks("LSTM", n_networks, 2, UNITS, seed),
        "GRU": sbs.initial_networks("GRU", n_networks, 2, UNITS, seed),
        "LSTM chrono": sbs.initial_networks("LSTM", n_networks, 2, UNITS, seed, chrono_max=20),
    }


def _keras_model(nets, k):
    model = keras.Sequential(
        [keras.Input((None, 2)), getattr(keras.layers, nets.cell)(UNITS), keras.layers.Dense(1)]
    )
    model.layers[0].set_weights(nets.layer_weights(k))
    model.layers[1].set_weights(nets.head_weights(k))
    return model


def test_initial_weights_have_keras_shapes_and_default_biases():
    population = _population(4)
    for name, nets in population.items():
        model = _keras_model(nets, 0)  # set_weights checks every shape against Keras
        assert len(nets) == 4 and model.count_params() > 0
        kernel, recurrent, bias = nets.layer_weights(1)
        # Orthogonal recurrent kernel: its rows are orthonormal
        np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(UNITS), atol=1e-5)
        width = kernel.shape[1]
        assert np.all(np.abs(kernel) <= np.sqrt(6 / (2 + width)))  # Glorot-uniform limit
        if name == "LSTM":
            np.testing.assert_array_equal(
                bias, np.r_[np.zeros(UNITS), np.ones(UNITS), np.zeros(2 * UNITS)]
            )
        elif name != "LSTM chrono":
            np.testing.assert_array_equal(bias, 0.0)
        assert not np.array_equal(nets.weights[0][0], nets.weights[0][1])  # networks differ


def test_chrono_changes_the_gate_biases_only():
    default, chrono = _population(3)["LSTM"], _population(3)["LSTM chrono"]
    for i in (0, 1, 3, 4):
        np.testing.assert_array_equal(default.weights[i], chrono.weights[i])
    bias = chrono.weights[2]
    forget, inputs = bias[:, UNITS : 2 * UNITS], bias[:, :UNITS]
    assert np.all(forget >= 0) and np.all(forget <= np.log(19) + 1e-6)
    np.testing.assert_array_equal(inputs, -forget)
    np.testing.assert_array_equal(bias[:, 2 * UNITS :], 0.0)


def test_same_seed_same_networks():
    a, b, c = (sbs.initial_networks("GRU", 2, 2, UNITS, s) for s in (5, 5, 6))
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.weights[1], c.weights[1])


def test_pad_start_puts_zeros_before_the_shorter_sequences():
    x, _, lengths, parts = _data(5, seed=0)
    np.testing.assert_array_equal(lengths, [k + LEAD + 1 for k in DELAYS])
    assert x.shape == (2, 5, max(lengths), 2)
    np.testing.assert_array_equal(x[0, :, -lengths[0] :], parts[0][0])
    np.testing.assert_array_equal(x[0, :, : -lengths[0]], 0.0)
    np.testing.assert_array_equal(x[1], parts[1][0])


def test_predictions_equal_keras_layers_on_the_unpadded_sequences():
    x, _, lengths, parts = _data(40, seed=3)
    data_of = np.array([1, 0, 1])
    population = _population(3, seed=1)
    predicted = sbs.predict(population, x, data_of, lengths, chunk=16)
    for name, nets in population.items():
        assert predicted[name].shape == (3, 40)
        for k in range(3):
            expected = _keras_model(nets, k).predict_on_batch(parts[data_of[k]][0])[:, 0]
            np.testing.assert_allclose(predicted[name][k], expected, atol=1e-5)


def test_each_network_trains_as_a_keras_model_trained_alone():
    # The claim the chapter rests on: side by side, every network follows the path a Keras
    # model with the same initial weights, batches and Adam follows on its own.
    x, y, lengths, parts = _data(64, seed=7)
    data_of = np.array([0, 1])
    population = _population(2, seed=2)
    steps, batch, rate = 12, 16, 0.01
    trained = sbs.train(population, x, y, data_of, steps, batch, rate, seed=4, lengths=lengths)
    order = sbs.batch_order(64, batch, steps, seed=4).ravel()
    for name, nets in population.items():
        for k in range(2):
            x_k, y_k, _ = parts[data_of[k]]
            model = _keras_model(nets, k)
            model.compile(optimizer=keras.optimizers.Adam(rate), loss="mse")
            model.fit(x_k[order], y_k[order], batch_size=batch, shuffle=False, verbose=0)
            alone = model.get_weights()
            together = trained[name].layer_weights(k) + trained[name].head_weights(k)
            moved = np.max(np.abs(together[0] - nets.layer_weights(k)[0]))
            assert moved > 1e-3, f"{name} {k}: training did not change the weights"
            for a, b in zip(alone, together, strict=True):
                np.testing.assert_allclose(b, a, atol=2e-6, err_msg=f"{name} network {k}")


def test_the_shared_adam_step_is_keras_adam_bit_for_bit():
    """adam_rate and adam_update move a weight exactly as keras.optimizers.Adam does, over
    several steps."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    start = rng.normal(size=(64, 16)).astype("float32")
    grads = [rng.normal(scale=s, size=(64, 16)).astype("float32") for s in (1.0, 0.1, 5.0, 1e-4)]
    variable = tf.Variable(start)
    adam = keras.optimizers.Adam(0.01)
    weight, m, v = tf.constant(start), tf.zeros_like(start), tf.zeros_like(start)
    for step, g in enumerate(grads, 1):
        adam.apply_gradients([(tf.constant(g), variable)])
        m, v, delta = sbs.adam_update(tf.constant(g), m, v, sbs.adam_rate(0.01, float(step)))
        weight = weight - delta
        np.testing.assert_array_equal(weight.numpy(), variable.numpy())
    assert not np.array_equal(weight.numpy(), start)


def test_batch_order_uses_every_sample_once_per_epoch():
    order = sbs.batch_order(10, 4, 5, seed=0)
    assert order.shape == (5, 4)
    flat = order.ravel()
    np.testing.assert_array_equal(np.sort(flat[:10]), np.arange(10))
    np.testing.assert_array_equal(np.sort(flat[10:20]), np.arange(10))
    np.testing.assert_array_equal(order, sbs.batch_order(10, 4, 5, seed=0))
    assert not np.array_equal(order, sbs.batch_order(10, 4, 5, seed=1))


def test_network_accessors_and_validation():
    nets = sbs.initial_networks("SimpleRNN", 2, 2, UNITS, 0)
    assert [w.shape for w in nets.layer_weights(1)] == [(2, UNITS), (UNITS, UNITS), (UNITS,)]
    with pytest.raises(ValueError, match="k must be < the number of networks"):
        nets.layer_weights(2)
    with pytest.raises(ValueError, match="SimpleRNN bias must have shape"):
        sbs.Networks("SimpleRNN", nets.weights[:2] + (np.zeros((2, 4)),) + nets.weights[3:])
    with pytest.raises(ValueError, match="cell must be one of"):
        sbs.Networks("LSTMs", nets.weights)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: sbs.initial_networks("RNN", 1, 2, 3, 0), "cell must be one of"),
        (lambda: sbs.initial_networks("LSTM", 0, 2, 3, 0), "n_networks must be >= 1"),
        (lambda: sbs.initial_networks("GRU", 1, 2, 3, 0, chrono_max=10), "chrono_max applies"),
        (lambda: sbs.initial_networks("LSTM", 1, 2, 3, 0, chrono_max=2), "chrono_max must be"),
        (lambda: sbs.batch_order(5, 0, 1, 0), "batch_size must be >= 1"),
        (lambda: sbs.pad_start([]), "groups must hold at least one"),
        (lambda: sbs.pad_start([np.zeros((2, 3, 1)), np.zeros((3, 3, 1))]), r"groups\[1\]"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"x": np.zeros((2, 4, 3))}, "x must have 4 dimensions"),
        ({"data_of": np.array([0, 2])}, "data_of entries must index"),
        ({"data_of": np.array([0])}, "holds 2 networks, data_of names 1"),
        ({"lengths": np.array([3, 9])}, "lengths must be between 1"),
        ({"y": np.zeros((2, 5))}, "y must have shape"),
        ({"learning_rate": 0.0}, "learning_rate must be a positive number"),
        ({"networks": {}}, "networks must be a non-empty mapping"),
    ],
)
def test_train_rejects_bad_data(change, message):
    args = {
        "networks": {"rnn": sbs.initial_networks("SimpleRNN", 2, 2, UNITS, 0)},
        "x": np.zeros((2, 4, 3, 2)),
        "y": np.zeros((2, 4)),
        "data_of": np.array([0, 1]),
        "steps": 1,
        "batch_size": 2,
        "learning_rate": 0.01,
        "seed": 0,
        "lengths": np.array([3, 2]),
    }
    args.update(change)
    with pytest.raises(ValueError, match=message):
        sbs.train(**args)
