import random
import types

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


def _array_pipeline(x, y):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    return ArrayDataAdapter(x, y, batch_size=4, shuffle=True).get_tf_dataset()


def test_set_seed_takes_the_autotuner_out_of_keras_array_pipelines(monkeypatch):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    original = getattr(ArrayDataAdapter.get_tf_dataset, "__wrapped__", None)
    if original is not None:  # start from Keras as shipped; monkeypatch restores the wrapper
        monkeypatch.setattr(ArrayDataAdapter, "get_tf_dataset", original)
    x = np.arange(24, dtype="float32").reshape(12, 2)
    assert _array_pipeline(x, x[:, 0]).options().autotune.enabled is not False
    repro.set_seed(0)
    assert _array_pipeline(x, x[:, 0]).options().autotune.enabled is False
    wrapper = ArrayDataAdapter.get_tf_dataset
    repro.keras_arrays_without_autotune()  # a second call leaves the one wrapper in place
    assert ArrayDataAdapter.get_tf_dataset is wrapper


def test_without_autotune_training_is_unchanged(monkeypatch):
    """Same batches in the same order: a shuffled fit ends on the same weights either way."""
    import keras
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    def train():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5, 1)), keras.layers.GRU(4), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(0).random((30, 5, 1)).astype("float32")
        model.fit(x, x[:, -1, 0], epochs=3, batch_size=4, shuffle=True, verbose=0)
        return np.concatenate([w.ravel() for w in model.get_weights()])

    repro.keras_arrays_without_autotune()
    without = train()
    x = np.zeros((8, 1), dtype="float32")
    assert _array_pipeline(x, x[:, 0]).options().autotune.enabled is False
    monkeypatch.setattr(
        ArrayDataAdapter, "get_tf_dataset", ArrayDataAdapter.get_tf_dataset.__wrapped__
    )
    assert _array_pipeline(x, x[:, 0]).options().autotune.enabled is not False
    np.testing.assert_array_equal(train(), without)


def test_set_seed_feeds_keras_batches_as_tensors(monkeypatch):
    """After set_seed, Keras' epoch iterator hands out batches from a Python generator (the
    trainer's path that calls the compiled step with tensors); a second call wraps once."""
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    original = getattr(TFEpochIterator._get_iterator, "__wrapped__", None)
    if original is not None:  # start from Keras as shipped; monkeypatch restores the wrapper
        monkeypatch.setattr(TFEpochIterator, "_get_iterator", original)
    x = np.arange(24, dtype="float32").reshape(12, 2)

    def iterator():
        import tensorflow as tf

        epochs = TFEpochIterator(distribute_strategy=tf.distribute.get_strategy(), x=x,
                                 y=x[:, 0], batch_size=4, shuffle=False)  # fmt: skip
        return epochs._get_iterator()

    assert not isinstance(iterator(), types.GeneratorType)
    repro.set_seed(0)
    batches = list(iterator())
    assert isinstance(iterator(), types.GeneratorType)
    assert len(batches) == 3
    np.testing.assert_array_equal(batches[1][0].numpy(), x[4:8])
    wrapper = TFEpochIterator._get_iterator
    repro.keras_batches_fed_as_tensors()
    assert TFEpochIterator._get_iterator is wrapper


@pytest.mark.parametrize("steps_per_epoch", [None, 2])
def test_batches_fed_as_tensors_train_the_same_weights(monkeypatch, steps_per_epoch):
    """A shuffled fit of a two-layer LSTM with a short last batch and a validation set, and one
    whose epochs of two updates draw from one pass, end on the same weights, validation
    losses and forecasts whether Keras takes the batches from its iterator or as tensors."""
    import keras
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    rng = np.random.default_rng(0)
    x = rng.random((30, 5, 1)).astype("float32")
    y = x[:, -1, 0] + 0.1 * rng.random(30).astype("float32")

    def train():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5, 1)), keras.layers.LSTM(6, return_sequences=True),
                                  keras.layers.Dropout(0.2), keras.layers.LSTM(4),
                                  keras.layers.Dense(1)])  # fmt: skip
        model.compile(optimizer="rmsprop", loss="mse")
        history = model.fit(x[:26], y[:26], epochs=3, batch_size=4, shuffle=True, verbose=0,
                            steps_per_epoch=steps_per_epoch,
                            validation_data=None if steps_per_epoch else (x[26:], y[26:]))  # fmt: skip
        weights = np.concatenate([w.ravel() for w in model.get_weights()])
        forecasts = model.predict(x, batch_size=8, verbose=0)
        return weights, history.history.get("val_loss", []), forecasts

    repro.keras_batches_fed_as_tensors()
    fed = train()
    monkeypatch.setattr(TFEpochIterator, "_get_iterator", TFEpochIterator._get_iterator.__wrapped__)
    keras_own = train()
    np.testing.assert_array_equal(fed[0], keras_own[0])
    assert fed[1] == keras_own[1]
    np.testing.assert_array_equal(fed[2], keras_own[2])


@pytest.mark.parametrize("bad", [-1, 1.5, "1", None])
def test_set_seed_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be"):
        repro.set_seed(bad)


def test_configure_env_refuses_after_tensorflow_import():
    import tensorflow  # noqa: F401

    with pytest.raises(RuntimeError, match="before TensorFlow is imported"):
        repro.configure_tensorflow_env()


# A float32 product large enough for TensorFlow's oneDNN sgemm path, from inputs NumPy draws
# the same on every machine; run in a fresh interpreter after configure_tensorflow_env().
# Arguments: m k n, then "keep" to keep the caller's settings (configure's keep_existing).
_PRODUCT = """
import hashlib, os, sys
from tutorials_lib.repro import configure_tensorflow_env
configure_tensorflow_env(keep_existing="keep" in sys.argv)
import numpy as np
import tensorflow as tf
m, k, n = map(int, sys.argv[1:4])
rng = np.random.default_rng(0)
a = rng.standard_normal((m, k)).astype(np.float32)
b = rng.standard_normal((k, n)).astype(np.float32)
print(hashlib.sha256(tf.matmul(a, b).numpy().tobytes()).hexdigest())
"""
#: The product's bits under the book's environment on an x86-64 CPU with AVX2 (recorded on an
#: AMD EPYC without AVX-512; a CPU with AVX-512 must give the same with the AVX2 cap).
AVX2_PRODUCT_SHA256 = "1d703ed5dc6ee1de180fb8d6f38260111d5e005dd56cbe02e06046d5c3a7869e"


def _product_digest(env: dict, keep_existing: bool = False, shape=(64, 300, 1200)) -> str:
    import subprocess
    import sys

    args = [sys.executable, "-c", _PRODUCT, *map(str, shape)] + (["keep"] if keep_existing else [])
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_matrix_products_have_the_same_bits_on_every_avx2_cpu():
    """The cap on oneDNN's instruction set is what makes committed outputs portable.

    Without it a CPU with AVX-512 sums the products in another order; the recorded digest
    is this product on an AVX2 machine, and a lower cap (SSE4.1) must change it, which
    shows the variable reaches the kernel that decides.
    """
    import os
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from run_notebooks import cpu_flags

    if "avx2" not in cpu_flags():
        pytest.skip("this CPU has no AVX2: its products differ from the committed outputs' bits")
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    assert repro.TF_ENVIRONMENT["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert _product_digest(env) == AVX2_PRODUCT_SHA256, (
        "TensorFlow's float32 product has other bits on this CPU than on the machine the "
        "notebooks were executed on: nbval will find other numbers"
    )
    lower = _product_digest(env | {"ONEDNN_MAX_CPU_ISA": "SSE41"}, keep_existing=True)
    assert lower != AVX2_PRODUCT_SHA256


def test_matrix_products_do_not_depend_on_the_readers_thread_count():
    """The book pins TensorFlow to one thread per pool, whatever the caller's environment says.

    Eigen blocks a product of this size by the size of the thread pool, so on four threads it
    sums in another order than on one (the second assertion shows the setting reaches the
    product); with the book's environment the caller's four threads are overridden.
    """
    import os

    assert repro.TF_THREADS == {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    assert repro.TF_THREADS.items() <= repro.TF_ENVIRONMENT.items()
    shape = (128, 200, 512)  # a weight gradient's size in chapter 5: batch 200, 128 units
    four = os.environ | {"TF_NUM_INTRAOP_THREADS": "4", "TF_NUM_INTEROP_THREADS": "4"}
    one = os.environ | repro.TF_THREADS
    pinned = _product_digest(four, shape=shape)
    assert pinned == _product_digest(one, keep_existing=True, shape=shape)
    assert _product_digest(four, keep_existing=True, shape=shape) != pinned, (
        "on four threads the product has the bits of one thread: this test no longer shows "
        "that the thread count matters"
    )


def test_configure_env_can_leave_the_threads_to_tensorflow():
    """Benchmarks that time TensorFlow's own thread settings opt out of the pin."""
    import os
    import subprocess
    import sys

    program = (
        "import os; from tutorials_lib.repro import configure_tensorflow_env as c; "
        "c(pin_threads=False); print(os.environ.get('TF_NUM_INTRAOP_THREADS'), "
        "os.environ['ONEDNN_MAX_CPU_ISA']); c(); print(os.environ['TF_NUM_INTRAOP_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in repro.TF_THREADS}
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    assert out == ["None", "AVX2", "1"]


def test_makefile_exports_the_same_tensorflow_settings():
    """make's own subprocesses (papermill, pytest) start with the settings notebooks set."""
    import re
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    exported = dict(re.findall(r"^export (\w+) :?= *(\S+) *$", makefile, flags=re.MULTILINE))
    for name, value in repro.TF_ENVIRONMENT.items():
        assert exported.get(name) == value, (
            f"Makefile exports {name}={exported.get(name)!r}, not {value!r}"
        )
