import keras
import numpy as np
import pytest

from tutorials_lib.models import (
    BatchMSE,
    LossHistory,
    build_stateful_stacked_lstm,
    build_stateless_lstm,
    compile_for_fit,
    lstm_forward_flops,
    reset_states,
    stateful_layers,
)


def test_stateless_architecture_and_seeded_weights():
    model = build_stateless_lstm(lookback=15, n_features=2, hidden=32, dropout=0.3, seed=1)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["LSTM", "Dropout", "Dense"]
    assert model.layers[0].units == 32 and model.layers[1].rate == 0.3
    assert model.output_shape == (None, 1)
    # 4 gates x (inputs + recurrent + bias) + dense
    assert model.count_params() == 4 * 32 * (2 + 32 + 1) + 33
    same = build_stateless_lstm(15, 2, 32, 0.3, seed=1)
    other = build_stateless_lstm(15, 2, 32, 0.3, seed=2)
    for a, b in zip(model.get_weights(), same.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(model.get_weights()[0], other.get_weights()[0])


def test_unrolled_lstm_computes_the_same_function():
    x = np.random.default_rng(3).standard_normal((4, 6, 2)).astype("float32")
    rolled = build_stateless_lstm(6, 2, hidden=8, dropout=0.0, seed=5)
    unrolled = build_stateless_lstm(6, 2, hidden=8, dropout=0.0, seed=5, unroll=True)
    assert unrolled.layers[0].unroll and not rolled.layers[0].unroll
    np.testing.assert_allclose(np.asarray(unrolled(x)), np.asarray(rolled(x)), rtol=1e-5, atol=1e-6)


def test_stateful_stack_keeps_and_resets_state():
    model = build_stateful_stacked_lstm(
        batch_size=1, lookback=5, n_features=2, hidden=4, dropout=0.0, seed=0
    )
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert len(lstms) == 4 and stateful_layers(model) == lstms
    assert [layer.return_sequences for layer in lstms] == [True, True, True, False]
    assert model.inputs[0].shape == (1, 5, 2)
    x = np.random.default_rng(0).standard_normal((1, 5, 2)).astype("float32")
    first = np.asarray(model(x))
    second = np.asarray(model(x))
    assert not np.allclose(first, second)  # the state carried over
    reset_states(model)
    np.testing.assert_allclose(np.asarray(model(x)), first, rtol=1e-6)
    with pytest.raises(ValueError):
        model(np.zeros((2, 5, 2), dtype="float32"))  # the batch size is part of the model


def test_loss_history_records_each_batch_loss_not_the_running_mean():
    model = build_stateless_lstm(lookback=3, n_features=1, hidden=2, dropout=0.0, seed=0)
    # learning rate 0: the weights never move, so every batch's own loss is computable
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=[BatchMSE()])
    x = np.random.default_rng(1).standard_normal((7, 3, 1)).astype("float32")
    y = np.arange(7, dtype="float32")
    history = LossHistory()
    model.fit(x, y, batch_size=3, epochs=2, shuffle=False, callbacks=[history], verbose=0)
    pred = np.asarray(model(x))[:, 0]
    per_batch = [np.mean((pred[s] - y[s]) ** 2) for s in (slice(0, 3), slice(3, 6), slice(6, 7))]
    np.testing.assert_allclose(history.losses, per_batch * 2, rtol=1e-5)
    model.fit(x, y, batch_size=7, epochs=1, callbacks=[history], verbose=0)
    assert len(history.losses) == 7  # it keeps growing across fit calls


def test_loss_history_without_the_metric_is_a_clear_error():
    model = build_stateless_lstm(lookback=3, n_features=1, hidden=2, dropout=0.0, seed=0)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="compile the model with metrics=\\[BatchMSE\\(\\)\\]"):
        model.fit(np.zeros((2, 3, 1)), np.zeros(2), callbacks=[LossHistory()], verbose=0)


def test_batch_mse_rejects_sample_weights():
    with pytest.raises(ValueError, match="sample weights"):
        BatchMSE().update_state(np.zeros(2), np.zeros(2), sample_weight=np.ones(2))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"hidden": 0}, "hidden must be >= 1"),
        ({"lookback": 2.0}, "lookback must be an integer"),
        ({"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
        ({"dropout": True}, "dropout must be a number"),
        ({"seed": -3}, "seed must be >= 0"),
    ],
)
def test_builder_bad_arguments(kwargs, message):
    args = {"lookback": 5, "n_features": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        build_stateless_lstm(**args)


def test_stateful_builder_bad_arguments():
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        build_stateful_stacked_lstm(batch_size=0, lookback=5, n_features=2)
    with pytest.raises(ValueError, match="layers must be >= 1"):
        build_stateful_stacked_lstm(batch_size=1, lookback=5, n_features=2, layers=0)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        compile_for_fit(build_stateless_lstm(5, 2), learning_rate=-1.0)


# --------------------------------------------------------------------------- stacked builder

from tutorials_lib.models import build_stacked_rnn  # noqa: E402


def test_stacked_lstm_of_seed_002_has_its_parameter_count():
    model = build_stacked_rnn(60, 1, units=(128, 64), dense=(25,), seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["LSTM", "LSTM", "Dense", "Dense"]
    assert model.layers[0].return_sequences and not model.layers[1].return_sequences
    assert model.count_params() == 117_619  # the figure seed 002 reports
    assert model.layers[2].activation.__name__ == "relu"
    linear = build_stacked_rnn(60, 1, units=(128, 64), dense=(25,), dense_activation="linear",
                               seed=0)  # fmt: skip
    assert linear.layers[2].activation.__name__ == "linear"
    for a, b in zip(linear.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the same seeded weights, only the activation
    x = np.random.default_rng(0).normal(size=(4, 60, 1)).astype("float32")
    hidden = keras.Model(linear.inputs[0], linear.layers[2].output)(x).numpy()
    assert (hidden < 0).any()  # a ReLU would have cut these


def test_stacked_gru_with_dropout_and_mixed_cells():
    gru = build_stacked_rnn(60, 1, units=(50, 50, 50, 50), cell="gru", dropout=0.2, seed=3)
    assert [type(layer).__name__ for layer in gru.layers] == ["GRU", "Dropout"] * 4 + ["Dense"]
    mixed = build_stacked_rnn(10, 2, units=(8, 8), cell=("lstm", "gru"), seed=1)
    assert [type(layer).__name__ for layer in mixed.layers] == ["LSTM", "GRU", "Dense"]
    same = build_stacked_rnn(10, 2, units=(8, 8), cell=("lstm", "gru"), seed=1)
    for a, b in zip(mixed.get_weights(), same.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_stack_is_causal_in_time():
    """Reading each window both ways never reaches past the window's last day.

    Windows of one series: changing every value after window k's last day leaves window k's
    forecast exactly as it was (the backward pass starts at that day, not later), while a
    change inside window k, at its first or its last day, does change it.
    """
    from tutorials_lib.windows import sliding_windows

    lookback, k = 5, 10
    model = build_stacked_rnn(lookback, 1, units=(4, 3), bidirectional=True, seed=0)
    assert [type(layer).__name__ for layer in model.layers][:2] == ["Bidirectional"] * 2
    series = np.random.default_rng(0).normal(size=30).astype("float32")

    def forecasts(values):
        X, _ = sliding_windows(values, lookback)
        return model.predict_on_batch(X[..., None])[:, 0]

    before = forecasts(series)
    last_day = k + lookback - 1  # window k is series[k : k + lookback]
    later = series.copy()
    later[last_day + 1 :] += np.random.default_rng(1).normal(3.0, 1.0, size=30 - last_day - 1)
    after = forecasts(later)
    assert after[k] == before[k]
    assert np.all(after[k + 1 :] != before[k + 1 :])  # every later window did see the change
    for day in (k, last_day):  # the window's own values matter, at both ends
        inside = series.copy()
        inside[day] += 1.0
        assert abs(forecasts(inside)[k] - before[k]) > 1e-4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"units": ()}, "at least one recurrent layer"), ({"cell": "rnn"}, "cell must be one of"),
     ({"cell": ("lstm",), "units": (4, 4)}, "cell names 1 layers but units names 2"),
     ({"dropout": 1.0}, "dropout must be a number in"), ({"units": (0,)}, "units must be >= 1"),
     ({"dense": (3,), "dense_activation": "softmax"}, "dense_activation must be one of")],
)  # fmt: skip
def test_stacked_builder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_stacked_rnn(10, 1, **kwargs)


def test_lstm_forward_flops_counts_each_layer_on_the_previous_layers_units():
    assert lstm_forward_flops([300], 2, 100) == 100 * 2 * 4 * 300 * 302  # 72,480,000
    stack = lstm_forward_flops([300, 500, 200], 5, 100)
    assert stack == 100 * 8 * (300 * 305 + 500 * 800 + 200 * 700)
    assert lstm_forward_flops([], 5, 100) == 0.0
    with pytest.raises(ValueError, match="units"):
        lstm_forward_flops([300, 0], 2, 100)
    with pytest.raises(ValueError, match="steps"):
        lstm_forward_flops([300], 2, 0)
