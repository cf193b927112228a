"""Walk-forward evaluation: refit on everything seen so far, predict the next sample, repeat.

At step ``i`` the model is trained (warm, continuing from the previous step) for ``epochs``
passes over samples ``0 .. i-1`` and then predicts sample ``i``, which it has never seen.

:func:`fit_walk_forward` is the plain Keras loop (``fit`` / ``predict`` / ``evaluate`` at
every step). Each of those calls costs tens of milliseconds of set-up on tiny inputs, which
dominates a walk-forward over a short series. :class:`WalkForward` does the same work with
one compiled TensorFlow function per epoch (all batches inside it), on a model built once,
so a run costs little more than its arithmetic. :func:`pair_walk_forward_inputs` builds
chapter 3's inputs and targets from a pair of series without letting later rows reach the
scaler.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from sklearn.preprocessing import MinMaxScaler

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.executor import graph_executor
from tutorials_lib.metrics import DieboldMarianoResult, diebold_mariano
from tutorials_lib.models import (
    LossHistory,
    build_stateful_stacked_lstm,
    build_stateless_lstm,
    compile_for_fit,
    reset_states,
    stateful_layers,
)
from tutorials_lib.side_by_side import adam_rate, adam_update
from tutorials_lib.synthetic import regression_intercepts
from tutorials_lib.unrolled_lstm import call_model, can_unroll
from tutorials_lib.windows import scaled_windows, sliding_windows

__all__ = [
    "WalkForward",
    "WalkForwardResult",
    "batch_plan",
    "build_walk_forward_lstm",
    "dm_over_seeds",
    "fit_walk_forward",
    "pair_walk_forward_inputs",
    "walk_forward",
]


@dataclass(frozen=True)
class WalkForwardResult:
    """What a walk-forward run produced, one entry per step (``train_losses``: per batch)."""

    steps: np.ndarray  #: index of the sample predicted at each step
    predictions: np.ndarray
    actuals: np.ndarray
    test_losses: np.ndarray  #: squared error of each one-step prediction
    train_losses: np.ndarray  #: training loss of every batch, in order, over all steps

    def tail_loss(self, fraction: float = 0.25) -> float:
        """Mean test loss over the last ``fraction`` of the steps (the source's score)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        start = int(len(self.test_losses) * (1 - fraction))
        return float(np.mean(self.test_losses[start:]))

    def tail(self, fraction: float = 0.25) -> slice:
        """The slice of steps that :meth:`tail_loss` averages over."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        return slice(int(len(self.test_losses) * (1 - fraction)), None)


def pair_walk_forward_inputs(pair, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """Chapter 3's walk-forward data from a ``(time, 2)`` pair ``[x, y]``: ``(X, targets)``.

    ``X`` holds the float32 windows of the pair scaled to [-1, 1] by a ``MinMaxScaler``
    fitted on rows ``0 .. lookback`` only (what the first walk-forward step sees) and then
    kept fixed, so no later row reaches the scaler. ``targets`` are
    :func:`~tutorials_lib.synthetic.regression_intercepts` of the unscaled windows, in the
    pair's own units.
    """
    pair = as_float_array("pair", pair, ndim=2)
    if pair.shape[1] != 2:
        raise ValueError(f"pair must have two columns [x, y], got shape {pair.shape}")
    lookback = check_int("lookback", lookback, minimum=2)
    if lookback + 1 >= len(pair):
        raise ValueError(
            f"lookback ({lookback}) must be below len(pair) - 1 ({len(pair) - 1}): the first "
            "step needs one window to train on and one to predict"
        )
    sw = scaled_windows(
        pair, lookback, train_size=lookback + 1, scaler=MinMaxScaler(feature_range=(-1, 1))
    )
    X = np.concatenate([sw.X_train, sw.X_test]).astype(np.float32)
    return X, regression_intercepts(sliding_windows(pair, lookback)[0])


def build_walk_forward_lstm(
    lookback: int,
    n_features: int,
    *,
    hidden: int = 32,
    layers: int = 1,
    stateful: bool = False,
    dropout: float = 0.3,
    batch_size: int = 1,
    seed: int | None = None,
) -> keras.Model:
    """``layers`` LSTM(hidden) layers, each followed by Dropout(dropout), then Dense(1).

    One builder for the four corners of "stateless or stateful, one layer or a stack". A
    stateful model fixes ``batch_size`` in its input shape (Keras 3 requires it). For the same
    ``seed`` the stateless model starts from exactly the weights and dropout seeds of its
    stateful twin, so comparing the two changes the carried state and nothing else. The
    single stateless layer is :func:`~tutorials_lib.models.build_stateless_lstm`.
    """
    layers = check_int("layers", layers, minimum=1)
    if not stateful and layers == 1:
        return build_stateless_lstm(lookback, n_features, hidden, dropout, seed=seed)
    model = build_stateful_stacked_lstm(
        batch_size, lookback, n_features, hidden, dropout, layers=layers, seed=seed
    )
    if stateful:
        return model
    config = model.get_config()  # the same seeded layers, with state carrying switched off
    config["name"] = "stacked_lstm"
    config["build_input_shape"] = (None, lookback, n_features)
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = (None, lookback, n_features)
        elif layer["class_name"] == "LSTM":
            layer["config"]["stateful"] = False
    return keras.Sequential.from_config(config)


def dm_over_seeds(errors_a, errors_b) -> DieboldMarianoResult:
    """Diebold–Mariano test of two configurations, each trained with one or more seeds.

    ``errors_a`` is (seeds_a, n_steps) and ``errors_b`` (seeds_b, n_steps): forecast errors
    (forecast - actual, possibly divided by a scale) of each seed of each configuration on the
    same test steps. The loss differential of step ``t`` is ``mean_s(a_st^2) - mean_s(b_st^2)``,
    so its mean is the difference of the two configurations' mean squared errors averaged
    over their seeds; the test (Newey–West variance, lag count chosen from the data) asks
    whether it differs from zero beyond the noise of the test steps. A baseline is a
    configuration with one "seed". With one seed each, this is
    :func:`~tutorials_lib.metrics.diebold_mariano` of the two forecasts.
    """
    a = as_float_array("errors_a", errors_a, ndim=2)
    b = as_float_array("errors_b", errors_b, ndim=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"errors_a and errors_b must cover the same test steps, got {a.shape[1]} and "
            f"{b.shape[1]} steps"
        )
    loss_a = np.mean(a**2, axis=0)
    loss_b = np.mean(b**2, axis=0)
    # |0 - loss|^1 = loss: the library's test applied to the two mean-loss series
    return diebold_mariano(np.zeros_like(loss_a), loss_a, loss_b, horizon=1, power=1)


def _check_data(X, y, first_step: int) -> tuple[np.ndarray, np.ndarray, int]:
    X = as_float_array("X", X, ndim=3).astype(np.float32)
    y = as_float_array("y", y, ndim=(1, 2)).astype(np.float32)
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ValueError(f"y must be (n,) or (n, 1), got shape {y.shape}")
        y = y[:, 0]
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    first_step = check_int("first_step", first_step, minimum=1)
    if first_step >= len(X):
        raise ValueError(
            f"first_step ({first_step}) must be smaller than the number of samples ({len(X)})"
        )
    return X, y, first_step


def _batch_size_of(model: keras.Model) -> int | None:
    shape = model.inputs[0].shape if model.inputs else None
    return None if shape is None else shape[0]


def _check_shuffle(shuffle: bool, stateful: bool) -> bool:
    """``shuffle`` as a bool; shuffling a model with stateful layers is refused.

    A stateful layer carries its states from one batch into the next, so its batches must
    come in time order: shuffled, each batch would start from the states of an unrelated one.
    """
    if not isinstance(shuffle, bool | np.bool_):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    if shuffle and stateful:
        raise ValueError(
            "shuffle=True with a stateful model: its batches carry states into the next and "
            "must come in order; pass shuffle=False"
        )
    return bool(shuffle)


def batch_plan(
    n: int, capacity: int, batch_size: int, shuffle: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sample indices and weights for one epoch over samples ``0..n-1``, in batches.

    Returns ``(index, weight, n_batches)`` with ``index`` and ``weight`` of the fixed shape
    (ceil(capacity / batch_size), batch_size), so one compiled function serves every step
    of a walk-forward; only the first ``n_batches = ceil(n / batch_size)`` rows are used.
    The order is a fresh permutation when ``shuffle`` (else ``0..n-1``). A short last batch
    is padded with weight-0 entries, so its weighted mean loss equals Keras' mean over it.
    """
    if not 1 <= n <= capacity:
        raise ValueError(f"n must be between 1 and capacity ({capacity}), got {n}")
    rows = -(-capacity // batch_size)
    index = np.zeros(rows * batch_size, dtype=np.int32)
    weight = np.zeros(rows * batch_size, dtype=np.float32)
    index[:n] = rng.permutation(n) if shuffle else np.arange(n)
    weight[:n] = 1.0
    shape = (rows, batch_size)
    return index.reshape(shape), weight.reshape(shape), -(-n // batch_size)


class WalkForward:
    """A compiled walk-forward trainer bound to one model, reusable across runs.

    ``batch_size`` is fixed for the trainer. With ``reset_states_each_epoch`` (the default
    for a model with stateful layers) the carried states are zeroed at the start of every
    epoch and before every prediction. The optimizer is Keras' Adam(``learning_rate``), its
    update written out (:meth:`_adam_step`); its state persists across the steps of a run,
    like a model compiled once and fitted repeatedly, and is reset at the start of each run.
    With ``unrolled_lstm`` (the default) the training pass runs the model's stateless LSTM
    layers through :func:`~tutorials_lib.unrolled_lstm.call_model`: the same numbers as
    Keras' loop, bit for bit, in less than half the time. With ``single_threaded`` (the
    default) the graphs run on TensorFlow's single-threaded executor
    (:func:`~tutorials_lib.executor.graph_executor`):
    the same numbers again, at a lower cost per operation. ``jit_compile`` turns on XLA,
    which compiles the model as Keras builds it (``unrolled_lstm`` is then ignored) and
    rounds differently.
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        batch_size: int,
        learning_rate: float = 1e-3,
        reset_states_each_epoch: bool | None = None,
        jit_compile: bool = False,
        unrolled_lstm: bool = True,
        single_threaded: bool = True,
    ) -> None:
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        fixed = _batch_size_of(model)
        if fixed is not None and fixed != self.batch_size:
            raise ValueError(
                f"batch_size ({self.batch_size}) must equal the model's fixed batch size ({fixed})"
            )
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
        self.model = model
        self.stateful = bool(stateful_layers(model))
        self.reset_states_each_epoch = (
            self.stateful if reset_states_each_epoch is None else bool(reset_states_each_epoch)
        )
        self.single_threaded = bool(single_threaded)
        self.unrolled_lstm = (
            bool(unrolled_lstm)
            and not jit_compile
            and isinstance(model, keras.Sequential)
            and any(can_unroll(layer) for layer in model.layers)
        )
        self.learning_rate = float(learning_rate)
        # Adam's state: the update count and the two moments of the weights, one flat vector
        # each for all weights together (see _adam_step), or one pair per weight under XLA
        weights = model.trainable_variables
        self._sizes = [int(np.prod(w.shape)) for w in weights]
        self._flat_adam = not jit_compile
        shapes = [(sum(self._sizes),)] if self._flat_adam else [tuple(w.shape) for w in weights]
        self._updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._moments = [
            (
                tf.Variable(tf.zeros(shape), trainable=False),
                tf.Variable(tf.zeros(shape), trainable=False),
            )
            for shape in shapes
        ]
        shape = model.inputs[0].shape
        x_spec = tf.TensorSpec((None, *shape[1:]), tf.float32)
        self._train_epoch = tf.function(
            self._epoch_graph,
            input_signature=[
                x_spec,
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((None, self.batch_size), tf.int32),
                tf.TensorSpec((None, self.batch_size), tf.float32),
                tf.TensorSpec((), tf.int32),
            ],
            jit_compile=jit_compile,
        )
        self._predict = tf.function(
            self._predict_graph,
            input_signature=[tf.TensorSpec((self.batch_size, *shape[1:]), tf.float32)],
            jit_compile=jit_compile,
        )

    def _reset_graph(self) -> None:
        for layer in stateful_layers(self.model):
            for state in layer.states:
                state.assign(tf.zeros_like(state))

    def _epoch_graph(self, x, y, index, weight, n_batches):
        model = self.model
        variables = model.trainable_variables
        if self.reset_states_each_epoch:
            self._reset_graph()
        losses = tf.TensorArray(tf.float32, size=tf.shape(index)[0], element_shape=())
        b = tf.constant(0)
        while b < n_batches:  # no maximum_iterations: XLA then compiles once for all steps
            xb = tf.gather(x, index[b])
            yb = tf.gather(y, index[b])
            with tf.GradientTape() as tape:
                if self.unrolled_lstm:
                    pred = call_model(model, xb, training=True)[:, 0]
                else:
                    pred = model(xb, training=True)[:, 0]
                loss = tf.reduce_sum(weight[b] * tf.square(pred - yb)) / tf.reduce_sum(weight[b])
            self._adam_step(tape.gradient(loss, variables), variables)
            losses = losses.write(b, loss)
            b += 1
        return losses.stack()

    def _adam_step(self, grads, variables) -> None:
        """One update of ``keras.optimizers.Adam(learning_rate)``: Keras' numbers, fewer ops.

        Keras' ``apply_gradients`` updates the weights one by one, recomputing the step size
        for each, inside distribution-strategy wrappers. Here all weights' entries form one
        vector and go through :func:`~tutorials_lib.side_by_side.adam_update` at once: the
        same element-wise operations (additions, products, quotients and square roots, each
        correctly rounded, so an entry's result does not depend on its neighbours), in
        Keras' order. The tests compare the predictions with the fit loop's, bit for bit.
        XLA compiles the update together with the gradients' computation, and with the
        joined vector its numbers differ from its numbers for Keras' Adam; under XLA each
        weight therefore keeps its own update, as in Keras.
        """
        rate = adam_rate(self.learning_rate, tf.cast(self._updates + 1, tf.float32))
        if self._flat_adam:
            grads = [tf.concat([tf.reshape(grad, (-1,)) for grad in grads], axis=0)]
        deltas = []
        for grad, (m, v) in zip(grads, self._moments, strict=True):
            new_m, new_v, delta = adam_update(grad, m, v, rate)
            m.assign(new_m)
            v.assign(new_v)
            deltas.append(delta)
        if self._flat_adam:
            deltas = tf.split(deltas[0], self._sizes)
        for var, delta in zip(variables, deltas, strict=True):
            var.assign_sub(tf.reshape(delta, var.shape))
        self._updates.assign_add(1)

    def _predict_graph(self, x):
        if self.reset_states_each_epoch:
            self._reset_graph()
        return self.model(x, training=False)[0, 0]

    def restart(self, init_from: keras.Model | None = None) -> None:
        """Reset the optimizer; with ``init_from``, copy its variables (weights, dropout seeds).

        ``init_from`` is a freshly built model of the same architecture, typically from the
        same builder with another seed: a cold start without retracing anything.
        """
        self._updates.assign(0)
        for m, v in self._moments:
            m.assign(tf.zeros_like(m))
            v.assign(tf.zeros_like(v))
        if init_from is not None:
            src, dst = init_from.variables, self.model.variables
            if len(src) != len(dst) or any(
                tuple(a.shape) != tuple(b.shape) for a, b in zip(src, dst, strict=True)
            ):
                raise ValueError("init_from must have the same architecture as the model")
            for a, b in zip(dst, src, strict=True):
                a.assign(b.value)
        if self.stateful:
            reset_states(self.model)

    def run(
        self,
        X,
        y,
        *,
        epochs: int,
        shuffle: bool = True,
        seed: int = 0,
        first_step: int = 1,
        init_from: keras.Model | None = None,
    ) -> WalkForwardResult:
        """Walk forward from ``first_step`` to the last sample of ``X``/``y``.

        ``X`` is (n, lookback, features), ``y`` (n,). ``seed`` drives the shuffling (a NumPy
        generator); weights and dropout come from the model (or ``init_from``). A model
        with stateful layers takes its batches in order: it needs ``shuffle=False``
        (ValueError otherwise).
        """
        X, y, first_step = _check_data(X, y, first_step)
        epochs = check_int("epochs", epochs, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        shuffle = _check_shuffle(shuffle, self.stateful)
        shape = tuple(self.model.inputs[0].shape[1:])
        if X.shape[1:] != shape:
            raise ValueError(f"X windows must have shape {shape}, got {X.shape[1:]}")
        self.restart(init_from)
        rng = np.random.default_rng(seed)
        x_all = tf.constant(X)
        y_all = tf.constant(y)
        preds, train_losses = [], []
        with graph_executor(self.single_threaded):  # graphs traced and run there
            for i in range(first_step, len(X)):
                for _ in range(epochs):
                    index, weight, n_batches = batch_plan(i, len(X), self.batch_size, shuffle, rng)
                    losses = self._train_epoch(x_all, y_all, index, weight, np.int32(n_batches))
                    train_losses.append(losses.numpy()[:n_batches])
                x_test = np.repeat(X[i : i + 1], self.batch_size, axis=0)
                preds.append(float(self._predict(x_test)))
        steps = np.arange(first_step, len(X))
        predictions = np.array(preds)
        actuals = y[steps].astype(np.float64)
        return WalkForwardResult(
            steps=steps,
            predictions=predictions,
            actuals=actuals,
            test_losses=(predictions - actuals) ** 2,
            train_losses=np.concatenate(train_losses).astype(np.float64),
        )


def walk_forward(
    model: keras.Model,
    X,
    y,
    *,
    epochs: int,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    first_step: int = 1,
    learning_rate: float = 1e-3,
    jit_compile: bool = False,
    unrolled_lstm: bool = True,
) -> WalkForwardResult:
    """One walk-forward run with a new :class:`WalkForward` trainer (see there).

    For many runs on one architecture, build a :class:`WalkForward` once and call its
    ``run`` with ``init_from`` a freshly seeded model: that skips the tracing. A model with
    stateful layers needs ``shuffle=False``.
    """
    engine = WalkForward(
        model,
        batch_size=batch_size,
        learning_rate=learning_rate,
        jit_compile=jit_compile,
        unrolled_lstm=unrolled_lstm,
    )
    return engine.run(X, y, epochs=epochs, shuffle=shuffle, seed=seed, first_step=first_step)


def fit_walk_forward(
    model: keras.Model,
    X,
    y,
    *,
    epochs: int,
    batch_size: int,
    shuffle: bool = True,
    first_step: int = 1,
    learning_rate: float = 1e-3,
) -> WalkForwardResult:
    """The plain Keras walk-forward loop: ``fit``, ``predict`` and ``evaluate`` at every step.

    Compiles ``model`` with :func:`compile_for_fit`. For a model with stateful layers
    (which needs ``shuffle=False``) it fits one epoch at a time and resets the states after
    each epoch and before predicting, as :class:`WalkForward` does. Each step predicts one
    sample, so a model with a fixed batch size (a stateful one) must have batch size 1, and
    ``batch_size`` must be 1 too. Kept as the reference the fast trainer is checked against,
    and for the speed comparison.
    """
    X, y, first_step = _check_data(X, y, first_step)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    stateful = bool(stateful_layers(model))
    shuffle = _check_shuffle(shuffle, stateful)
    fixed = _batch_size_of(model)
    if fixed is not None and (fixed != 1 or batch_size != 1):
        raise ValueError(
            "fit_walk_forward predicts one sample per step, so a model with a fixed batch "
            f"size needs batch size 1 and batch_size=1: got a model of batch size {fixed} "
            f"and batch_size={batch_size} (WalkForward serves any fixed batch size)"
        )
    compile_for_fit(model, learning_rate)
    history = LossHistory()
    preds, losses = [], []
    for i in range(first_step, len(X)):
        train_x, train_y = X[:i], y[:i]
        if stateful:
            for _ in range(epochs):
                reset_states(model)
                model.fit(train_x, train_y, epochs=1, batch_size=batch_size, shuffle=False,
                          callbacks=[history], verbose=0)  # fmt: skip
            reset_states(model)
        else:
            model.fit(train_x, train_y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                      callbacks=[history], verbose=0)  # fmt: skip
        test_x, test_y = X[i : i + 1], y[i : i + 1].reshape(1, 1)
        preds.append(float(model.predict(test_x, batch_size=batch_size, verbose=0)[0, 0]))
        if stateful:
            reset_states(model)
        score = model.evaluate(test_x, test_y, batch_size=batch_size, verbose=0, return_dict=True)
        losses.append(float(score["loss"]))
    steps = np.arange(first_step, len(X))
    return WalkForwardResult(
        steps=steps,
        predictions=np.array(preds),
        actuals=y[steps].astype(np.float64),
        test_losses=np.array(losses),
        train_losses=np.array(history.losses),
    )
