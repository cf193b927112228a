import keras
import numpy as np
import pytest

from tutorials_lib.models import build_stacked_rnn
from tutorials_lib.training import choose_epochs, fit_seeded, predict


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
    for bad, message in ((0, "max_epochs must be >= 1, got 0"),
                         (2.0, "max_epochs must be an integer, got 2.0")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            choose_epochs(_build, X, y, seed=0, max_epochs=bad, batch_size=4)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        predict(keras.Sequential([keras.Input((6, 1)), keras.layers.Dense(1)]), X, batch_size=0)


# --- ParallelLSTMTrainer: several LSTM -> Dense(1) copies in one compiled graph ---------------

import tensorflow as tf  # noqa: E402

from tutorials_lib.training import (  # noqa: E402
    TRAINER_ADAM_BETAS,
    LSTMJob,
    ParallelLSTMTrainer,
    TapeTrainer,
    _apply_adam,
    _lstm_forward,
    _lstm_gradients,
    lstm_dense_weights,
)


def _lstm(lookback, seed, units=5, features=1):
    return build_stacked_rnn(lookback, features, (units,), seed=seed)


def _series_windows(lookback, n=60, scale=1.0, phase=0.0):
    t = np.arange(n + lookback)
    series = scale * np.sin(0.3 * t + phase)
    X = np.stack([series[i : i + lookback] for i in range(n)])
    return X, series[lookback : lookback + n]


def _separate_run(model, X, y, *, seed, epochs, batch_size, clip_norm, lr=1e-3):
    """The reference: one Keras model alone, trained by TapeTrainer (automatic gradients)."""
    job = LSTMJob(model, X, y, seed=seed, epochs=epochs)
    run = TapeTrainer(batch_size=batch_size, learning_rate=lr, clip_norm=clip_norm).fit(job)
    return model, np.concatenate(run.batch_loss), np.concatenate(run.norms)


def test_tape_trainer_without_clipping_or_shuffling_is_keras_fit():
    X, y = _series_windows(5, n=42)  # 6 batches of 7: no short batch
    model = _lstm(5, 0)
    run = TapeTrainer(batch_size=7, shuffle=False).fit(
        LSTMJob(model, X, y, seed=0, epochs=3, validation=(X[:10], y[:10]))
    )
    reference = _lstm(5, 0)
    beta_1, beta_2 = TRAINER_ADAM_BETAS
    reference.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=beta_1, beta_2=beta_2),
                      loss="mse")  # fmt: skip
    history = reference.fit(X[..., None], y, batch_size=7, epochs=3, shuffle=False,
                            validation_data=(X[:10, :, None], y[:10]), verbose=0)  # fmt: skip
    np.testing.assert_allclose(run.loss, history.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(run.val_loss, history.history["val_loss"], rtol=1e-5)
    for mine, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    assert [len(b) for b in run.batch_loss] == [6, 6, 6] and run.epochs == 3


def test_tape_trainer_clips_and_logs_the_norm_before_clipping():
    X, y = _series_windows(4, n=30)
    free = TapeTrainer(batch_size=5).fit(LSTMJob(_lstm(4, 2), X, 50.0 * y, seed=2, epochs=1))
    clip = float(np.min(free.norms[0])) / 2  # every batch's norm exceeds it
    clipped = TapeTrainer(batch_size=5, clip_norm=clip).fit(
        LSTMJob(_lstm(4, 2), X, 50.0 * y, seed=2, epochs=1)
    )
    assert clipped.norms[0][0] == free.norms[0][0]  # the same first batch, norm before clipping
    assert np.all(clipped.norms[0] > clip)
    assert not np.allclose(clipped.weights[1], free.weights[1], atol=1e-6)
    with pytest.raises(ValueError, match=r"job\.X must have shape \(n >= 1, 4, 1\)"):
        TapeTrainer(batch_size=5).fit(LSTMJob(_lstm(4, 2), X[:, :3], y, seed=0, epochs=1))


def test_each_copy_equals_its_own_separate_run():
    # Two seeds of one configuration and a third model with other data, window and epochs.
    specs = [(6, 0, 3, 1.0), (6, 1, 3, 1.0), (3, 2, 2, 0.5)]
    jobs, references = [], []
    for lookback, seed, epochs, scale in specs:
        X, y = _series_windows(lookback, scale=scale)
        jobs.append(LSTMJob(_lstm(lookback, seed), X, y, seed=seed, epochs=epochs))
        references.append(
            _separate_run(_lstm(lookback, seed), X, y, seed=seed, epochs=epochs,
                          batch_size=7, clip_norm=4.0)
        )  # fmt: skip
    trainer = ParallelLSTMTrainer(batch_size=7, clip_norm=4.0)
    runs = trainer.fit(jobs)
    for job, run, (model, losses, norms) in zip(jobs, runs, references, strict=True):
        assert run.epochs == job.epochs and len(run.norms) == job.epochs
        expected = model(job.X[..., None].astype("float32")).numpy()[:, 0]
        np.testing.assert_allclose(trainer.predict([run.weights], [job.X])[0], expected,
                                   atol=1e-5)  # fmt: skip
        np.testing.assert_allclose(np.concatenate(run.batch_loss), losses, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.concatenate(run.norms), norms, rtol=1e-4)
        for mine, theirs in zip(run.weights, model.get_weights(), strict=True):
            np.testing.assert_allclose(mine, theirs, atol=1e-5)
        np.testing.assert_allclose(run.loss, [np.mean(b) for b in run.batch_loss])
    # A copy trained alone gives the same result as inside the group.
    alone = trainer.fit([jobs[2]])[0]
    for a, b in zip(alone.weights, runs[2].weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    # The trainer keeps each set of copies' weight and Adam variables for its next call; a
    # second call starts them afresh, from the jobs' models and zero moments.
    again = trainer.fit(jobs)
    for run, rerun in zip(runs, again, strict=True):
        for a, b in zip(run.weights, rerun.weights, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.concatenate(run.norms), np.concatenate(rerun.norms))


def test_clipping_is_computed_per_copy():
    X, y = _series_windows(4, n=42)
    small = LSTMJob(_lstm(4, 0), X, 0.01 * y, seed=0, epochs=2)
    large = LSTMJob(_lstm(4, 1), X, 100.0 * y, seed=1, epochs=2)
    free = ParallelLSTMTrainer(batch_size=7).fit([small, large])
    small_max = max(n.max() for n in free[0].norms)
    large_min = min(n.min() for n in free[1].norms)
    clip = 2.0 ** np.round(np.log2(np.sqrt(small_max * large_min)))  # a power of 2 in between
    assert small_max < clip < large_min
    clipped = ParallelLSTMTrainer(batch_size=7, clip_norm=clip).fit([small, large])
    # The small copy's norms stay below the clip, so it trains exactly as without clipping,
    # although the other copy's norms (and so any norm pooled over both) exceed the clip.
    for a, b in zip(clipped[0].weights, free[0].weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)
    assert all(np.all(n > clip) for n in clipped[1].norms)
    assert not np.allclose(clipped[1].weights[1], free[1].weights[1], atol=1e-4)
    _, _, norms = _separate_run(_lstm(4, 1), X, 100.0 * y, seed=1, epochs=2, batch_size=7,
                                clip_norm=clip)  # fmt: skip
    np.testing.assert_allclose(np.concatenate(clipped[1].norms), norms, rtol=1e-4)


def test_written_out_backprop_matches_gradient_tape():
    rng = np.random.default_rng(3)
    units, features, lookback, batch = 3, 2, 4, 5
    shapes = [(features, 4 * units), (units, 4 * units), (4 * units,), (units, 1), (1,)]
    params = [tf.constant(rng.normal(size=s).astype("float32")) for s in shapes]
    x = tf.constant(rng.normal(size=(batch, lookback, features)).astype("float32"))
    y = tf.constant(rng.normal(size=batch).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(params)
        pred, _ = _lstm_forward(params, x)
        loss = tf.reduce_mean(tf.square(pred - y))
    expected = tape.gradient(loss, params)
    # the trainer's layout keeps the recurrent kernel, and its gradient, transposed
    params_t = [params[0], tf.transpose(params[1]), *params[2:]]
    pred_t, (h_last, cache) = _lstm_forward(params_t, x, tf.constant([1, 0]))
    np.testing.assert_allclose(pred_t.numpy(), pred.numpy(), rtol=1e-6, atol=1e-6)
    d_pred = 2.0 * (pred_t - y) / batch
    got = _lstm_gradients(params_t, x, d_pred, h_last, cache, tf.constant([1, 0]))
    expected[1] = tf.transpose(expected[1])
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
    # and the forward pass is Keras' layer with these weights
    model = _lstm(lookback, 0, units=units, features=features)
    model.set_weights([p.numpy() for p in params])
    np.testing.assert_allclose(pred.numpy(), model(x).numpy()[:, 0], rtol=1e-6, atol=1e-6)


def test_fused_adam_is_keras_adam_with_the_betas_in_float32():
    """The trainer's Adam kernel moves every weight as Keras' Adam does, bit for bit, given
    the decay rates rounded to float32; Keras' defaults give other last bits."""
    rng = np.random.default_rng(5)
    shapes = [(3, 40), (37,), (1,)]  # vectorised, and not a multiple of the SIMD width
    start = [rng.normal(size=s).astype(np.float32) for s in shapes]
    fused = [tf.Variable(a) for a in start]
    m_var = [tf.Variable(np.zeros_like(a)) for a in start]
    v_var = [tf.Variable(np.zeros_like(a)) for a in start]
    keras_float32 = [tf.Variable(a) for a in start]
    keras_default = [tf.Variable(a) for a in start]
    beta_1, beta_2 = TRAINER_ADAM_BETAS
    adam_float32 = keras.optimizers.Adam(1e-3, beta_1=beta_1, beta_2=beta_2)
    adam_default = keras.optimizers.Adam(1e-3)
    for step in (1.0, 2.0, 3.0):
        grads = [tf.constant(rng.normal(size=s).astype(np.float32)) for s in shapes]
        _apply_adam(fused, m_var, v_var, grads, tf.constant(step), tf.constant(1e-3))
        adam_float32.apply_gradients(zip(grads, keras_float32, strict=True))
        adam_default.apply_gradients(zip(grads, keras_default, strict=True))
        for a, b in zip(fused, keras_float32, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(fused[0].numpy(), keras_default[0].numpy())
    np.testing.assert_allclose(fused[0].numpy(), keras_default[0].numpy(), rtol=1e-5)
    assert beta_1 != 0.9 and np.float32(beta_1) == np.float32(0.9)
    assert beta_2 != 0.999 and np.float32(beta_2) == np.float32(0.999)


def test_patience_stops_one_copy_and_leaves_the_others_alone():
    X, y = _series_windows(5, n=50)
    # Validation targets of the wrong sign: the validation loss soon rises.
    stopping = LSTMJob(_lstm(5, 0), X, y, seed=0, epochs=12, validation=(X[:10], -y[:10]))
    plain = LSTMJob(_lstm(5, 1), X, y, seed=1, epochs=4)
    trainer = ParallelLSTMTrainer(batch_size=8, clip_norm=4.0, patience=2)
    early, full = trainer.fit([stopping, plain])
    assert full.epochs == 4 and full.val_loss.size == 0
    assert 2 < early.epochs < 12 and early.val_loss.size == early.epochs
    assert len(early.val_loss) - 1 - int(np.argmin(early.val_loss)) == 2
    pred = trainer.predict([early.weights], [X[:10]])[0]
    np.testing.assert_allclose(early.val_loss[-1], np.mean((-y[:10] - pred) ** 2), rtol=1e-9)
    alone = trainer.fit([plain])[0]
    for a, b in zip(alone.weights, full.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


def test_parallel_trainer_bad_input_names_the_problem():
    X, y = _series_windows(4, n=20)
    good = LSTMJob(_lstm(4, 0), X, y, seed=0, epochs=1)
    trainer = ParallelLSTMTrainer(batch_size=4)
    gru = build_stacked_rnn(4, 1, (3,), cell="gru", seed=0)
    with pytest.raises(ValueError, match=r"jobs\[0\]\.model must be LSTM -> Dense\(1\)"):
        trainer.fit([LSTMJob(gru, X, y, seed=0, epochs=1)])
    with pytest.raises(ValueError, match="no dropout"):
        lstm_dense_weights(
            keras.Sequential([keras.Input((4, 1)), keras.layers.LSTM(3, dropout=0.2),
                              keras.layers.Dense(1)])
        )  # fmt: skip
    unbuilt = keras.Sequential([keras.layers.LSTM(3), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.model must be built"):
        trainer.fit([LSTMJob(unbuilt, X, y, seed=0, epochs=1)])
    with pytest.raises(ValueError, match="Dense layer must have 1 unit"):
        lstm_dense_weights(build_stacked_rnn(4, 1, (3,), outputs=2, seed=0))
    with pytest.raises(ValueError, match=r"jobs\[1\]\.X must have shape \(n >= 1, 4, 1\)"):
        trainer.fit([good, LSTMJob(_lstm(4, 1), X[:, :3], y, seed=0, epochs=1)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.y must have one target per window"):
        trainer.fit([LSTMJob(_lstm(4, 0), X, y[:5], seed=0, epochs=1)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.epochs must be >= 1"):
        trainer.fit([LSTMJob(_lstm(4, 0), X, y, seed=0, epochs=0)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.seed must be >= 0"):
        trainer.fit([LSTMJob(_lstm(4, 0), X, y, seed=-1, epochs=1)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.validation must be a pair"):
        trainer.fit([LSTMJob(_lstm(4, 0), X, y, seed=0, epochs=1, validation=X)])
    with pytest.raises(ValueError, match=r"jobs\[0\]\.X contains NaN"):
        trainer.fit([LSTMJob(_lstm(4, 0), np.where(X > 0.9, np.nan, X), y, seed=0, epochs=1)])
    with pytest.raises(ValueError, match="jobs must hold at least one LSTMJob"):
        trainer.fit([])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ParallelLSTMTrainer(batch_size=0)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        ParallelLSTMTrainer(batch_size=4, learning_rate=0.0)
    with pytest.raises(ValueError, match="clip_norm must be > 0 or None"):
        ParallelLSTMTrainer(batch_size=4, clip_norm=-1.0)
    with pytest.raises(ValueError, match="weights and X must be non-empty lists"):
        trainer.predict([lstm_dense_weights(_lstm(4, 0))], [X, X])
    with pytest.raises(ValueError, match=r"weights\[0\] must be the 5 arrays"):
        trainer.predict([lstm_dense_weights(_lstm(4, 0))[:4]], [X])


# --- SeedRunner: fit_seeded's result, seed after seed, in one compiled model ----------------

from tutorials_lib.training import SeedRunner  # noqa: E402


def _dropout_stack(seed):
    return build_stacked_rnn(6, 1, units=(4, 3), cell=("lstm", "gru"), dropout=0.2, seed=seed)


def test_seed_runner_equals_fit_seeded_after_another_seed():
    X, y = _data()
    rms = keras.optimizers.RMSprop
    runner = SeedRunner(_dropout_stack, epochs=2, batch_size=16, optimizer=rms)
    runner.train(3, X, y)  # another seed first: the reset must undo its weights and moments
    got = runner.train(1, X, y, validation=(X[:20], y[:20]))
    ref = fit_seeded(_dropout_stack, X, y, seed=1, epochs=2, batch_size=16, optimizer=rms,
                     validation=(X[:20], y[:20]))  # fmt: skip
    np.testing.assert_array_equal(got.loss, ref.loss)
    np.testing.assert_array_equal(got.val_loss, ref.val_loss)
    np.testing.assert_array_equal(predict(got.model, X), predict(ref.model, X))
    assert got.model is runner.model and got.seed == 1 and got.epochs == 2


def test_seed_runner_and_fit_seeded_take_steps_per_epoch():
    X, y = _data(n=40)
    ref = fit_seeded(_build, X, y, seed=0, epochs=3, batch_size=1, steps_per_epoch=5)
    assert int(ref.model.optimizer.iterations.numpy()) == 15 and ref.loss.shape == (3,)
    runner = SeedRunner(_build, epochs=3, batch_size=1, steps_per_epoch=5)
    got = runner.train(0, X, y)
    np.testing.assert_array_equal(got.loss, ref.loss)
    with pytest.raises(ValueError, match="asks for 60 updates, but one pass over 40 windows"):
        fit_seeded(_build, X, y, seed=0, epochs=3, batch_size=2, steps_per_epoch=20)
    with pytest.raises(ValueError, match="steps_per_epoch must be >= 1"):
        SeedRunner(_build, epochs=1, batch_size=1, steps_per_epoch=0).train(0, X, y)


def test_seed_runner_rejects_a_builder_that_changes_the_architecture():
    X, y = _data(n=20)
    runner = SeedRunner(lambda s: build_stacked_rnn(6, 1, units=(4 + s,), seed=s),
                        epochs=1, batch_size=4)  # fmt: skip
    with pytest.raises(ValueError, match=r"build\(1\) must return the architecture of build\(0\)"):
        runner.train(1, X, y)
