"""Training a model from a seed, with the epoch count chosen on past data only.

Chapters train the same architecture on several seeds and compare them; these helpers make
each run one call that is reproducible from its seed:

* :func:`fit_seeded` seeds everything, builds a fresh model, compiles and fits it.
* :class:`SeedRunner` gives the same result seed after seed in one compiled model, so an
  architecture's training and prediction graphs are traced once, not once per seed.
* :func:`choose_epochs` holds out the *last* part of the training windows (a chronological
  validation slice), trains on the rest and returns the epoch with the lowest validation
  loss, with the search run whose validation curve the choice came from; the test span is
  never looked at.
* :func:`predict` runs the model in batches through one compiled call (``predict`` itself
  costs tens of milliseconds a call).
* :class:`ParallelLSTMTrainer` trains several ``LSTM(units) -> Dense(1)`` regressions (seeds
  or configurations, each an :class:`LSTMJob`) side by side in one compiled graph, each with
  its own Adam state, gradient clipping and batch order: the results of separate runs up to
  float32 rounding, at a fraction of the cost when each batch is small; :class:`TapeTrainer`
  trains one Keras model the same way, by automatic differentiation and Keras' Adam, as its
  reference.

Keras' training and prediction graphs, and the trainers' own, run on TensorFlow's
single-threaded executor (:func:`~tutorials_lib.executor.graph_executor`): the same numbers
at a lower cost per operation. ``ParallelLSTMTrainer``'s epoch graph is the exception (see
:meth:`ParallelLSTMTrainer.fit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.executor import graph_executor
from tutorials_lib.repro import set_seed
from tutorials_lib.side_by_side import ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON
from tutorials_lib.walk_forward import batch_plan

__all__ = [
    "FitResult",
    "LSTMJob",
    "LSTMRun",
    "ParallelLSTMTrainer",
    "SeedRunner",
    "TRAINER_ADAM_BETAS",
    "TapeTrainer",
    "choose_epochs",
    "fit_seeded",
    "lstm_dense_weights",
    "predict",
]

#: A model builder: takes a seed, returns a fresh, uncompiled Keras model.
Builder = Callable[[int], keras.Model]
#: Adam's decay rates in :class:`ParallelLSTMTrainer` and :class:`TapeTrainer`: Keras' 0.9
#: and 0.999 rounded to float32 (0.899999976 and 0.999000013). TensorFlow's fused Adam kernel
#: computes with these values: it forms ``1 - beta_2`` in float32, 0.000999987, where Keras,
#: given 0.999, subtracts in double precision and uses 0.001 (1.3e-5 apart, relatively).
#: Keras' Adam given these values computes the fused kernel's update bit for bit.
TRAINER_ADAM_BETAS: tuple[float, float] = (
    float(np.float32(ADAM_BETA_1)),
    float(np.float32(ADAM_BETA_2)),
)
#: An optimizer factory: returns a fresh optimizer (optimizers keep state, so never share one).
OptimizerFactory = Callable[[], keras.optimizers.Optimizer]


@dataclass
class FitResult:
    """A trained model and its per-epoch losses (``val_loss`` empty without validation)."""

    model: keras.Model
    loss: np.ndarray
    val_loss: np.ndarray
    epochs: int
    seed: int


def _arrays(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = as_float_array("X", X, ndim=(2, 3)).astype(np.float32)
    y = as_float_array("y", y, ndim=(1, 2)).astype(np.float32)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    return X, y


def fit_seeded(
    build: Builder,
    X,
    y,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
    validation: tuple | None = None,
    shuffle: bool = True,
    loss: str = "mse",
    steps_per_epoch: int | None = None,
) -> FitResult:
    """Seed Python/NumPy/Keras with ``seed``, build ``build(seed)``, compile and fit it.

    The same seed gives the same weights, batch order and dropout masks, so two
    configurations trained on the same seeds can be compared seed by seed.
    ``steps_per_epoch`` (Keras' argument) makes an "epoch" that many updates; all epochs draw
    from one shuffled pass over the windows, carrying on where the last epoch stopped, so
    ``epochs * steps_per_epoch`` must not exceed the batches of one pass.
    """
    X, y = _arrays(X, y)
    seed = check_int("seed", seed, minimum=0)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    set_seed(seed)
    model = build(seed)
    model.compile(optimizer=optimizer(), loss=loss)
    return _fit(model, X, y, seed, epochs, batch_size, shuffle, validation, steps_per_epoch)


def _fit(model, X, y, seed, epochs, batch_size, shuffle, validation, steps_per_epoch):
    """Keras ``fit`` of an already seeded and compiled model, as a :class:`FitResult`."""
    if steps_per_epoch is not None:
        steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch, minimum=1)
        available = -(-len(X) // batch_size)  # Keras draws every epoch from one pass
        if epochs * steps_per_epoch > available:
            raise ValueError(
                f"steps_per_epoch={steps_per_epoch} over {epochs} epochs asks for "
                f"{epochs * steps_per_epoch} updates, but one pass over {len(X)} windows in "
                f"batches of {batch_size} gives {available}"
            )
    val = None if validation is None else _arrays(*validation)
    with graph_executor():  # Keras' training graph traced and run on the single-threaded executor
        history = model.fit(
            X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, validation_data=val,
            steps_per_epoch=steps_per_epoch, verbose=0,
        )  # fmt: skip
    return FitResult(
        model=model,
        loss=np.asarray(history.history["loss"], dtype=np.float64),
        val_loss=np.asarray(history.history.get("val_loss", []), dtype=np.float64),
        epochs=epochs,
        seed=seed,
    )


class SeedRunner:
    """One architecture trained seed after seed in a single compiled Keras model.

    :func:`fit_seeded` builds and compiles a new model for every seed, and Keras traces new
    training and prediction graphs for each: seconds for a recurrent stack, as long as an
    epoch of a small run. The runner compiles one model and, before each seed, loads the
    state :func:`fit_seeded` would start from: the global seeds, the weights and dropout seed
    state of ``build(seed)``, and the optimizer's initial state (update counter and moments at
    zero). Training then equals :func:`fit_seeded` with the same arguments.

    The :class:`FitResult` of :meth:`train` holds the runner's own model, which the next
    :meth:`train` overwrites: read its forecasts (or copy its weights) before the next seed.
    """

    def __init__(
        self,
        build: Builder,
        *,
        epochs: int,
        batch_size: int,
        optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
        loss: str = "mse",
        shuffle: bool = True,
        steps_per_epoch: int | None = None,
    ) -> None:
        self.build = build
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.shuffle = bool(shuffle)
        self.steps_per_epoch = steps_per_epoch
        self.model = build(0)
        self.model.compile(optimizer=optimizer(), loss=loss)
        self.model.optimizer.build(self.model.trainable_variables)
        self._optimizer_start = [v.numpy() for v in self.model.optimizer.variables]

    def train(self, seed: int, X, y, *, validation: tuple | None = None) -> FitResult:
        """Reset the model to ``fit_seeded``'s starting state for ``seed`` and fit it."""
        X, y = _arrays(X, y)
        seed = check_int("seed", seed, minimum=0)
        set_seed(seed)
        fresh = self.build(seed)
        mine, new = self.model.variables, fresh.variables
        if len(mine) != len(new) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(mine, new, strict=True)
        ):
            raise ValueError(f"build({seed}) must return the architecture of build(0)")
        for a, b in zip(mine, new, strict=True):
            a.assign(b)  # weights, and the dropout layers' seed state
        for a, b in zip(self.model.optimizer.variables, self._optimizer_start, strict=True):
            a.assign(b)
        return _fit(
            self.model, X, y, seed, self.epochs, self.batch_size, self.shuffle, validation,
            self.steps_per_epoch,
        )  # fmt: skip


def choose_epochs(
    build: Builder,
    X,
    y,
    *,
    seed: int,
    max_epochs: int,
    batch_size: int,
    validation_fraction: float = 0.1,
    optimizer: OptimizerFactory = lambda: keras.optimizers.Adam(1e-3),
    shuffle: bool = True,
) -> tuple[int, FitResult]:
    """The epoch count (1..max_epochs) with the lowest loss on the last ``validation_fraction``.

    The validation slice is the latest part of the training windows, so the choice uses
    only the past. Returns ``(best_epochs, result_of_the_search_run)``.
    """
    X, y = _arrays(X, y)
    max_epochs = check_int("max_epochs", max_epochs, minimum=1)
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = len(X) - int(round(len(X) * validation_fraction))
    if cut < 1 or cut >= len(X):
        raise ValueError(
            f"validation_fraction {validation_fraction} leaves no training or no validation "
            f"windows out of {len(X)}"
        )
    search = fit_seeded(
        build, X[:cut], y[:cut], seed=seed, epochs=max_epochs, batch_size=batch_size,
        optimizer=optimizer, validation=(X[cut:], y[cut:]), shuffle=shuffle,
    )  # fmt: skip
    return int(np.argmin(search.val_loss)) + 1, search


def predict(model: keras.Model, X, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for every window of ``X``, in batches, without ``predict``'s overhead.

    Returns (n,) for a single-output model, else (n, outputs).
    """
    X = as_float_array("X", X, ndim=(2, 3)).astype(np.float32)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    with graph_executor():
        out = np.concatenate(
            [
                np.asarray(model.predict_on_batch(X[i : i + batch_size]))
                for i in range(0, len(X), batch_size)
            ]
        ).astype(np.float64)
    return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out


# --------------------------------------------------------------------------------------------
# Several LSTM(units) -> Dense(1) regressions trained side by side in one compiled graph.
# --------------------------------------------------------------------------------------------


@dataclass
class LSTMJob:
    """One model to train: its initial weights, data, batch-order seed and epoch budget.

    ``model`` is a freshly built Keras ``LSTM(units) -> Dense(1)`` model (tanh/sigmoid, no
    dropout): only its initial weights are read. ``X`` is (n, lookback) or (n, lookback,
    features), ``y`` (n,). ``seed`` drives the batch order (``numpy.random.default_rng(seed)``,
    one :func:`~tutorials_lib.walk_forward.batch_plan` per epoch). ``validation = (X_val,
    y_val)`` scores the model after every epoch (and, with the trainer's ``patience``, ends its
    training early).
    """

    model: keras.Model
    X: np.ndarray
    y: np.ndarray
    seed: int
    epochs: int
    validation: tuple | None = None


@dataclass
class LSTMRun:
    """What training one :class:`LSTMJob` produced.

    ``batch_loss[e]`` and ``norms[e]`` hold, for epoch ``e``, each batch's loss and its global
    gradient norm *before* clipping; ``loss`` is the mean batch loss of each epoch and
    ``val_loss`` the validation MSE after it (empty without validation). ``weights`` are the
    final weights in ``model.get_weights()`` order (LSTM kernel, recurrent kernel, bias,
    Dense kernel, Dense bias).
    """

    weights: list
    loss: np.ndarray
    val_loss: np.ndarray
    batch_loss: list
    norms: list
    epochs: int
    seed: int


def lstm_dense_weights(model: keras.Model) -> list[np.ndarray]:
    """The five weight arrays of an ``LSTM(units) -> Dense(1)`` Keras model, checked.

    Raises ValueError for any other architecture: the parallel trainer computes exactly this
    network (gates i, f, c, o; sigmoid gates, tanh cell; linear output) and nothing else.
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if (
        len(layers) != 2
        or type(layers[0]) is not keras.layers.LSTM
        or type(layers[1]) is not keras.layers.Dense
    ):
        kinds = [type(layer).__name__ for layer in layers]
        raise ValueError(f"model must be LSTM -> Dense(1), got layers {kinds}")
    lstm, dense = layers
    act = keras.activations.serialize
    plain = (
        act(lstm.activation) == "tanh"
        and act(lstm.recurrent_activation) == "sigmoid"
        and lstm.use_bias
        and not (lstm.return_sequences or lstm.go_backwards or lstm.stateful)
        and lstm.dropout == 0
        and lstm.recurrent_dropout == 0
    )
    if not plain:
        raise ValueError(
            "model's LSTM must use tanh and sigmoid, a bias, no dropout, and return only its "
            "last hidden state (no return_sequences, go_backwards or stateful)"
        )
    if dense.units != 1 or act(dense.activation) != "linear" or not dense.use_bias:
        raise ValueError("model's Dense layer must have 1 unit, a bias and no activation")
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    if len(weights) != 5:
        raise ValueError("model must be built (start it with keras.Input) to have weights")
    return weights


def _lstm_forward(params, x, perm=None):
    """Forecasts (batch,) of one copy for windows ``x`` (batch, time, features), and a cache.

    With ``perm=None`` the weights are in Keras' layout and the operations, in the same order,
    are those of ``keras.layers.LSTM`` (implementation 2: one matmul per step for the four
    gates) followed by ``Dense(1)``. With ``perm`` (the tensor ``[1, 0]``) the recurrent
    kernel is in the trainer's layout, transposed to (4 units, units): each step computes
    ``U^T @ h^T`` and transposes that small (4 units, batch) result back, which TensorFlow's
    CPU kernel runs markedly faster than ``h @ U`` for a batch of a few windows (its sums run
    in another order, so the result agrees with Keras' up to float32 rounding).
    ``perm`` is a tensor, so the graph optimizer cannot fold the transpose into the matmul.
    """
    kernel, recurrent, bias, head_w, head_b = params
    steps, features = x.shape[1], x.shape[2]
    units = head_w.shape[0]
    n = tf.shape(x)[0]

    def recurrent_part(h):
        if perm is None:
            return tf.matmul(h, recurrent)
        return tf.transpose(tf.matmul(recurrent, h, transpose_b=True), perm)

    # The input part of every gate for all steps in one matmul.
    xk = tf.reshape(tf.matmul(tf.reshape(x, (-1, features)), kernel), (n, steps, 4 * units))
    h = c = None
    cache = []
    for t in range(steps):
        z = xk[:, t] if h is None else xk[:, t] + recurrent_part(h)  # h_0 = 0
        z = z + bias
        zi, zf, zc, zo = tf.split(z, 4, axis=-1)
        i, f, g, o = tf.sigmoid(zi), tf.sigmoid(zf), tf.tanh(zc), tf.sigmoid(zo)
        c_prev = c
        c = i * g if c is None else f * c + i * g  # c_0 = 0
        tanh_c = tf.tanh(c)
        h_prev, h = h, o * tanh_c
        cache.append((i, f, g, o, tanh_c, c_prev, h_prev))
    pred = tf.matmul(h, head_w)[:, 0] + head_b
    return pred, (h, cache)


def _lstm_gradients(params, x, d_pred, h_last, cache, perm):
    """Backpropagation through time for :func:`_lstm_forward` in the trainer's layout.

    ``params`` hold the recurrent kernel transposed, (4 units, units), and so do the returned
    gradients (in ``params`` order). Written out rather than left to ``GradientTape``: the
    tape's gradient of ``h @ U`` is a matmul against U transposed, which TensorFlow's CPU
    kernel runs an order of magnitude slower than the forward product; with U kept
    transposed, each step's ``dz @ U^T`` is a plain product. The recurrent and input kernels
    get one matmul each over all steps; the recurrent kernel's multiplies ``dz`` transposed by
    ``perm`` (the tensor ``[1, 0]``), which runs faster than a matmul told to transpose it.
    """
    kernel, recurrent_t, _, head_w, _ = params
    steps, features = x.shape[1], x.shape[2]
    units = head_w.shape[0]
    d_head_w = tf.matmul(h_last, d_pred[:, None], transpose_a=True)
    d_head_b = tf.reduce_sum(d_pred, keepdims=True)
    dh = d_pred[:, None] * tf.reshape(head_w, (1, units))
    dc = None
    dz = [None] * steps
    for t in reversed(range(steps)):
        i, f, g, o, tanh_c, c_prev, _ = cache[t]
        dc_t = dh * o * (1.0 - tanh_c * tanh_c)
        dc = dc_t if dc is None else dc + dc_t
        dzi = dc * g * i * (1.0 - i)
        dzf = tf.zeros_like(dzi) if c_prev is None else dc * c_prev * f * (1.0 - f)
        dzc = dc * i * (1.0 - g * g)
        dzo = dh * tanh_c * o * (1.0 - o)
        dz[t] = tf.concat([dzi, dzf, dzc, dzo], axis=-1)
        if t > 0:
            dh = tf.matmul(dz[t], recurrent_t)
            dc = dc * f
    dz_all = tf.stack(dz, axis=1)  # (batch, time, 4 units)
    d_kernel = tf.matmul(
        tf.reshape(x, (-1, features)), tf.reshape(dz_all, (-1, 4 * units)), transpose_a=True
    )
    if steps > 1:
        h_prev = tf.reshape(tf.stack([c[6] for c in cache[1:]], axis=1), (-1, units))
        d_recurrent_t = tf.matmul(
            tf.transpose(tf.reshape(dz_all[:, 1:], (-1, 4 * units)), perm), h_prev
        )
    else:
        d_recurrent_t = tf.zeros_like(recurrent_t)
    d_bias = tf.reduce_sum(dz_all, axis=(0, 1))
    return [d_kernel, d_recurrent_t, d_bias, d_head_w, d_head_b]


def _batch_loss(params, x, y, index, weight, perm):
    """The weighted MSE of the batch ``index`` of windows ``x`` and targets ``y`` (weights in
    the trainer's layout), and what :func:`_batch_gradients` needs of its forward pass."""
    xb, yb = tf.gather(x, index), tf.gather(y, index)
    pred, (h_last, cache) = _lstm_forward(params, xb, perm)
    err = pred - yb
    den = tf.reduce_sum(weight)
    loss = tf.reduce_sum(weight * tf.square(err)) / den
    return loss, (xb, err, den, h_last, cache)


def _batch_gradients(params, weight, forward, perm):
    """Gradients of :func:`_batch_loss`'s loss in ``params`` order, from its ``forward``."""
    xb, err, den, h_last, cache = forward
    return _lstm_gradients(params, xb, 2.0 * weight * err / den, h_last, cache, perm)


def _apply_adam(params, m, v, grads, step, learning_rate):
    """Adam step number ``step`` (1 for the first) of every weight variable, in place.

    TensorFlow's fused kernel (``ResourceApplyAdam``) computes Keras 3's ``Adam.update_step``
    with the decay rates :data:`TRAINER_ADAM_BETAS`, in the same operations and order, in one
    pass over each weight (Keras' operations take twelve). Returns the update operations.
    """
    beta_1, beta_2 = (tf.constant(b, tf.float32) for b in TRAINER_ADAM_BETAS)
    powers = {"beta1_power": tf.pow(beta_1, step), "beta2_power": tf.pow(beta_2, step)}
    return [
        tf.raw_ops.ResourceApplyAdam(
            var=p.handle, m=m_k.handle, v=v_k.handle, lr=learning_rate, beta1=beta_1,
            beta2=beta_2, epsilon=tf.constant(ADAM_EPSILON), grad=g, **powers,
        )
        for p, m_k, v_k, g in zip(params, m, v, grads, strict=True)
    ]  # fmt: skip


def _training_layout(weights: list) -> list[np.ndarray]:
    """Keras' five LSTM -> Dense(1) arrays with the recurrent kernel transposed, and back."""
    return [np.ascontiguousarray(w.T) if k == 1 else w for k, w in enumerate(weights)]


def _check_adam_settings(batch_size, learning_rate, clip_norm) -> tuple[int, float, float | None]:
    """The trainers' shared arguments, checked: batch size, Adam's rate, the clipping norm."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if isinstance(learning_rate, bool) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if clip_norm is not None and (isinstance(clip_norm, bool) or not clip_norm > 0):
        raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm!r}")
    return batch_size, float(learning_rate), None if clip_norm is None else float(clip_norm)


def _param_specs(shape: tuple[int, int, int]) -> list:
    _, features, units = shape
    return [
        tf.TensorSpec((features, 4 * units), tf.float32),
        tf.TensorSpec((units, 4 * units), tf.float32),
        tf.TensorSpec((4 * units,), tf.float32),
        tf.TensorSpec((units, 1), tf.float32),
        tf.TensorSpec((1,), tf.float32),
    ]


class ParallelLSTMTrainer:
    """Trains several independent ``LSTM(units) -> Dense(1)`` regressions in one graph.

    Each copy (an :class:`LSTMJob`: one seed of a configuration; copies may differ in data,
    window length and width) keeps its own weights, its own Adam state, its own global-norm
    clipping and its own batch order, and logs its own batch losses and gradient norms. Each
    copy is trained as it would be alone by a compiled loop that applies
    ``tf.clip_by_global_norm`` and ``keras.optimizers.Adam(learning_rate)`` to the weighted
    MSE of :func:`~tutorials_lib.walk_forward.batch_plan`'s batches; the results agree with
    such a run up to float32 rounding, with Adam's decay rates rounded to float32
    (:data:`TRAINER_ADAM_BETAS`). Three choices make the trainer fast on a CPU: the backward
    pass is written out, and the recurrent kernel is kept transposed while training (so their
    sums run in another order than Keras'), and Adam is TensorFlow's fused kernel, one pass
    over each weight (:func:`_apply_adam`). All three run TensorFlow's CPU kernels, compiled
    ahead of time, not code generated for the processor at hand as XLA's is. One compiled
    function runs one epoch of every copy: the copies are independent subgraphs, so the fixed
    cost of each call is paid once for all of them (and TensorFlow, given several threads,
    can run them side by side).

    A copy stops when its ``epochs`` run out or, with ``patience > 0`` and a validation set,
    after ``patience`` epochs without a new lowest validation loss (it keeps the weights of
    its last epoch); the others go on. ``clip_norm=None`` trains without clipping (the norms
    are still logged). The compiled functions, and the copies' weight and Adam variables, are
    cached per set of copy shapes, so one trainer is meant to serve many calls (one at a
    time: each call assigns the variables afresh).
    """

    def __init__(
        self,
        *,
        batch_size: int,
        learning_rate: float = 1e-3,
        clip_norm: float | None = None,
        patience: int = 0,
        shuffle: bool = True,
    ) -> None:
        self.batch_size, self.learning_rate, self.clip_norm = _check_adam_settings(
            batch_size, learning_rate, clip_norm
        )
        self.patience = check_int("patience", patience, minimum=0)
        self.shuffle = bool(shuffle)
        self._epochs: dict = {}
        self._forwards: dict = {}
        self._perm = tf.constant([1, 0], dtype=tf.int32)

    # -- compiled functions, one per set of copy shapes (lookback, features, units) ---------

    def _epoch_function(self, shapes: tuple):
        """The compiled epoch of copies of these shapes, and the copies' weight variables.

        Each copy's weights (in the training layout), Adam moments ``m`` and ``v`` are
        variables that the graph updates in place; :meth:`fit` assigns their starting values.
        """
        if shapes not in self._epochs:
            state = []
            for shape in shapes:
                zeros = _training_layout(
                    [np.zeros(s.shape, np.float32) for s in _param_specs(shape)]
                )
                state.append(tuple(
                    [tf.Variable(z, trainable=False) for z in zeros] for _ in ("weights", "m", "v")
                ))  # fmt: skip
            epoch = tf.function(
                lambda *args: self._epoch_graph(state, *args),
                input_signature=self._epoch_signature(shapes),
                autograph=False,
            )
            self._epochs[shapes] = (state, epoch)
        return self._epochs[shapes]

    def _epoch_signature(self, shapes: tuple) -> list:
        rows = [tf.TensorSpec((None, self.batch_size), tf.int32) for _ in shapes]
        return [
            [tf.TensorSpec((), tf.float32) for _ in shapes],
            [tf.TensorSpec((None, lookback, features), tf.float32)
             for lookback, features, _ in shapes],
            [tf.TensorSpec((None,), tf.float32) for _ in shapes],
            rows,
            [tf.TensorSpec((None, self.batch_size), tf.float32) for _ in shapes],
            [tf.TensorSpec((), tf.int32) for _ in shapes],
            tf.TensorSpec((2,), tf.int32),
        ]  # fmt: skip

    def _copy_step(self, state, step, x, y, index, weight, perm):
        """One batch of one copy: its loss, its gradient norm before clipping and its new step
        count, once its variables hold the updated weights and moments."""
        variables, m, v = state
        params = [p.read_value() for p in variables]
        loss, forward = _batch_loss(params, x, y, index, weight, perm)
        grads = _batch_gradients(params, weight, forward, perm)
        if self.clip_norm is None:
            norm = tf.linalg.global_norm(grads)
        else:
            grads, norm = tf.clip_by_global_norm(grads, self.clip_norm)
        step = step + 1.0
        lr = tf.constant(self.learning_rate, tf.float32)
        with tf.control_dependencies(_apply_adam(variables, m, v, grads, step, lr)):
            return tf.identity(loss), tf.identity(norm), tf.identity(step)

    def _epoch_graph(self, state, steps, xs, ys, index, weight, n_batches, perm):
        """One epoch of every copy; copy k trains its first ``n_batches[k]`` batches."""
        copies = len(state)
        longest = tf.reduce_max(tf.stack(n_batches))

        def body(b, steps, losses, norms):
            steps = list(steps)
            batch_losses, batch_norms = [], []
            for k in range(copies):

                def train(k=k):
                    return self._copy_step(state[k], steps[k], xs[k], ys[k], index[k][b],
                                           weight[k][b], perm)  # fmt: skip

                def skip(k=k):
                    return tf.constant(0.0), tf.constant(0.0), tf.identity(steps[k])

                loss, norm, steps[k] = tf.cond(b < n_batches[k], train, skip)
                batch_losses.append(loss)
                batch_norms.append(norm)
            return (
                b + 1, steps,
                losses.write(b, tf.stack(batch_losses)), norms.write(b, tf.stack(batch_norms)),
            )  # fmt: skip

        loop_state = (
            tf.constant(0), steps,
            tf.TensorArray(tf.float32, size=longest), tf.TensorArray(tf.float32, size=longest),
        )  # fmt: skip
        _, steps, losses, norms = tf.while_loop(lambda b, *_: b < longest, body, loop_state)
        return steps, losses.stack(), norms.stack()

    def _forward_function(self, shapes: tuple):
        if shapes not in self._forwards:
            signature = [
                [_param_specs(s) for s in shapes],
                [tf.TensorSpec((None, lookback, features), tf.float32)
                 for lookback, features, _ in shapes],
            ]  # fmt: skip

            def forward(params, xs):
                return [_lstm_forward(p, x)[0] for p, x in zip(params, xs, strict=True)]

            self._forwards[shapes] = tf.function(
                forward, input_signature=signature, autograph=False
            )
        return self._forwards[shapes]

    # -- public API ---------------------------------------------------------------------------

    def predict(self, weights: list, X: list) -> list[np.ndarray]:
        """Forecasts (float64) of copy k, with ``weights[k]``, for the windows ``X[k]``."""
        if len(weights) != len(X) or not weights:
            raise ValueError(
                f"weights and X must be non-empty lists of the same length, got {len(weights)} "
                f"and {len(X)}"
            )
        params, xs, shapes = [], [], []
        for k, (w, x) in enumerate(zip(weights, X, strict=True)):
            arrays, features, units = _weight_shape(f"weights[{k}]", w)
            x = _windows(f"X[{k}]", x, None, features)
            params.append([tf.constant(a) for a in arrays])
            xs.append(tf.constant(x))
            shapes.append((x.shape[1], features, units))
        with graph_executor():
            out = self._forward_function(tuple(shapes))(params, xs)
        return [o.numpy().astype(np.float64) for o in out]

    def fit(self, jobs: list[LSTMJob]) -> list[LSTMRun]:
        """Train every job from its model's initial weights; one :class:`LSTMRun` per job."""
        if not jobs:
            raise ValueError("jobs must hold at least one LSTMJob")
        data = [_check_job(k, job) for k, job in enumerate(jobs)]
        shapes = tuple(d["shape"] for d in data)
        # The epoch graph runs on TensorFlow's default executor. On the single-threaded one
        # (:func:`~tutorials_lib.executor.graph_executor`) it never returned with one or two
        # inter-op threads (the book runs one), and with four it was slower (TensorFlow 2.21).
        state, epoch_fn = self._epoch_function(shapes)
        for (variables, m, v), d in zip(state, data, strict=True):
            for var, start in zip(variables, _training_layout(d["weights"]), strict=True):
                var.assign(start)
            for var in m + v:
                var.assign(tf.zeros_like(var))
        steps = [tf.constant(0.0) for _ in jobs]
        xs = [tf.constant(d["X"]) for d in data]
        ys = [tf.constant(d["y"]) for d in data]
        rngs = [np.random.default_rng(job.seed) for job in jobs]

        def weights(k: int) -> list[np.ndarray]:
            return _training_layout([var.numpy() for var in state[k][0]])

        records = [{"batch_loss": [], "norms": [], "val_loss": []} for _ in jobs]
        done = [False] * len(jobs)
        epoch = 0
        while not all(done):
            plans = []
            for k, d in enumerate(data):
                n = len(d["X"])
                if done[k]:  # a finished copy: one unused row, no batches
                    rows = np.zeros((1, self.batch_size), np.int32)
                    plans.append((rows, rows.astype(np.float32), np.int32(0)))
                else:
                    index, weight, n_batches = batch_plan(n, n, self.batch_size, self.shuffle,
                                                          rngs[k])  # fmt: skip
                    plans.append((index, weight, np.int32(n_batches)))
            steps, losses, norms = epoch_fn(
                steps, xs, ys, [p[0] for p in plans], [p[1] for p in plans],
                [p[2] for p in plans], self._perm,
            )  # fmt: skip
            losses, norms = losses.numpy(), norms.numpy()
            epoch += 1
            active = [k for k in range(len(jobs)) if not done[k]]
            for k in active:
                records[k]["batch_loss"].append(losses[: plans[k][2], k].astype(np.float64))
                records[k]["norms"].append(norms[: plans[k][2], k].astype(np.float64))
            scored = [k for k in active if data[k]["validation"] is not None]
            if scored:
                preds = self.predict([weights(k) for k in scored],
                                     [data[k]["validation"][0] for k in scored])  # fmt: skip
                for k, pred in zip(scored, preds, strict=True):
                    val = records[k]["val_loss"]
                    val.append(float(np.mean((data[k]["validation"][1] - pred) ** 2)))
                    since_best = len(val) - 1 - int(np.argmin(val))
                    if self.patience and since_best >= self.patience:
                        done[k] = True
            for k in active:
                if epoch >= jobs[k].epochs:
                    done[k] = True
        return [
            LSTMRun(
                weights=weights(k),
                loss=np.array([np.mean(b) for b in rec["batch_loss"]]),
                val_loss=np.array(rec["val_loss"], dtype=np.float64),
                batch_loss=rec["batch_loss"],
                norms=rec["norms"],
                epochs=len(rec["batch_loss"]),
                seed=job.seed,
            )
            for k, (job, rec) in enumerate(zip(jobs, records, strict=True))
        ]


class TapeTrainer:
    """One Keras model trained as :class:`ParallelLSTMTrainer` trains each copy: its reference.

    Every epoch is one compiled loop of ``GradientTape`` steps over the batches of
    :func:`~tutorials_lib.walk_forward.batch_plan` (order from
    ``numpy.random.default_rng(job.seed)``): the weighted MSE, its gradients clipped to a
    global norm of ``clip_norm`` (``None``: not clipped) and applied by Keras'
    ``Adam(learning_rate)`` with the decay rates :data:`TRAINER_ADAM_BETAS`, each batch's loss
    and gradient norm *before* clipping logged.
    It trains ``job.model`` itself, in place, and serves any single-output Keras regression;
    with ``job.validation`` it scores the model after every epoch (no early stopping).
    ``jit_compile`` compiles the epoch with XLA (float32 sums in another order).
    """

    def __init__(
        self,
        *,
        batch_size: int,
        learning_rate: float = 1e-3,
        clip_norm: float | None = None,
        shuffle: bool = True,
        jit_compile: bool = False,
    ) -> None:
        self.batch_size, self.learning_rate, self.clip_norm = _check_adam_settings(
            batch_size, learning_rate, clip_norm
        )
        self.shuffle = bool(shuffle)
        self.jit_compile = bool(jit_compile)

    def epoch_function(self, model: keras.Model) -> Callable:
        """One compiled epoch of ``model`` with a fresh Adam, which the function keeps.

        Called as ``(x, t, index, weight, n_batches)`` with the windows, targets and one
        :func:`~tutorials_lib.walk_forward.batch_plan`; returns each batch's loss and norm.
        """
        beta_1, beta_2 = TRAINER_ADAM_BETAS
        optimizer = keras.optimizers.Adam(self.learning_rate, beta_1=beta_1, beta_2=beta_2)
        optimizer.build(model.trainable_variables)
        clip_norm = self.clip_norm

        def epoch(x, t, index, weight, n_batches):
            variables = model.trainable_variables
            losses = tf.zeros((tf.shape(index)[0],))
            norms = tf.zeros((tf.shape(index)[0],))
            b = tf.constant(0)
            while b < n_batches:
                xb, tb, wb = tf.gather(x, index[b]), tf.gather(t, index[b]), weight[b]
                with tf.GradientTape() as tape:
                    pred = model(xb, training=True)[:, 0]
                    loss = tf.reduce_sum(wb * tf.square(pred - tb)) / tf.reduce_sum(wb)
                grads = tape.gradient(loss, variables)
                if clip_norm is None:
                    norm = tf.linalg.global_norm(grads)
                else:
                    grads, norm = tf.clip_by_global_norm(grads, clip_norm)
                optimizer.apply_gradients(zip(grads, variables, strict=True))
                losses = tf.tensor_scatter_nd_update(losses, [[b]], [loss])
                norms = tf.tensor_scatter_nd_update(norms, [[b]], [norm])
                b += 1
            return losses, norms

        return tf.function(epoch, jit_compile=self.jit_compile)

    def fit(self, job: LSTMJob) -> LSTMRun:
        """Train ``job.model`` for ``job.epochs`` epochs; the weights end in the model too."""
        model = job.model
        shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else ()
        if len(shape) != 3 or shape[1] is None:
            raise ValueError("job.model must have a fixed input shape (lookback, features)")
        X = _windows("job.X", job.X, shape[1], shape[2])
        y = _targets("job.y", job.y, len(X)).astype(np.float32)
        seed = check_int("job.seed", job.seed, minimum=0)
        epochs = check_int("job.epochs", job.epochs, minimum=1)
        validation = None
        if job.validation is not None:
            X_val = _windows("job.validation X", job.validation[0], shape[1], shape[2])
            validation = (X_val, _targets("job.validation y", job.validation[1], len(X_val)))
        epoch = self.epoch_function(model)
        rng = np.random.default_rng(seed)
        x, t = tf.constant(X), tf.constant(y)
        batch_loss, batch_norms, val_loss = [], [], []
        for _ in range(epochs):
            index, weight, n_batches = batch_plan(len(X), len(X), self.batch_size, self.shuffle,
                                                  rng)  # fmt: skip
            with graph_executor():
                losses, norms = epoch(x, t, index, weight, np.int32(n_batches))
            batch_loss.append(losses.numpy()[:n_batches].astype(np.float64))
            batch_norms.append(norms.numpy()[:n_batches].astype(np.float64))
            if validation is not None:
                pred = np.asarray(model(validation[0], training=False))[:, 0]
                val_loss.append(float(np.mean((validation[1] - pred) ** 2)))
        return LSTMRun(
            weights=[np.asarray(w) for w in model.get_weights()],
            loss=np.array([np.mean(b) for b in batch_loss]),
            val_loss=np.array(val_loss, dtype=np.float64),
            batch_loss=batch_loss,
            norms=batch_norms,
            epochs=epochs,
            seed=seed,
        )


def _weight_shape(name: str, weights) -> tuple[list[np.ndarray], int, int]:
    """``weights`` as five float32 arrays of an LSTM -> Dense(1), with (features, units)."""
    arrays = [np.asarray(a, dtype=np.float32) for a in weights]
    if len(arrays) != 5 or arrays[1].ndim != 2:
        raise ValueError(f"{name} must be the 5 arrays of LSTM -> Dense(1).get_weights()")
    units = arrays[1].shape[0]
    features = arrays[0].shape[0] if arrays[0].ndim == 2 else -1
    expected = [(features, 4 * units), (units, 4 * units), (4 * units,), (units, 1), (1,)]
    if features < 1 or [a.shape for a in arrays] != expected:
        raise ValueError(
            f"{name} must be the 5 arrays of LSTM -> Dense(1).get_weights(), got shapes "
            f"{[a.shape for a in arrays]}"
        )
    return arrays, features, units


def _windows(name: str, X, lookback: int | None, features: int) -> np.ndarray:
    """Windows as float32 (n, lookback, features); (n, lookback) is read as one feature."""
    X = as_float_array(name, X, ndim=(2, 3))
    if X.ndim == 2:
        X = X[..., None]
    if len(X) == 0 or X.shape[2] != features or (lookback is not None and X.shape[1] != lookback):
        want = f"(n >= 1, {'any' if lookback is None else lookback}, {features})"
        raise ValueError(f"{name} must have shape {want}, got {X.shape}")
    return X.astype(np.float32)


def _targets(name: str, y, n: int) -> np.ndarray:
    y = as_float_array(name, y, ndim=(1, 2))
    if y.ndim == 2 and y.shape[1] != 1:
        raise ValueError(f"{name} must be (n,) or (n, 1), got shape {y.shape}")
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"{name} must have one target per window ({n}), got {len(y)}")
    return y


def _check_job(k: int, job) -> dict:
    """Job ``k``'s arrays, checked, with its copy shape (lookback, features, units)."""
    if not isinstance(job, LSTMJob):
        raise ValueError(f"jobs[{k}] must be an LSTMJob, got {type(job).__name__}")
    try:
        weights = lstm_dense_weights(job.model)
    except ValueError as err:
        raise ValueError(f"jobs[{k}].{err}") from None
    shape = tuple(job.model.inputs[0].shape) if getattr(job.model, "inputs", None) else ()
    if len(shape) != 3 or shape[1] is None:
        raise ValueError(f"jobs[{k}].model must have a fixed input shape (lookback, features)")
    _, lookback, features = shape
    units = weights[1].shape[0]
    X = _windows(f"jobs[{k}].X", job.X, lookback, features)
    y = _targets(f"jobs[{k}].y", job.y, len(X)).astype(np.float32)
    check_int(f"jobs[{k}].seed", job.seed, minimum=0)
    check_int(f"jobs[{k}].epochs", job.epochs, minimum=1)
    validation = None
    if job.validation is not None:
        if not isinstance(job.validation, tuple | list) or len(job.validation) != 2:
            raise ValueError(f"jobs[{k}].validation must be a pair (X_val, y_val)")
        X_val = _windows(f"jobs[{k}].validation X", job.validation[0], lookback, features)
        y_val = _targets(f"jobs[{k}].validation y", job.validation[1], len(X_val))
        validation = (X_val, y_val)
    return {"weights": weights, "shape": (lookback, features, units), "X": X, "y": y,
            "validation": validation}  # fmt: skip
