import random

import numpy as np
import pytest

from tutorials_lib import repro


def test_same_seed_same_numbers_everywhere():
    import keras

    repro.set_seed(7)
    first = (random.random(), np.random.rand(), keras.random.uniform((3,)).numpy())  # noqa: NPY002
    repro.set_seed(7)
    second = (random.random(), np.random.rand(), keras.random.uniform((3,)).numpy())  # noqa: NPY002
    assert first[0] == second[0] and first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])
    repro.set_seed(8)
    third = (random.random(), np.random.rand(), keras.random.uniform((3,)).numpy())  # noqa: NPY002
    assert third[0] != first[0] and third[1] != first[1]
    assert not np.array_equal(third[2], first[2])


def test_same_seed_same_trained_weights():
    import keras

    def train():
        repro.set_seed(3)
        model = keras.Sequential([keras.Input((5, 1)), keras.layers.LSTM(4), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(0).random((16, 5, 1)).astype("float32")
        model.fit(x, x[:, -1], epochs=2, batch_size=4, verbose=0)
        return np.concatenate([w.ravel() for w in model.get_weights()])

    np.testing.assert_array_equal(train(), train())


def test_set_seed_turns_on_op_determinism():
    from tensorflow.python.framework import config

    repro.set_seed(0)
    assert config.is_op_determinism_enabled()


@pytest.mark.parametrize("bad", [-1, 1.5, "1", None])
def test_set_seed_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be"):
        repro.set_seed(bad)


def test_configure_env_refuses_after_tensorflow_import():
    import tensorflow  # noqa: F401

    with pytest.raises(RuntimeError, match="before TensorFlow is imported"):
        repro.configure_tensorflow_env()
