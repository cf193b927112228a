"""NumPy forward passes of recurrent cells, in the weight layout Keras uses.

Each function takes ``x`` of shape (batch, time, features) and the arrays in the
order ``layer.get_weights()`` returns them, and gives the hidden sequence
(batch, time, units). They exist to show that the equations in the book are exactly
what Keras computes: :func:`rnn_forward` for ``SimpleRNN``, :func:`lstm_forward` for
``LSTM`` and :func:`gru_forward` for ``GRU``. The ``split_*_weights`` helpers name the
per-gate blocks inside Keras' fused weight matrices, and the ``*_param_count`` functions
give the parameter counts that ``model.count_params()`` reports.
"""

from __future__ import annotations

import numpy as np

from tutorials_lib._checks import as_float_array, check_int, check_shape

__all__ = [
    "ACTIVATIONS",
    "GATE_ACTIVATIONS",
    "GRU_GATES",
    "LSTM_GATES",
    "dense_param_count",
    "gru_forward",
    "gru_param_count",
    "lstm_forward",
    "lstm_param_count",
    "rnn_forward",
    "split_gru_weights",
    "split_lstm_weights",
]

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; the two branches agree where both are finite.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


#: Gate (recurrent) activations: Keras' default ``"sigmoid"`` and its piecewise-linear
#: ``"hard_sigmoid"`` (``clip(z / 6 + 1/2, 0, 1)`` in Keras 3).
GATE_ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
}

#: Order of the per-gate blocks inside Keras' fused LSTM weights (columns of the kernels,
#: entries of the bias): input, forget, candidate cell, output.
LSTM_GATES = ("input", "forget", "candidate", "output")

#: Order of the per-gate blocks inside Keras' fused GRU weights: update, reset, candidate.
GRU_GATES = ("update", "reset", "candidate")


def _check_activation(name: str, value: str, table: dict) -> None:
    if value not in table:
        raise ValueError(f"{name} must be one of {sorted(table)}, got {value!r}")


def _check_sequence(x) -> np.ndarray:
    """``x`` as a float64 (batch, time, features) array with at least one step."""
    x = as_float_array("x", x, ndim=3).astype(np.float64)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x needs at least one sequence and one time step, got shape {x.shape}")
    return x


def _check_fused(
    kernel, recurrent_kernel, n_gates: int, features: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate fused kernels of shape (features, g*units) and (units, g*units); return units."""
    kernel = as_float_array("kernel", kernel, ndim=2).astype(np.float64)
    if kernel.shape[1] == 0 or kernel.shape[1] % n_gates:
        raise ValueError(
            f"kernel must have {n_gates} * units columns (one block per gate), "
            f"got shape {kernel.shape}"
        )
    units = kernel.shape[1] // n_gates
    if features is not None:
        check_shape("kernel", kernel, (features, n_gates * units))
    recurrent_kernel = as_float_array("recurrent_kernel", recurrent_kernel, ndim=2)
    check_shape("recurrent_kernel", recurrent_kernel, (units, n_gates * units))
    return kernel, recurrent_kernel.astype(np.float64), units


def _initial_state(name: str, value, batch: int, units: int) -> np.ndarray:
    if value is None:
        return np.zeros((batch, units))
    state = as_float_array(name, value, ndim=2).astype(np.float64)
    check_shape(name, state, (batch, units))
    return state


def rnn_forward(
    x,
    kernel,
    recurrent_kernel,
    bias,
    h0=None,
    activation: str = "tanh",
) -> np.ndarray:
    """Run an Elman RNN, ``h_t = act(x_t W + h_{t-1} U + b)``, over every time step.

    ``kernel`` is (features, units), ``recurrent_kernel`` (units, units) and ``bias``
    (units,), as ``keras.layers.SimpleRNN.get_weights()`` returns them. ``h0`` is the
    initial state (batch, units), zeros by default. Computes in float64, like the gated cells.
    """
    x = _check_sequence(x)
    batch, _, features = x.shape
    kernel, recurrent_kernel, units = _check_fused(kernel, recurrent_kernel, 1, features)
    bias = as_float_array("bias", bias, ndim=1).astype(np.float64)
    check_shape("bias", bias, (units,))
    _check_activation("activation", activation, ACTIVATIONS)
    act = ACTIVATIONS[activation]
    h = _initial_state("h0", h0, batch, units)

    outputs = []
    for x_t in np.moveaxis(x, 1, 0):  # one (batch, features) slice per step
        h = act(x_t @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def _lstm_blocks(kernel, recurrent_kernel, bias, units: int) -> dict[str, dict[str, np.ndarray]]:
    """Per-gate blocks of validated fused LSTM kernels; checks and splits the bias."""
    if bias is None:
        bias = np.zeros(4 * units)
    bias = as_float_array("bias", bias, ndim=1).astype(np.float64)
    check_shape("bias", bias, (4 * units,))
    blocks = {}
    for k, gate in enumerate(LSTM_GATES):
        cols = slice(k * units, (k + 1) * units)
        blocks[gate] = {"W": kernel[:, cols], "U": recurrent_kernel[:, cols], "b": bias[cols]}
    return blocks


def split_lstm_weights(kernel, recurrent_kernel, bias=None) -> dict[str, dict[str, np.ndarray]]:
    """Split Keras' fused LSTM weights into named per-gate blocks.

    Returns ``{gate: {"W": (features, units), "U": (units, units), "b": (units,)}}`` for the
    gates in :data:`LSTM_GATES` order (input, forget, candidate, output). ``bias=None``
    (a layer built with ``use_bias=False``) gives zero biases.
    """
    kernel, recurrent_kernel, units = _check_fused(kernel, recurrent_kernel, 4)
    return _lstm_blocks(kernel, recurrent_kernel, bias, units)


def _gru_blocks(
    kernel, recurrent_kernel, bias, units: int, reset_after: bool
) -> dict[str, dict[str, np.ndarray]]:
    """Per-gate blocks of validated fused GRU kernels; checks and splits the bias."""
    if bias is None:
        input_bias = recurrent_bias = np.zeros(3 * units)
    elif reset_after:
        bias = as_float_array("bias", bias, ndim=2).astype(np.float64)
        check_shape("bias", bias, (2, 3 * units))
        input_bias, recurrent_bias = bias
    else:
        bias = as_float_array("bias", bias, ndim=1).astype(np.float64)
        check_shape("bias", bias, (3 * units,))
        input_bias, recurrent_bias = bias, np.zeros(3 * units)
    blocks = {}
    for k, gate in enumerate(GRU_GATES):
        cols = slice(k * units, (k + 1) * units)
        blocks[gate] = {
            "W": kernel[:, cols],
            "U": recurrent_kernel[:, cols],
            "b": input_bias[cols],
            "b_rec": recurrent_bias[cols],
        }
    return blocks


def _check_reset_after(reset_after) -> None:
    if not isinstance(reset_after, bool):
        raise ValueError(f"reset_after must be True or False, got {reset_after!r}")


def split_gru_weights(
    kernel, recurrent_kernel, bias=None, reset_after: bool = True
) -> dict[str, dict[str, np.ndarray]]:
    """Split Keras' fused GRU weights into named per-gate blocks.

    Returns ``{gate: {"W", "U", "b", "b_rec"}}`` for the gates in :data:`GRU_GATES` order
    (update, reset, candidate). With ``reset_after=True`` (the Keras default) the bias is
    (2, 3*units): row 0 is added to the input projection ``x W``, row 1 (``b_rec``) to the
    recurrent projection ``h U``. With ``reset_after=False`` the bias is (3*units,) and
    ``b_rec`` is zero. ``bias=None`` (``use_bias=False``) gives zero biases.
    """
    _check_reset_after(reset_after)
    kernel, recurrent_kernel, units = _check_fused(kernel, recurrent_kernel, 3)
    return _gru_blocks(kernel, recurrent_kernel, bias, units, reset_after)


def lstm_forward(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    h0=None,
    c0=None,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    return_state: bool = False,
    return_gates: bool = False,
):
    """Run an LSTM over every time step, in float64, with Keras' weights and gate order.

    Per step (rows are sequences, ``*`` is the element-wise product)::

        i = sigma(x W_i + h U_i + b_i)        f = sigma(x W_f + h U_f + b_f)
        c~ = tanh(x W_c + h U_c + b_c)        o = sigma(x W_o + h U_o + b_o)
        c = f * c + i * c~                    h = o * tanh(c)

    ``kernel`` (features, 4*units), ``recurrent_kernel`` (units, 4*units) and ``bias``
    (4*units,) are what ``keras.layers.LSTM.get_weights()`` returns (``bias=None`` for
    ``use_bias=False``). ``h0`` and ``c0`` are initial states (batch, units), zeros by default.

    Returns the hidden sequence (batch, time, units). With ``return_state`` also the final
    cell state (batch, units); with ``return_gates`` also a dict of (batch, time, units)
    arrays: the four gates of :data:`LSTM_GATES` and ``"cell"``, the cell state after each
    step. The extras follow the hidden sequence in that order.
    """
    x = _check_sequence(x)
    batch, _, features = x.shape
    kernel, recurrent_kernel, units = _check_fused(kernel, recurrent_kernel, 4, features)
    blocks = _lstm_blocks(kernel, recurrent_kernel, bias, units)
    _check_activation("activation", activation, ACTIVATIONS)
    _check_activation("recurrent_activation", recurrent_activation, GATE_ACTIVATIONS)
    act, gate_act = ACTIVATIONS[activation], GATE_ACTIVATIONS[recurrent_activation]
    h = _initial_state("h0", h0, batch, units)
    c = _initial_state("c0", c0, batch, units)

    def pre(gate: str, x_t: np.ndarray, h: np.ndarray) -> np.ndarray:
        w = blocks[gate]
        return x_t @ w["W"] + h @ w["U"] + w["b"]

    outputs = []
    record = {name: [] for name in (*LSTM_GATES, "cell")}
    for x_t in np.moveaxis(x, 1, 0):  # one (batch, features) slice per step
        i = gate_act(pre("input", x_t, h))
        f = gate_act(pre("forget", x_t, h))
        c_tilde = act(pre("candidate", x_t, h))
        o = gate_act(pre("output", x_t, h))
        c = f * c + i * c_tilde
        h = o * act(c)
        outputs.append(h)
        if return_gates:
            for name, value in zip(record, (i, f, c_tilde, o, c), strict=True):
                record[name].append(value)
    result = [np.stack(outputs, axis=1)]
    if return_state:
        result.append(c)
    if return_gates:
        result.append({name: np.stack(values, axis=1) for name, values in record.items()})
    return result[0] if len(result) == 1 else tuple(result)


def gru_forward(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    h0=None,
    reset_after: bool = True,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    return_gates: bool = False,
):
    """Run a GRU over every time step, in float64, with Keras' weights and gate order.

    Per step, with ``reset_after=True`` (Keras' default, the cuDNN form)::

        z = sigma(x W_z + b_z + h U_z + b'_z)    r = sigma(x W_r + b_r + h U_r + b'_r)
        h~ = tanh(x W_h + b_h + r * (h U_h + b'_h))
        h = z * h + (1 - z) * h~

    and with ``reset_after=False`` (Cho et al. 2014) the reset gate acts before the product:
    ``h~ = tanh(x W_h + (r * h) U_h + b_h)``. Note Keras keeps the *old* state where
    ``z`` is 1; some texts swap the roles of ``z`` and ``1 - z``.

    ``kernel`` (features, 3*units), ``recurrent_kernel`` (units, 3*units) and ``bias``
    ((2, 3*units) with ``reset_after=True``, (3*units,) without; ``None`` for
    ``use_bias=False``) are what ``keras.layers.GRU.get_weights()`` returns. ``h0`` is the
    initial state (batch, units), zeros by default.

    Returns the hidden sequence (batch, time, units); with ``return_gates`` also a dict of
    (batch, time, units) arrays for the gates of :data:`GRU_GATES`.
    """
    _check_reset_after(reset_after)
    x = _check_sequence(x)
    batch, _, features = x.shape
    kernel, recurrent_kernel, units = _check_fused(kernel, recurrent_kernel, 3, features)
    blocks = _gru_blocks(kernel, recurrent_kernel, bias, units, reset_after)
    _check_activation("activation", activation, ACTIVATIONS)
    _check_activation("recurrent_activation", recurrent_activation, GATE_ACTIVATIONS)
    act, gate_act = ACTIVATIONS[activation], GATE_ACTIVATIONS[recurrent_activation]
    h = _initial_state("h0", h0, batch, units)
    zb, rb, hb = blocks["update"], blocks["reset"], blocks["candidate"]

    outputs = []
    record = {name: [] for name in GRU_GATES}
    for x_t in np.moveaxis(x, 1, 0):  # one (batch, features) slice per step
        z = gate_act(x_t @ zb["W"] + zb["b"] + h @ zb["U"] + zb["b_rec"])
        r = gate_act(x_t @ rb["W"] + rb["b"] + h @ rb["U"] + rb["b_rec"])
        if reset_after:
            h_tilde = act(x_t @ hb["W"] + hb["b"] + r * (h @ hb["U"] + hb["b_rec"]))
        else:
            h_tilde = act(x_t @ hb["W"] + hb["b"] + (r * h) @ hb["U"])
        h = z * h + (1.0 - z) * h_tilde
        outputs.append(h)
        if return_gates:
            for name, value in zip(record, (z, r, h_tilde), strict=True):
                record[name].append(value)
    hidden = np.stack(outputs, axis=1)
    if return_gates:
        return hidden, {name: np.stack(values, axis=1) for name, values in record.items()}
    return hidden


def lstm_param_count(features: int, units: int, use_bias: bool = True) -> int:
    """Trainable parameters of ``keras.layers.LSTM(units)`` on ``features`` inputs.

    Four gates, each with a (features, units) kernel, a (units, units) recurrent kernel and
    a bias of ``units``: ``4 * (features*units + units*units + units)``.
    """
    features = check_int("features", features, minimum=1)
    units = check_int("units", units, minimum=1)
    return 4 * (features * units + units * units + (units if use_bias else 0))


def gru_param_count(
    features: int, units: int, reset_after: bool = True, use_bias: bool = True
) -> int:
    """Trainable parameters of ``keras.layers.GRU(units)`` on ``features`` inputs.

    Three gates: ``3 * (features*units + units*units + units)``, plus one more bias of
    ``3 * units`` with ``reset_after=True``, which keeps separate input and recurrent biases.
    """
    features = check_int("features", features, minimum=1)
    units = check_int("units", units, minimum=1)
    n_bias = (2 if reset_after else 1) * units if use_bias else 0
    return 3 * (features * units + units * units + n_bias)


def dense_param_count(features: int, units: int) -> int:
    """Trainable parameters of ``keras.layers.Dense(units)`` on ``features`` inputs."""
    features = check_int("features", features, minimum=1)
    units = check_int("units", units, minimum=1)
    return features * units + units
