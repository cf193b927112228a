import keras
import numpy as np
import pytest
import tensorflow as tf

from tutorials_lib.models import build_stateful_stacked_lstm, build_stateless_lstm
from tutorials_lib.unrolled_lstm import call_model, can_unroll, lstm_sequence
from tutorials_lib.walk_forward import build_walk_forward_lstm

LOOKBACK, FEATURES = 6, 3


def _keras_and_unrolled(model, x, w):
    """Output and weight gradients of sum(model(x) * w), by Keras' layers and by call_model."""

    def grads(call):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                out = call(model, x)
                loss = tf.reduce_sum(out * w)
            return out, tape.gradient(loss, model.trainable_variables)

        out, g = step()
        return out.numpy(), [v.numpy() for v in g]

    keras_path = grads(lambda m, x: m(x, training=True))
    unrolled = grads(lambda m, x: call_model(m, x, training=True))
    return keras_path, unrolled


@pytest.mark.parametrize("batch", [1, 4, 32])
@pytest.mark.parametrize("layers", [1, 3])
def test_outputs_and_gradients_equal_keras_loop_bit_for_bit(batch, layers):
    """Every output and every weight gradient equals what TensorFlow computes for Keras' own
    rolled loop, to the last bit: one layer (last state) and a stack (whole sequences passed
    on, so the input gradients of the upper layers count too), batch 1, 4 and 32 (at 32, a
    plain sum of the bias gradient over the batch rounds differently)."""
    model = build_walk_forward_lstm(
        LOOKBACK, FEATURES, hidden=5, layers=layers, dropout=0.0, seed=3
    )
    assert sum(can_unroll(layer) for layer in model.layers) == layers
    rng = np.random.default_rng(batch + 10 * layers)
    x = tf.constant(rng.standard_normal((batch, LOOKBACK, FEATURES)), tf.float32)
    w = tf.constant(rng.standard_normal((batch, 1)), tf.float32)
    (out_k, grads_k), (out_u, grads_u) = _keras_and_unrolled(model, x, w)
    np.testing.assert_array_equal(out_u, out_k)
    assert len(grads_u) == len(grads_k) == 3 * layers + 2
    for a, b in zip(grads_u, grads_k, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(np.any(g != 0) for g in grads_u)  # every weight gets a gradient


@pytest.mark.parametrize("layers", [1, 2])
def test_equal_with_dropout_after_the_layer(layers):
    """With Dropout(0.3) after each LSTM, both paths draw the same masks (the seed
    generator's state is rewound in between) and give the same outputs and gradients on 40
    inputs, bit for bit: the layer's output reaches the dropout's scaling unchanged."""
    model = build_walk_forward_lstm(15, 2, hidden=8, layers=layers, dropout=0.3, seed=0)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]

    def step(call):
        @tf.function
        def run(x):
            with tf.GradientTape() as tape:
                out = call(x)
                loss = tf.reduce_sum(tf.square(out - 1.0))
            return [out, *tape.gradient(loss, model.trainable_variables)]

        return run

    keras_path = step(lambda x: model(x, training=True))
    unrolled = step(lambda x: call_model(model, x, training=True))
    rng = np.random.default_rng(0)
    for _ in range(40):
        x = tf.constant(rng.standard_normal((1, 15, 2)), tf.float32)
        states = [d.seed_generator.state.numpy() for d in dropouts]
        expected = [v.numpy() for v in keras_path(x)]
        for d, state in zip(dropouts, states, strict=True):
            d.seed_generator.state.assign(state)
        for a, b in zip(unrolled(x), expected, strict=True):
            np.testing.assert_array_equal(a.numpy(), b)


def test_gradients_do_not_leak_from_one_call_into_the_next():
    """The weight-gradient sums start from a fresh zero tensor at every call: the same step
    run three times gives the same gradients (a shared zero buffer would keep growing)."""
    model = build_stateless_lstm(LOOKBACK, FEATURES, 4, 0.0, seed=1)
    x = tf.constant(np.random.default_rng(0).standard_normal((2, LOOKBACK, FEATURES)), tf.float32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(call_model(model, x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    first = [g.numpy() for g in step()]
    for _ in range(2):
        for a, b in zip(step(), first, strict=True):
            np.testing.assert_array_equal(a.numpy(), b)


def test_a_keras_sum_of_the_same_gradients_rounds_differently():
    """Why the module exists: Keras' own unroll=True computes the same quantities but sums
    the weight gradients in another order, so they differ from the loop's in the last bits."""
    rolled = build_stateless_lstm(15, 2, 8, 0.0, seed=0)
    keras_unrolled = build_stateless_lstm(15, 2, 8, 0.0, seed=0, unroll=True)
    x = tf.constant(np.random.default_rng(5).standard_normal((1, 15, 2)), tf.float32)
    w = tf.constant([[1.0]])
    (_, reference), (_, ours) = _keras_and_unrolled(rolled, x, w)
    (_, theirs), _ = _keras_and_unrolled(keras_unrolled, x, w)
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(theirs, reference, strict=True))


def test_only_layers_it_reproduces_are_unrolled():
    assert can_unroll(build_stateless_lstm(4, 2, 3, 0.3, seed=0).layers[0])
    assert not can_unroll(build_stateless_lstm(4, 2, 3, 0.3, seed=0, unroll=True).layers[0])
    assert not can_unroll(build_stateful_stacked_lstm(1, 4, 2, 3, 0.0, seed=0).layers[0])
    assert not can_unroll(keras.layers.GRU(3))
    assert not can_unroll(keras.layers.LSTM(3, dropout=0.2))
    assert not can_unroll(keras.layers.LSTM(3, recurrent_dropout=0.2))
    assert not can_unroll(keras.layers.LSTM(3, activation="relu"))
    assert not can_unroll(keras.layers.LSTM(3, go_backwards=True))
    assert not can_unroll(keras.layers.LSTM(3, use_bias=False))
    assert not can_unroll(keras.layers.Dense(3))


def test_rejects_what_it_cannot_run():
    with pytest.raises(ValueError, match="needs a keras.Sequential model, got Functional"):
        inputs = keras.Input((4, 2))
        call_model(
            keras.Model(inputs, keras.layers.LSTM(3)(inputs)), tf.zeros((1, 4, 2)), training=True
        )

    @tf.function(input_signature=[tf.TensorSpec((1, None, 2), tf.float32)])
    def unknown_length(x):
        return lstm_sequence(
            x, tf.zeros((2, 4)), tf.zeros((1, 4)), tf.zeros((4,)), return_sequences=False
        )

    with pytest.raises(ValueError, match="needs a static number of time steps"):
        unknown_length.get_concrete_function()
