"""NumPy forward passes of recurrent cells, in the weight layout Keras uses.

Each function takes ``x`` of shape (batch, time, features) and the arrays in the
order ``layer.get_weights()`` returns them, and gives the hidden sequence
(batch, time, units). They exist to show that the equations in the book are exactly
what Keras computes.
"""

from __future__ import annotations

import numpy as np

from tutorials_lib._checks import as_float_array, check_shape

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "linear": lambda z: z,
}


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
    initial state (batch, units), zeros by default.
    """
    x = as_float_array("x", x, ndim=3)
    kernel = as_float_array("kernel", kernel, ndim=2)
    batch, steps, features = x.shape
    if batch == 0 or steps == 0:
        raise ValueError(f"x needs at least one sequence and one time step, got shape {x.shape}")
    units = kernel.shape[1]
    check_shape("kernel", kernel, (features, units))
    recurrent_kernel = as_float_array("recurrent_kernel", recurrent_kernel, ndim=2)
    check_shape("recurrent_kernel", recurrent_kernel, (units, units))
    bias = as_float_array("bias", bias, ndim=1)
    check_shape("bias", bias, (units,))
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    act = ACTIVATIONS[activation]
    if h0 is None:
        h = np.zeros((batch, units))
    else:
        h = as_float_array("h0", h0, ndim=2)
        check_shape("h0", h, (batch, units))

    outputs = []
    for x_t in np.moveaxis(x, 1, 0):  # one (batch, features) slice per step
        h = act(x_t @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, axis=1)
