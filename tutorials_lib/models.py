"""Keras 3 model builders and callbacks used by the chapters.

Builders take an explicit ``seed``: every initializer and dropout layer gets its own seed
derived from it, so the same seed gives the same initial weights and dropout masks without
touching the global random state.
"""

from __future__ import annotations

import keras

from tutorials_lib._checks import check_dropout as _check_dropout

__all__ = [
    "BatchMSE",
    "LossHistory",
    "build_stacked_rnn",
    "build_stateful_stacked_lstm",
    "build_stateless_lstm",
    "compile_for_fit",
    "lstm_forward_flops",
    "reset_states",
    "stateful_layers",
]

from tutorials_lib._checks import check_int


def _seeds(seed: int | None, count: int) -> list[int | None]:
    if seed is None:
        return [None] * count
    seed = check_int("seed", seed, minimum=0)
    return [seed * 1000 + k for k in range(count)]


class BatchMSE(keras.metrics.Metric):
    """Mean squared error of the latest batch only (not averaged over the epoch).

    In Keras 3 the ``loss`` that callbacks see after each batch is the running mean over
    the epoch so far; this metric reports the batch's own loss instead, for
    :class:`LossHistory`. Without sample weights it equals the batch's MSE loss.
    """

    def __init__(self, name: str = "batch_mse", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if sample_weight is not None:
            raise ValueError("BatchMSE does not support sample weights")
        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        self.value.assign(keras.ops.mean(keras.ops.square(y_pred - y_true)))

    def result(self):
        return self.value


class LossHistory(keras.callbacks.Callback):
    """Records the training loss of every batch, across every ``fit`` call it is given to.

    Keras' own History keeps one value per epoch; the walk-forward loop calls ``fit`` once
    per step, so a list that only grows shows the whole run batch by batch. The model must
    be compiled with the :class:`BatchMSE` metric (see :func:`compile_for_fit`): the
    ``loss`` entry of Keras 3's batch logs is a running mean over the epoch, not the batch.
    """

    def __init__(self, key: str = "batch_mse") -> None:
        super().__init__()
        self.key = key
        self.losses: list[float] = []

    def on_train_batch_end(self, batch, logs=None) -> None:
        if logs is None or self.key not in logs:
            raise ValueError(
                f"LossHistory needs {self.key!r} in the batch logs: compile the model with "
                "metrics=[BatchMSE()] (compile_for_fit does)"
            )
        self.losses.append(float(logs[self.key]))


def compile_for_fit(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile ``model`` with Adam(``learning_rate``), MSE loss and :class:`BatchMSE`."""
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse", metrics=[BatchMSE()])
    return model


def build_stateless_lstm(
    lookback: int,
    n_features: int,
    hidden: int = 32,
    dropout: float = 0.3,
    seed: int | None = None,
    unroll: bool = False,
) -> keras.Model:
    """LSTM(hidden) -> Dropout(dropout) -> Dense(1): one value from a (lookback, n_features) window.

    Not compiled: the walk-forward engine brings its own optimizer; call ``compile`` (or
    :func:`compile_for_fit`) to use ``fit``. ``hidden`` is the number of units of the single
    recurrent layer. ``unroll`` writes the time loop out as ``lookback`` copies of the cell:
    the same function, often faster on a CPU for short windows, slower to compile.
    """
    lookback = check_int("lookback", lookback, minimum=1)
    n_features = check_int("n_features", n_features, minimum=1)
    hidden = check_int("hidden", hidden, minimum=1)
    dropout = _check_dropout(dropout)
    s = _seeds(seed, 4)
    return keras.Sequential(
        [
            keras.Input(shape=(lookback, n_features)),
            keras.layers.LSTM(
                hidden,
                kernel_initializer=keras.initializers.GlorotUniform(seed=s[0]),
                recurrent_initializer=keras.initializers.Orthogonal(seed=s[1]),
                seed=s[0],
                unroll=bool(unroll),
            ),
            keras.layers.Dropout(dropout, seed=s[2]),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=s[3])),
        ],
        name="stateless_lstm",
    )


def build_stateful_stacked_lstm(
    batch_size: int,
    lookback: int,
    n_features: int,
    hidden: int = 32,
    dropout: float = 0.3,
    layers: int = 4,
    seed: int | None = None,
) -> keras.Model:
    """``layers`` stateful LSTM(hidden) layers, each followed by Dropout, then Dense(1).

    Stateful layers carry their final states over to the next batch, so the batch size is
    part of the model (``keras.Input(batch_shape=...)``); reset them with
    :func:`reset_states` between epochs. Every recurrent layer but the last returns its
    whole sequence so the next one sees every time step.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    lookback = check_int("lookback", lookback, minimum=1)
    n_features = check_int("n_features", n_features, minimum=1)
    hidden = check_int("hidden", hidden, minimum=1)
    layers = check_int("layers", layers, minimum=1)
    dropout = _check_dropout(dropout)
    s = _seeds(seed, 3 * layers + 1)
    stack: list = [keras.Input(batch_shape=(batch_size, lookback, n_features))]
    for k in range(layers):
        stack.append(
            keras.layers.LSTM(
                hidden,
                stateful=True,
                return_sequences=k < layers - 1,
                kernel_initializer=keras.initializers.GlorotUniform(seed=s[3 * k]),
                recurrent_initializer=keras.initializers.Orthogonal(seed=s[3 * k + 1]),
                seed=s[3 * k],
            )
        )
        stack.append(keras.layers.Dropout(dropout, seed=s[3 * k + 2]))
    stack.append(
        keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=s[-1]))
    )
    return keras.Sequential(stack, name="stateful_stacked_lstm")


def stateful_layers(model: keras.Model) -> list:
    """The layers of ``model`` that keep state between calls (``stateful=True``)."""
    return [layer for layer in model.layers if getattr(layer, "stateful", False)]


def reset_states(model: keras.Model) -> None:
    """Zero the carried states of every stateful layer (Keras 3: ``layer.reset_state()``)."""
    for layer in stateful_layers(model):
        layer.reset_state()


_RECURRENT = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


#: Activations a hidden Dense layer of :func:`build_stacked_rnn` may take.
_DENSE_ACTIVATIONS = frozenset({"relu", "linear", "tanh", "sigmoid"})


def build_stacked_rnn(
    lookback: int,
    n_features: int,
    units: tuple[int, ...] | list[int] = (50,),
    *,
    cell: str | tuple[str, ...] | list[str] = "lstm",
    dropout: float = 0.0,
    dense: tuple[int, ...] | list[int] = (),
    dense_activation: str = "relu",
    outputs: int = 1,
    bidirectional: bool = False,
    seed: int | None = None,
    name: str | None = None,
) -> keras.Model:
    """Stacked recurrent layers -> optional Dense layers -> Dense(outputs); not compiled.

    ``units[k]`` is the width of recurrent layer k; ``cell`` is ``"lstm"`` or ``"gru"`` for
    all of them, or one name per layer (a mixed LSTM/GRU stack). Every recurrent layer but
    the last returns its whole sequence, and each is followed by Dropout(``dropout``) when
    ``dropout > 0``. ``dense`` adds hidden Dense layers before the output layer, with
    ``dense_activation`` (ReLU by default; ``"linear"`` as in seed 002, where the hidden layer
    and the output then compose to one linear map).
    ``bidirectional`` wraps each recurrent layer in ``Bidirectional``: it reads the *input
    window* both ways, so the model stays causal in time (it never sees past the window's
    last day). Seeded initializers and dropout: the same ``seed``, the same network.
    """
    lookback = check_int("lookback", lookback, minimum=1)
    n_features = check_int("n_features", n_features, minimum=1)
    outputs = check_int("outputs", outputs, minimum=1)
    units = [check_int("units", u, minimum=1) for u in units]
    if not units:
        raise ValueError("units must name at least one recurrent layer")
    dense = [check_int("dense", d, minimum=1) for d in dense]
    cells = [cell] * len(units) if isinstance(cell, str) else list(cell)
    if len(cells) != len(units):
        raise ValueError(f"cell names {len(cells)} layers but units names {len(units)}")
    unknown = [c for c in cells if c not in _RECURRENT]
    if unknown:
        raise ValueError(f"cell must be one of {sorted(_RECURRENT)}, got {unknown[0]!r}")
    dropout = _check_dropout(dropout)
    if dense_activation not in _DENSE_ACTIVATIONS:
        raise ValueError(
            f"dense_activation must be one of {sorted(_DENSE_ACTIVATIONS)}, got "
            f"{dense_activation!r}"
        )
    s = iter(_seeds(seed, 3 * len(units) + len(dense) + 1))
    stack: list = [keras.Input(shape=(lookback, n_features))]
    for k, (width, kind) in enumerate(zip(units, cells, strict=True)):
        kernel_seed, recurrent_seed, dropout_seed = next(s), next(s), next(s)
        layer = _RECURRENT[kind](
            width,
            return_sequences=k < len(units) - 1,
            kernel_initializer=keras.initializers.GlorotUniform(seed=kernel_seed),
            recurrent_initializer=keras.initializers.Orthogonal(seed=recurrent_seed),
            seed=kernel_seed,
        )
        stack.append(keras.layers.Bidirectional(layer) if bidirectional else layer)
        if dropout > 0:
            stack.append(keras.layers.Dropout(dropout, seed=dropout_seed))
    for width in dense:
        stack.append(
            keras.layers.Dense(
                width,
                activation=dense_activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=next(s)),
            )
        )
    stack.append(
        keras.layers.Dense(
            outputs, kernel_initializer=keras.initializers.GlorotUniform(seed=next(s))
        )
    )
    default = "_".join(cells) if len(set(cells)) > 1 else f"stacked_{cells[0]}"
    return keras.Sequential(stack, name=name or default)


def lstm_forward_flops(units: list[int], inputs: int, steps: int) -> float:
    """Floating-point operations of a stack of LSTM layers' gate products, per window, forward.

    A layer of ``n`` units on ``m`` inputs multiplies ``[x_t, h_{t-1}]`` by its four gates'
    weights at every step: ``2 * 4n(m + n)`` operations (one multiply and one add each). Each
    layer's inputs are the previous layer's units. Training costs about three times this (the
    backward pass computes two products per forward one).
    """
    steps = check_int("steps", steps, minimum=1)
    m = check_int("inputs", inputs, minimum=1)
    flops = 0.0
    for n in units:
        n = check_int("units", n, minimum=1)
        flops += steps * 2 * 4 * n * (m + n)
        m = n
    return flops
