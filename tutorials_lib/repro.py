"""Reproducibility: one call seeds every random source the chapters use."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

from tutorials_lib._checks import check_int

__all__ = [
    "TF_ENVIRONMENT",
    "TF_THREADS",
    "configure_tensorflow_env",
    "keras_arrays_without_autotune",
    "keras_batches_fed_as_tensors",
    "set_seed",
]

#: One thread in each of TensorFlow's pools. Left alone, TensorFlow sizes its pools by the
#: machine's cores, and Eigen cuts a large matrix product into blocks by the pool's size: the
#: same product can sum in another order on 1, 2 or 8 threads, so trained weights would depend on
#: the reader's core count (chapter 5's forecasts did, in their last bits).
TF_THREADS = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}

#: The TensorFlow settings every chapter runs with. oneDNN off: the same bits on every run
#: and no start-up notice on stderr (which nbval cannot reproduce); level 3: no C++ log lines.
#: ``ONEDNN_MAX_CPU_ISA=AVX2``: TensorFlow's CPU matrix products still call oneDNN's sgemm,
#: which picks its kernel by instruction set, and its AVX-512 kernel sums in another order than
#: its AVX2 one; capped at AVX2, a processor with AVX-512 runs the kernel one without runs, so
#: the instruction set no longer changes trained weights (or the committed outputs).
#: The thread counts are :data:`TF_THREADS`.
TF_ENVIRONMENT = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    **TF_THREADS,
}


def configure_tensorflow_env(*, keep_existing: bool = False, pin_threads: bool = True) -> None:
    """Set :data:`TF_ENVIRONMENT`; must run before TensorFlow is first imported.

    With ``keep_existing`` a variable already set is left as it is (benchmarks that compare
    settings pass theirs in the environment). ``pin_threads=False`` leaves the thread
    variables of :data:`TF_THREADS` as they are, so TensorFlow sizes its pools itself
    (benchmarks that time TensorFlow at its own thread settings).
    """
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "configure_tensorflow_env() must run before TensorFlow is imported; "
            "call it in the first cell of the notebook"
        )
    for name, value in TF_ENVIRONMENT.items():
        if not pin_threads and name in TF_THREADS:
            continue
        if not (keep_existing and name in os.environ):
            os.environ[name] = value


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and so TensorFlow), and turn on op determinism.

    ``keras.utils.set_random_seed`` seeds Python's ``random``, NumPy's global state and
    TensorFlow in one call. With the same seed and the same environment, training gives
    bit-identical weights. Also calls :func:`keras_arrays_without_autotune` and
    :func:`keras_batches_fed_as_tensors`, which change timing only.
    """
    seed = check_int("seed", seed, minimum=0)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    keras_arrays_without_autotune()
    keras_batches_fed_as_tensors()


#: The mark on a method this library has replaced: a second replacement is then skipped.
_REPLACED = "_tutorials_lib_replaced"


def _replace_method_once(owner: type, name: str, wrap: Callable) -> None:
    """Replace ``owner.name`` by ``wrap(original)``, unless this library has already done so.

    The replacement carries the original as ``__wrapped__`` (a test can put it back) and
    :data:`_REPLACED`, so calling this again leaves the one replacement in place.
    """
    original = getattr(owner, name)
    if getattr(original, _REPLACED, False):
        return
    replacement = functools.wraps(original)(wrap(original))
    setattr(replacement, _REPLACED, True)
    setattr(owner, name, replacement)


def keras_arrays_without_autotune() -> None:
    """Keras' input pipelines for NumPy arrays run without tf.data's autotuner (idempotent).

    ``fit``, ``predict`` and ``evaluate`` on arrays feed the model through a tf.data
    pipeline, and each epoch opens a new iterator on it. With autotuning on (Keras' default),
    every iterator also starts a tuning thread, and at the end of an epoch the training
    thread now and then sits idle, waiting on one of tf.data's threads, for a second or more
    (benchmarks/keras_autotune.py measures the cost). The pipeline gathers batches of arrays
    already in memory, so there is nothing to tune; without the autotuner the batches, their
    order and so every trained weight are the same.
    """
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    def without_autotune(get_tf_dataset):
        def replacement(self):
            options = tf.data.Options()
            options.autotune.enabled = False
            return get_tf_dataset(self).with_options(options)

        return replacement

    _replace_method_once(ArrayDataAdapter, "get_tf_dataset", without_autotune)


def keras_batches_fed_as_tensors() -> None:
    """Keras' compiled steps get each batch as tensors, not a tf.data iterator (idempotent).

    For every step of ``fit`` and ``evaluate``, Keras' TensorFlow trainer passes the epoch's
    tf.data iterator into a compiled function, which takes the next batch with an
    ``IteratorGetNext`` operation and then calls the compiled step on it. Given any other
    iterator, the trainer takes its own second path: it draws the batch in Python and calls
    the same compiled step with it (as its ``predict`` always does). Here each epoch's tf.data
    iterator is wrapped in a Python generator, so Keras takes that path: the same batches, in
    the same order, through the same step function, and so the same trained weights (the test
    suite checks this on shuffled fits), for several milliseconds less CPU time per update on
    a recurrent stack (benchmarks/keras_autotune.py measures it).
    """
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    def as_generator(get_iterator):
        def replacement(self):
            return (batch for batch in get_iterator(self))

        return replacement

    _replace_method_once(TFEpochIterator, "_get_iterator", as_generator)
