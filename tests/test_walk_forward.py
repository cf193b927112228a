import numpy as np
import pytest

from tutorials_lib.models import build_stateful_stacked_lstm, build_stateless_lstm
from tutorials_lib.walk_forward import (
    WalkForward,
    batch_plan,
    fit_walk_forward,
    walk_forward,
)

LOOKBACK, FEATURES, HIDDEN = 4, 2, 5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, LOOKBACK, FEATURES)).astype("float32")
    y = X[:, -1, 0] - 0.5 * X[:, -1, 1]
    return X, y


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_equals_the_fit_predict_evaluate_loop(data, batch_size, jit_compile):
    """With shuffling off and dropout 0, the compiled trainer repeats Keras' fit loop.

    Dropout is 0 here because nothing makes the two paths draw the same dropout masks:
    each consumes the layers' seed generators inside its own compiled function, and Keras'
    fit may split or order the random draws differently. With no randomness left,
    both run the same updates (same initial weights, batches, Adam steps), so predictions,
    test losses and per-batch training losses agree to float32 rounding. Batch 3 includes
    short last batches (e.g. 4 samples = 3 + 1), which Keras averages over their length.
    """
    X, y = data
    fast = walk_forward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, dropout=0.0, seed=7),
        X, y, epochs=2, batch_size=batch_size, shuffle=False, jit_compile=jit_compile,
    )  # fmt: skip
    slow = fit_walk_forward(
        build_stateless_lstm(LOOKBACK, FEATURES, HIDDEN, dropout=0.0, seed=7),
        X, y, epochs=2, batch_size=batch_size, shuffle=False,
    )  # fmt: skip
    np.testing.assert_array_equal(fast.steps, np.arange(1, 12))
    np.testing.assert_array_equal(fast.actuals, slow.actuals)
    np.testing.assert_allclose(fast.predictions, slow.predictions, rtol=0, atol=1e-5)
    np.testing.assert_allclose(fast.test_losses, slow.test_losses, rtol=0, atol=1e-5)
    n_batches = sum(2 * -(-i // batch_size) for i in range(1, 12))
    assert fast.train_losses.shape == slow.train_losses.shape == (n_batches,)
    np.testing.assert_allclose(fast.train_losses, slow.train_losses, rtol=0, atol=1e-5)
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
    np.testing.assert_array_equal(a.predictions, b.predictions)  # same seeds: same run
    np.testing.assert_array_equal(a.train_losses, b.train_losses)
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
    np.testing.assert_array_equal(res.actuals, y[5:])


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
