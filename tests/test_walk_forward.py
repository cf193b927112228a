import numpy as np
import pytest

from tutorials_lib.metrics import diebold_mariano
from tutorials_lib.models import build_stateful_stacked_lstm, build_stateless_lstm, stateful_layers
from tutorials_lib.synthetic import cointegrated_pair, regression_intercepts
from tutorials_lib.walk_forward import (
    WalkForward,
    batch_plan,
    build_walk_forward_lstm,
    dm_over_seeds,
    fit_walk_forward,
    pair_walk_forward_inputs,
    walk_forward,
)
from tutorials_lib.windows import sliding_windows

LOOKBACK, FEATURES, HIDDEN = 4, 2, 5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, LOOKBACK, FEATURES)).astype("float32")
    y = X[:, -1, 0] - 0.5 * X[:, -1, 1]
    return X, y


@pytest.fixture(scope="module")
def fit_reference(data):
    """The plain Keras loop's runs (slow: a fit/predict/evaluate per step), once per module."""
    X, y = data
    return {
        batch_size: fit_walk_forward(
            build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, dropout=0.0, seed=7),
            X,
            y,
            epochs=2,
            batch_size=batch_size,
            shuffle=False,
        )  # fmt: skip
        for batch_size in (1, 3)
    }


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize(
    ("jit_compile", "unrolled_lstm", "tolerance"),
    [(False, True, 0.0), (False, False, 0.0), (True, False, 1e-5)],
    ids=["unrolled", "keras-loop", "xla"],
)
def test_equals_the_fit_predict_evaluate_loop(
    data, fit_reference, batch_size, jit_compile, unrolled_lstm, tolerance
):
    """With shuffling off and dropout 0, the compiled trainer repeats Keras' fit loop.

    Dropout is 0 here because nothing makes the two paths draw the same dropout masks:
    each consumes the layers' seed generators inside its own compiled function, and Keras'
    fit may split or order the random draws differently. With no randomness left,
    both run the same updates (same initial weights, batches, Adam steps). Without XLA, with
    the LSTM unrolled or in Keras' loop, batch-1 predictions and per-batch training losses
    are the fit loop's bit for bit; XLA rounds differently and agrees to 1e-5 over this short
    run. Batch 3 includes short last batches (e.g. 4 samples = 3 + 1), which Keras averages
    over their length; the trainer's weighted mean over a padded batch rounds its last bit
    differently from Keras' mean, so batch 3 agrees to 1e-5.
    """
    if batch_size > 1:
        tolerance = max(tolerance, 1e-5)
    X, y = data
    fast = walk_forward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, dropout=0.0, seed=7),
        X, y, epochs=2, batch_size=batch_size, shuffle=False, jit_compile=jit_compile,
        unrolled_lstm=unrolled_lstm,
    )  # fmt: skip
    slow = fit_reference[batch_size]
    np.testing.assert_array_equal(fast.steps, np.arange(1, 12))
    np.testing.assert_allclose(fast.actuals, slow.actuals, rtol=0, atol=0)
    np.testing.assert_allclose(fast.predictions, slow.predictions, rtol=0, atol=tolerance)
    # evaluate squares the error in float32, the trainer in float64
    np.testing.assert_allclose(fast.test_losses, slow.test_losses, rtol=1e-6, atol=1e-5)
    n_batches = sum(2 * -(-i // batch_size) for i in range(1, 12))
    assert fast.train_losses.shape == slow.train_losses.shape == (n_batches,)
    np.testing.assert_allclose(fast.train_losses, slow.train_losses, rtol=0, atol=tolerance)
    # and training did something: later predictions differ from the untrained model's
    assert np.ptp(fast.predictions) > 1e-3


def test_stateful_stack_equals_the_fit_loop(data):
    """Stateful, 4 layers, batch 1, no shuffling, states reset every epoch: both paths agree."""
    X, y = data
    build = lambda: build_stateful_stacked_lstm(1, LOOKBACK, FEATURES, 3, dropout=0.0, seed=2)  # noqa: E731
    fast = walk_forward(build(), X[:6], y[:6], epochs=2, batch_size=1, shuffle=False)
    slow = fit_walk_forward(build(), X[:6], y[:6], epochs=2, batch_size=1, shuffle=False)
    np.testing.assert_allclose(fast.predictions, slow.predictions, rtol=0, atol=1e-5)
    np.testing.assert_allclose(fast.train_losses, slow.train_losses, rtol=0, atol=1e-5)


def test_a_stateful_model_is_never_shuffled(data):
    """Shuffling would feed a stateful layer states carried over from an unrelated batch: every
    entry point refuses it, the default shuffle=True included, instead of ignoring it."""
    X, y = data
    stack = lambda batch: build_stateful_stacked_lstm(batch, LOOKBACK, FEATURES, 3, seed=2)  # noqa: E731
    message = "shuffle=True with a stateful model"
    engine = WalkForward(stack(2), batch_size=2)
    for kwargs in ({}, {"shuffle": True}):
        with pytest.raises(ValueError, match=message):
            engine.run(X[:4], y[:4], epochs=1, **kwargs)
        with pytest.raises(ValueError, match=message):
            walk_forward(stack(1), X[:4], y[:4], epochs=1, batch_size=1, **kwargs)
        with pytest.raises(ValueError, match=message):
            fit_walk_forward(stack(1), X[:4], y[:4], epochs=1, batch_size=1, **kwargs)
    with pytest.raises(ValueError, match="shuffle must be True or False, got 'no'"):
        engine.run(X[:4], y[:4], epochs=1, shuffle="no")


@pytest.mark.parametrize(("model_batch", "batch_size"), [(2, 2), (1, 2), (2, 1)])
def test_the_fit_loop_refuses_a_fixed_batch_size_it_cannot_serve(data, model_batch, batch_size):
    """The fit loop predicts one sample per step: a model with a fixed batch size must have
    batch size 1 and be fitted with batch_size=1 (else TensorFlow fails obscurely mid-run)."""
    X, y = data
    model = build_stateful_stacked_lstm(model_batch, LOOKBACK, FEATURES, 3, seed=2)
    with pytest.raises(
        ValueError,
        match=rf"needs batch size 1 and batch_size=1: got a model of batch size {model_batch} "
        rf"and batch_size={batch_size}",
    ):
        fit_walk_forward(model, X[:4], y[:4], epochs=1, batch_size=batch_size, shuffle=False)


@pytest.mark.parametrize("unrolled_lstm", [True, False], ids=["unrolled", "keras-loop"])
def test_the_executor_changes_no_number(data, unrolled_lstm):
    """The single-threaded executor runs the same operations: same dropout draws, same bits."""
    X, y = data
    fresh = lambda: build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.3, seed=5)  # noqa: E731
    runs = []
    for single in (True, False):
        engine = WalkForward(
            fresh(), batch_size=2, unrolled_lstm=unrolled_lstm, single_threaded=single
        )
        runs.append(engine.run(X, y, epochs=2, seed=3))
    np.testing.assert_array_equal(runs[0].predictions, runs[1].predictions)
    np.testing.assert_array_equal(runs[0].train_losses, runs[1].train_losses)
    assert np.ptp(runs[0].predictions) > 1e-3  # trained, not a constant


def test_runs_repeat_and_restart_cold(data):
    X, y = data
    engine = WalkForward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.3, seed=0), batch_size=2
    )
    fresh = lambda seed: build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.3, seed=seed)  # noqa: E731
    a = engine.run(X, y, epochs=2, seed=1, init_from=fresh(3))
    b = engine.run(X, y, epochs=2, seed=1, init_from=fresh(3))
    c = engine.run(X, y, epochs=2, seed=2, init_from=fresh(3))
    d = engine.run(X, y, epochs=2, seed=1, init_from=fresh(4))
    np.testing.assert_allclose(a.predictions, b.predictions, rtol=0, atol=0)  # same seeds
    np.testing.assert_allclose(a.train_losses, b.train_losses, rtol=0, atol=0)
    assert not np.allclose(a.predictions, c.predictions)  # another shuffling order
    assert not np.allclose(a.predictions, d.predictions)  # other initial weights and dropout
    np.testing.assert_allclose(a.test_losses, (a.predictions - a.actuals) ** 2)
    assert a.tail_loss() == pytest.approx(np.mean(a.test_losses[8:]))  # last quarter of 11
    assert a.tail() == slice(8, None)


def test_first_step_and_loss_count(data):
    X, y = data
    res = walk_forward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.0, seed=0),
        X, y, epochs=3, batch_size=4, first_step=5, seed=0,
    )  # fmt: skip
    np.testing.assert_array_equal(res.steps, np.arange(5, 12))
    assert len(res.train_losses) == sum(3 * -(-i // 4) for i in range(5, 12))
    np.testing.assert_allclose(res.actuals, y[5:], rtol=0, atol=0)


def test_batch_plan_shuffles_each_epoch_and_pads():
    rng = np.random.default_rng(0)
    index, weight, n_batches = batch_plan(5, capacity=9, batch_size=2, shuffle=True, rng=rng)
    assert index.shape == weight.shape == (5, 2) and n_batches == 3
    assert sorted(index.ravel()[:5]) == [0, 1, 2, 3, 4]
    assert weight.ravel().tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    index2, _, _ = batch_plan(5, 9, 2, True, rng)
    assert index.ravel()[:5].tolist() != index2.ravel()[:5].tolist()
    ordered, _, _ = batch_plan(5, 9, 2, False, rng)
    assert ordered.ravel()[:5].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="n must be between 1 and capacity"):
        batch_plan(10, 9, 2, True, rng)


def test_bad_arguments(data):
    X, y = data
    model = build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.0, seed=0)
    with pytest.raises(ValueError, match="X and y must have the same length"):
        walk_forward(model, X, y[:-1], epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="X must have 3 dimensions"):
        walk_forward(model, X[:, :, 0], y, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match=r"y must be \(n,\) or \(n, 1\)"):
        walk_forward(model, X, np.zeros((12, 2)), epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        walk_forward(model, X, y, epochs=0, batch_size=1)
    with pytest.raises(ValueError, match=r"first_step \(12\) must be smaller"):
        walk_forward(model, X, y, epochs=1, batch_size=1, first_step=12)
    with pytest.raises(ValueError, match="X windows must have shape"):
        walk_forward(model, X[:, :3], y, epochs=1, batch_size=1)
    with pytest.raises(ValueError, match="y contains NaN"):
        walk_forward(model, X, np.where(np.arange(12) == 3, np.nan, y), epochs=1, batch_size=1)
    stateful = build_stateful_stacked_lstm(2, LOOKBACK, FEATURES, 3, seed=0)
    with pytest.raises(ValueError, match=r"batch_size \(1\) must equal the model's fixed"):
        WalkForward(stateful, batch_size=1)
    engine = WalkForward(model, batch_size=1)
    other = build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN + 1, 0.0, seed=0)
    with pytest.raises(ValueError, match="init_from must have the same architecture"):
        engine.run(X, y, epochs=1, init_from=other)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("cut", [3, 7])
def test_no_step_sees_later_data(data, jit_compile, cut):
    """Walk-forward without leakage: the prediction of step i uses samples 0..i only.

    Changing every target from step ``cut`` on and every input after it must leave the
    predictions of steps 1..cut unchanged (bit for bit: the same seeds, batches and dropout
    masks), and must change later ones, which do train on the changed samples.
    """
    X, y = data
    rng = np.random.default_rng(1)
    X2, y2 = X.copy(), y.copy()
    X2[cut + 1 :] = rng.standard_normal(X2[cut + 1 :].shape)
    y2[cut:] = y2[cut:] + 5.0
    engine = WalkForward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.3, seed=0),
        batch_size=2, jit_compile=jit_compile,
    )  # fmt: skip
    fresh = lambda: build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.3, seed=1)  # noqa: E731
    a = engine.run(X, y, epochs=2, seed=3, init_from=fresh())
    b = engine.run(X2, y2, epochs=2, seed=3, init_from=fresh())
    upto = a.steps <= cut
    np.testing.assert_allclose(b.predictions[upto], a.predictions[upto], rtol=0, atol=0)
    n_seen = sum(2 * -(-i // 2) for i in range(1, cut + 1))  # batches trained before step cut
    np.testing.assert_allclose(b.train_losses[:n_seen], a.train_losses[:n_seen], rtol=0, atol=0)
    assert np.max(np.abs(b.predictions[~upto] - a.predictions[~upto])) > 1e-3


def test_no_step_sees_later_data_in_the_fit_loop(data):
    """The reference loop has the same property: step i's prediction ignores later samples."""
    X, y = data
    X2, y2 = X.copy(), y.copy()
    X2[5:] = 0.0
    y2[4:] = -3.0
    run = lambda X, y: fit_walk_forward(  # noqa: E731
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, 0.0, seed=2), X[:7], y[:7],
        epochs=1, batch_size=1, shuffle=False,
    )  # fmt: skip
    a, b = run(X, y), run(X2, y2)
    np.testing.assert_allclose(b.predictions[:4], a.predictions[:4], rtol=0, atol=0)
    assert np.max(np.abs(b.predictions[4:] - a.predictions[4:])) > 1e-3


@pytest.mark.parametrize("layers", [1, 3])
def test_stateless_and_stateful_twins_start_from_the_same_weights(layers):
    stateful = build_walk_forward_lstm(LOOKBACK, FEATURES, hidden=3, layers=layers,
                                       stateful=True, batch_size=2, seed=5)  # fmt: skip
    stateless = build_walk_forward_lstm(LOOKBACK, FEATURES, hidden=3, layers=layers, seed=5)
    other = build_walk_forward_lstm(LOOKBACK, FEATURES, hidden=3, layers=layers, seed=6)
    assert len(stateful_layers(stateful)) == layers and not stateful_layers(stateless)
    assert stateful.inputs[0].shape == (2, LOOKBACK, FEATURES)
    assert stateless.inputs[0].shape == (None, LOOKBACK, FEATURES)
    assert len(stateless.variables) == len(stateful.variables)
    for a, b in zip(stateless.variables, stateful.variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=0)
    assert not np.allclose(other.trainable_variables[0].numpy(),
                           stateless.trainable_variables[0].numpy())  # fmt: skip
    # the single stateless layer is models.build_stateless_lstm, weights included
    if layers == 1:
        plain = build_stateless_lstm(LOOKBACK, FEATURES, 3, 0.3, seed=5)
        for a, b in zip(stateless.variables, plain.variables, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=0)
    with pytest.raises(ValueError, match="layers must be >= 1"):
        build_walk_forward_lstm(LOOKBACK, FEATURES, layers=0)


def test_dm_over_seeds():
    rng = np.random.default_rng(4)
    actual = rng.standard_normal(20)
    a = actual + 0.3 * rng.standard_normal((3, 20))
    b = actual + 0.9 * rng.standard_normal((3, 20))
    one = dm_over_seeds(a[:1] - actual, b[:1] - actual)
    ref = diebold_mariano(actual, a[0], b[0])
    np.testing.assert_allclose(one, ref, rtol=1e-12)  # one seed each: the plain DM test
    res = dm_over_seeds(a - actual, b - actual)
    mse_gap = np.mean((a - actual) ** 2) - np.mean((b - actual) ** 2)
    np.testing.assert_allclose(res.mean_diff, mse_gap, rtol=1e-12)
    assert res.mean_diff < 0 and res.pvalue < 0.05  # A is clearly the better one
    # a baseline has one row; dividing both by the same scale leaves the test unchanged
    base = dm_over_seeds(a - actual, (b[:1] - actual))
    scaled = dm_over_seeds((a - actual) / 7.0, (b[:1] - actual) / 7.0)
    np.testing.assert_allclose(scaled.statistic, base.statistic, rtol=1e-10)
    np.testing.assert_allclose(scaled.pvalue, base.pvalue, rtol=1e-10)
    with pytest.raises(ValueError, match="must cover the same test steps, got 20 and 19"):
        dm_over_seeds(a, b[:, :-1])
    with pytest.raises(ValueError, match="errors_a must have 2 dimensions"):
        dm_over_seeds(a[0], b)


def _pair(n=40, seed=3):
    x, y = cointegrated_pair(n, 0.9, 0.1, p0=0.0, seed=seed)
    return np.column_stack([x, y])


def test_pair_inputs_scale_with_the_first_steps_rows_only():
    """Changing every row after the first step's leaves the scaled windows before it alone."""
    pair, lookback = _pair(), 5
    X, targets = pair_walk_forward_inputs(pair, lookback)
    assert X.dtype == np.float32 and X.shape == (len(pair) - lookback, lookback, 2)
    first = pair[: lookback + 1]
    low, high = first.min(axis=0), first.max(axis=0)
    np.testing.assert_allclose(X[0], 2 * (pair[:lookback] - low) / (high - low) - 1, atol=1e-6)
    np.testing.assert_array_equal(
        targets, regression_intercepts(sliding_windows(pair, lookback)[0])
    )
    changed = pair.copy()
    changed[lookback + 1 :] *= 10.0  # the future moves far outside the first rows' range
    X2, targets2 = pair_walk_forward_inputs(changed, lookback)
    np.testing.assert_array_equal(X2[:2], X[:2])  # windows within rows 0 .. lookback + 1
    np.testing.assert_array_equal(targets2[:2], targets[:2])
    # later windows are scaled by the first rows' range, not by a refitted scaler
    assert np.abs(X2[-1]).max() > 1.0


@pytest.mark.parametrize(
    ("pair", "lookback", "match"),
    [
        (np.zeros((20, 3)), 5, "two columns"),
        (np.zeros(20), 5, "pair"),
        (_pair(), 1, "lookback"),
        (_pair(), 40, "lookback"),
    ],
)
def test_pair_inputs_reject_bad_input(pair, lookback, match):
    with pytest.raises(ValueError, match=match):
        pair_walk_forward_inputs(pair, lookback)
