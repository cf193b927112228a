"""The single-threaded executor changes how graphs are scheduled, never a number."""

import keras
import numpy as np
from tensorflow.python.eager import context

from tutorials_lib import executor
from tutorials_lib import side_by_side as sbs
from tutorials_lib.forecast import closed_loop
from tutorials_lib.models import build_stacked_rnn
from tutorials_lib.training import LSTMJob, ParallelLSTMTrainer, fit_seeded, predict


def _windows(n=48, lookback=6, seed=0):
    rng = np.random.default_rng(seed)
    series = np.cumsum(rng.normal(size=n + lookback)).astype(np.float32)
    X = np.stack([series[i : i + lookback] for i in range(n)])
    return X, series[lookback:]


def _dropout_stack(seed):
    return build_stacked_rnn(6, 1, units=(5, 4), cell=("lstm", "gru"), dropout=0.3, seed=seed)


def _executor_type() -> str:
    return context.context().function_call_options.executor_type or ""  # None: the default


def test_the_context_selects_the_executor_and_restores_the_default():
    assert _executor_type() == ""
    with executor.graph_executor(single_threaded=False):
        assert _executor_type() == ""
    with executor.graph_executor():
        assert _executor_type() == "SINGLE_THREADED_EXECUTOR"
        with executor.graph_executor(single_threaded=False):
            assert _executor_type() == ""
        assert _executor_type() == "SINGLE_THREADED_EXECUTOR"
    assert _executor_type() == ""


def _every_trainer():
    """Numbers from each trainer that runs its graphs through :func:`graph_executor`."""
    X, y = _windows()
    fit = fit_seeded(_dropout_stack, X[..., None], y, seed=3, epochs=2, batch_size=8,
                     optimizer=keras.optimizers.RMSprop, validation=(X[:8, :, None], y[:8]))  # fmt: skip
    model = build_stacked_rnn(6, 1, (4,), seed=1)
    runs = ParallelLSTMTrainer(batch_size=5, clip_norm=1.0).fit(
        [LSTMJob(model, X, y, seed=2, epochs=2, validation=(X[:8], y[:8]))]
    )
    nets = {"GRU": sbs.initial_networks("GRU", 2, 1, 3, seed=4)}
    xs, ys = X[None, :, :, None], y[None]
    trained = sbs.train(nets, xs, ys, np.array([0, 0]), steps=6, batch_size=8,
                        learning_rate=0.01, seed=5)  # fmt: skip
    return {
        "fit loss": fit.loss,
        "fit val_loss": fit.val_loss,
        "fit predictions": predict(fit.model, X[..., None]),
        "closed loop": closed_loop(fit.model, X[0], 5),
        "parallel loss": np.concatenate(runs[0].batch_loss),
        "parallel val_loss": runs[0].val_loss,
        "parallel weights": np.concatenate([w.ravel() for w in runs[0].weights]),
        "side by side": sbs.predict(trained, xs, np.array([0, 0]))["GRU"],
    }


def test_every_trainer_gives_the_same_bits_on_either_executor(monkeypatch):
    single = _every_trainer()
    monkeypatch.setattr(executor, "GRAPH_EXECUTOR", None)  # TensorFlow's default executor
    default = _every_trainer()
    for name, value in single.items():
        np.testing.assert_array_equal(value, default[name], err_msg=name)
    assert np.ptp(single["fit predictions"]) > 1e-3  # trained, not a constant
    assert single["fit val_loss"].shape == (2,) and single["parallel val_loss"].shape == (2,)
