"""Many small recurrent networks trained side by side in one TensorFlow graph.

A *network* here is one Keras recurrent layer (``SimpleRNN``, ``LSTM``, or ``GRU`` in Keras'
default ``reset_after=True`` form) followed by ``Dense(1)`` on its last hidden state. Training
dozens of them one ``model.fit`` at a time costs a graph and a Python loop each; here the
weights of many networks are stacked along a leading axis, each in the layout
``layer.get_weights()`` uses, and one compiled step updates all of them at once.

Nothing couples the networks. The loss is the *sum* of each network's own mean squared
error, so the gradient with respect to one network's weights is the gradient of its own
loss, and Adam updates every weight from that weight's own gradient history. Each network
therefore follows the path it would follow if trained alone as a Keras model (same initial
weights, same batches, ``keras.optimizers.Adam``), up to float32 round-off:
``tests/test_side_by_side.py`` checks this against Keras models trained on their own.

Networks may read sequences of different lengths: shorter ones are padded at the start, and
a network only starts computing at its first real step, which is exactly a run on the
shorter sequence. Sorting the networks longest first makes the networks running at any
step a prefix of the stack, so padded steps cost nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.executor import graph_executor

if TYPE_CHECKING:  # imported where it is used, so that importing this module stays light
    import tensorflow as tf

__all__ = [
    "ADAM_BETA_1",
    "ADAM_BETA_2",
    "ADAM_EPSILON",
    "BLOCKS",
    "Networks",
    "adam_rate",
    "adam_update",
    "batch_order",
    "initial_networks",
    "pad_start",
    "predict",
    "train",
]

#: Cell types and the number of fused weight blocks each has in Keras.
BLOCKS = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}

#: keras.optimizers.Adam's defaults.
ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-7


def adam_rate(learning_rate: float | tf.Tensor, step: float | tf.Tensor) -> tf.Tensor:
    """Adam's bias-corrected step size for update number ``step`` (1 for the first), a float32
    tensor, computed as Keras 3's ``Adam.update_step`` computes it."""
    import tensorflow as tf

    return (
        learning_rate
        * tf.sqrt(1 - tf.pow(tf.constant(ADAM_BETA_2), step))
        / (1 - tf.pow(tf.constant(ADAM_BETA_1), step))
    )


def adam_update(
    grad: tf.Tensor, m: tf.Tensor | tf.Variable, v: tf.Tensor | tf.Variable, rate: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """One Adam update of one weight, in Keras 3's operations and order: ``(m, v, delta)``.

    ``m`` and ``v`` are the weight's first and second moments before the update, ``rate``
    the step size of :func:`adam_rate`; returns the new moments and ``delta``, which the
    update subtracts from the weight.
    """
    import tensorflow as tf

    m = m + (grad - m) * (1 - ADAM_BETA_1)
    v = v + (tf.square(grad) - v) * (1 - ADAM_BETA_2)
    return m, v, (m * rate) / (tf.sqrt(v) + ADAM_EPSILON)


def _check_cell(cell: str) -> str:
    if cell not in BLOCKS:
        raise ValueError(f"cell must be one of {sorted(BLOCKS)}, got {cell!r}")
    return cell


@dataclass(frozen=True)
class Networks:
    """Independent networks of one cell type, each weight array stacked along axis 0.

    ``weights`` is ``(kernel, recurrent_kernel, bias, head_kernel, head_bias)``: entry ``k``
    of the first three is what ``layer.get_weights()`` returns for network ``k``'s
    recurrent layer, entry ``k`` of the last two its ``Dense(1)`` head's.
    """

    cell: str
    weights: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        _check_cell(self.cell)
        if len(self.weights) != 5:
            raise ValueError(f"weights must hold 5 stacked arrays, got {len(self.weights)}")
        kernel, recurrent, bias, head_kernel, head_bias = self.weights
        n, units, blocks = len(kernel), recurrent.shape[1], BLOCKS[self.cell]
        bias_shape = (n, 2, blocks * units) if self.cell == "GRU" else (n, blocks * units)
        expected = {
            "kernel": (kernel, (n, kernel.shape[1], blocks * units)),
            "recurrent_kernel": (recurrent, (n, units, blocks * units)),
            "bias": (bias, bias_shape),
            "head_kernel": (head_kernel, (n, units, 1)),
            "head_bias": (head_bias, (n, 1)),
        }
        for name, (array, shape) in expected.items():
            if array.shape != shape:
                raise ValueError(f"{self.cell} {name} must have shape {shape}, got {array.shape}")

    def __len__(self) -> int:
        return len(self.weights[0])

    def _index(self, k: int) -> int:
        k = check_int("k", k, minimum=0)
        if k >= len(self):
            raise ValueError(f"k must be < the number of networks ({len(self)}), got {k}")
        return k

    def layer_weights(self, k: int) -> list[np.ndarray]:
        """Network ``k``'s recurrent layer weights, as its ``set_weights`` takes them."""
        k = self._index(k)
        return [np.array(w[k]) for w in self.weights[:3]]

    def head_weights(self, k: int) -> list[np.ndarray]:
        """Network ``k``'s ``Dense(1)`` weights."""
        k = self._index(k)
        return [np.array(w[k]) for w in self.weights[3:]]


def initial_networks(
    cell: str,
    n_networks: int,
    features: int,
    units: int,
    seed: int,
    chrono_max: int | None = None,
) -> Networks:
    """``n_networks`` networks with Keras' default initial weights, network ``k`` seeded by
    ``(seed, k)``.

    The default is ``keras.layers.<cell>(units)``'s: Glorot-uniform kernel, orthogonal
    recurrent kernel, zero biases except the LSTM's forget-gate biases, which are 1; then a
    ``Dense(1)`` head, Glorot-uniform with a zero bias. With ``chrono_max`` (LSTM only) the
    gate biases follow the chrono initialisation of Tallec and Ollivier (2018): forget-gate
    biases ``log(u)`` with ``u`` uniform in ``[1, chrono_max - 1]``, input-gate biases their
    negatives, so each unit starts with a memory of up to ``chrono_max`` steps. Every other
    weight equals the default's for the same ``seed``: the two differ in the gate biases only.
    """
    import keras

    _check_cell(cell)
    n_networks = check_int("n_networks", n_networks, minimum=1)
    features = check_int("features", features, minimum=1)
    units = check_int("units", units, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if chrono_max is not None:
        if cell != "LSTM":
            raise ValueError(f"chrono_max applies to LSTM networks only, got cell={cell!r}")
        chrono_max = check_int("chrono_max", chrono_max, minimum=3)
    width = BLOCKS[cell] * units
    stacked: list[list[np.ndarray]] = [[] for _ in range(5)]
    for k in range(n_networks):
        s_kernel, s_recurrent, s_head, s_chrono = (
            int(s) for s in np.random.SeedSequence([seed, k]).generate_state(4)
        )
        kernel = keras.initializers.GlorotUniform(seed=s_kernel)((features, width))
        recurrent = keras.initializers.Orthogonal(seed=s_recurrent)((units, width))
        bias = np.zeros((2, width) if cell == "GRU" else width, np.float32)
        if cell == "LSTM":
            bias[units : 2 * units] = 1.0  # unit_forget_bias=True
        if chrono_max is not None:
            u = np.random.default_rng(s_chrono).uniform(1.0, chrono_max - 1.0, size=units)
            # math.log: the same bits whatever SIMD paths NumPy takes on this CPU
            forget = np.array([math.log(v) for v in u], dtype=np.float32)
            bias[:units], bias[units : 2 * units] = -forget, forget
        head_kernel = keras.initializers.GlorotUniform(seed=s_head)((units, 1))
        arrays = (kernel, recurrent, bias, head_kernel, np.zeros(1, np.float32))
        for target, w in zip(stacked, arrays, strict=True):
            target.append(np.asarray(w, dtype=np.float32))
    return Networks(cell, tuple(np.stack(ws) for ws in stacked))


def batch_order(n_samples: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """Sample indices of each training step, shape (steps, batch_size).

    Epochs of random permutations laid end to end and cut into batches: every sample is
    used once before any is used twice. A Keras model fitted with ``shuffle=False`` on
    ``x[order.ravel()]`` sees the same batches.
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    epochs = -(-steps * batch_size // n_samples)
    order = np.concatenate([rng.permutation(n_samples) for _ in range(epochs)])
    return order[: steps * batch_size].reshape(steps, batch_size)


def pad_start(groups: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Stack groups of sequences of different lengths, padding the shorter ones at the start.

    ``groups[g]`` is (samples, time_g, features), the same samples and features for every
    group. Returns ``x`` (groups, samples, max time, features), zeros before each group's
    first step, and ``lengths`` (groups,), the ``time_g``: what :func:`train` and
    :func:`predict` take.
    """
    if len(groups) == 0:
        raise ValueError("groups must hold at least one array of sequences")
    arrays = [as_float_array(f"groups[{g}]", a, ndim=3) for g, a in enumerate(groups)]
    shape = arrays[0].shape
    for g, a in enumerate(arrays):
        if a.shape[0] != shape[0] or a.shape[2] != shape[2] or a.shape[1] == 0:
            raise ValueError(
                f"groups[{g}] must be (samples={shape[0]}, time >= 1, features={shape[2]}), "
                f"got shape {a.shape}"
            )
    lengths = np.array([a.shape[1] for a in arrays], dtype=np.int64)
    x = np.zeros((len(arrays), shape[0], lengths.max(), shape[2]), dtype=np.float32)
    for g, a in enumerate(arrays):
        x[g, :, x.shape[2] - a.shape[1] :] = a
    return x, lengths


def _check_data(networks, x, data_of, lengths, y=None):
    """Validate the networks and data; return x, data_of, lengths (and y) as arrays."""
    if not isinstance(networks, Mapping) or not networks:
        raise ValueError("networks must be a non-empty mapping of name -> Networks")
    x = as_float_array("x", x, ndim=4).astype(np.float32)
    groups, samples, time, features = x.shape
    if min(x.shape) == 0:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    data_of = np.asarray(data_of)
    if data_of.ndim != 1 or len(data_of) == 0 or not np.issubdtype(data_of.dtype, np.integer):
        raise ValueError(f"data_of must be a non-empty 1-d array of integers, got {data_of!r}")
    if data_of.min() < 0 or data_of.max() >= groups:
        raise ValueError(f"data_of entries must index the {groups} groups of x, got {data_of}")
    lengths = np.full(groups, time) if lengths is None else np.asarray(lengths)
    if lengths.shape != (groups,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must hold one integer per group ({groups}), got {lengths!r}")
    if lengths.min() < 1 or lengths.max() > time:
        raise ValueError(f"lengths must be between 1 and x's {time} steps, got {lengths}")
    for name, nets in networks.items():
        if not isinstance(nets, Networks):
            raise ValueError(f"networks[{name!r}] must be a Networks, got {type(nets).__name__}")
        if len(nets) != len(data_of):
            raise ValueError(
                f"networks[{name!r}] holds {len(nets)} networks, data_of names {len(data_of)}"
            )
        if nets.weights[0].shape[1] != features:
            raise ValueError(
                f"networks[{name!r}] take {nets.weights[0].shape[1]} features, x has {features}"
            )
    if y is not None:
        y = as_float_array("y", y, ndim=2).astype(np.float32)
        if y.shape != (groups, samples):
            raise ValueError(f"y must have shape {(groups, samples)}, like x, got {y.shape}")
    return x, data_of.astype(np.int32), lengths.astype(np.int32), y


def _cell_step(tf, cell, z_x, recurrent, recurrent_bias, h, c):
    """One step of ``cell`` for a stack of networks: the new (h, c).

    ``z_x`` is the input product ``x_t @ kernel`` plus the input bias; ``recurrent_bias`` is
    the GRU's second bias row (None for the other cells).
    """
    z_h = tf.einsum("nbu,nuk->nbk", h, recurrent)
    if cell == "SimpleRNN":
        return tf.tanh(z_x + z_h), c
    if cell == "LSTM":
        i, f, g, o = tf.split(z_x + z_h, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c
    # GRU, reset_after=True: the reset gate scales the recurrent product, bias included
    xz, xr, xh = tf.split(z_x, 3, axis=-1)
    hz, hr, hh = tf.split(z_h + recurrent_bias[:, None, :], 3, axis=-1)
    update = tf.sigmoid(xz + hz)
    reset = tf.sigmoid(xr + hr)
    return update * h + (1.0 - update) * tf.tanh(xh + reset * hh), c


def _outputs(tf, cells, weights, xs, running):
    """Predictions (networks, batch) of each stack of networks, one loop over time for all.

    ``cells[key]`` is a stack's cell type, ``weights[key]`` its stacked weights, ``xs[key]``
    its inputs (time, networks, batch, features) and ``running[key][t]`` how many of its
    networks (a prefix: they are sorted longest sequence first) run at step ``t``; the
    others keep their zero initial state.
    """
    time = next(iter(xs.values())).shape[0]
    inputs, states = {}, {}
    for key, (kernel, _, bias, *_head) in weights.items():
        input_bias = bias[:, 0, :] if cells[key] == "GRU" else bias
        z_x = tf.einsum("tnbd,ndk->tnbk", xs[key], kernel) + input_bias[None, :, None, :]
        inputs[key] = tf.TensorArray(tf.float32, size=time).unstack(z_x)
        zeros = tf.zeros_like(z_x[0, :, :, : weights[key][1].shape[1]])
        states[key] = (zeros, zeros) if cells[key] == "LSTM" else (zeros,)

    def body(t, states):
        new = {}
        for key, state in states.items():
            n = running[key][t]
            recurrent, bias = weights[key][1][:n], weights[key][2][:n]
            h, c = state[0], state[-1]
            h_new, c_new = _cell_step(
                tf,
                cells[key],
                inputs[key].read(t)[:n],
                recurrent,
                bias[:, 1, :] if cells[key] == "GRU" else None,
                h[:n],
                c[:n],
            )
            new[key] = (tf.ensure_shape(tf.concat([h_new, h[n:]], axis=0), h.shape),)
            if cells[key] == "LSTM":
                new[key] += (tf.ensure_shape(tf.concat([c_new, c[n:]], axis=0), c.shape),)
        return t + 1, new

    _, states = tf.while_loop(
        lambda t, states: t < time, body, (0, states), maximum_iterations=time
    )
    return {
        key: tf.einsum("nbu,nuo->nbo", states[key][0], ws[3])[..., 0] + ws[4]
        for key, ws in weights.items()
    }


@dataclass(frozen=True)
class _Layout:
    """How the named networks are regrouped for computing: one stack per cell type (its
    key), rows sorted by the length of the sequences they read, longest first."""

    members: dict[str, list[tuple[str, int]]]  # cell type -> (name, k) of each row
    data_of: dict[str, np.ndarray]  # cell type -> data group of each row
    running: dict[str, np.ndarray]  # cell type -> rows running at each step, (time,)

    @property
    def cells(self) -> dict[str, str]:
        return {cell: cell for cell in self.members}

    @classmethod
    def of(cls, networks: Mapping[str, Networks], data_of, lengths, time) -> _Layout:
        members: dict[str, list[tuple[str, int]]] = {}
        for name, nets in networks.items():
            members.setdefault(nets.cell, []).extend((name, k) for k in range(len(nets)))
        groups, running = {}, {}
        for cell, rows in members.items():
            rows.sort(key=lambda row: -lengths[data_of[row[1]]])  # stable: ties keep order
            groups[cell] = np.array([data_of[k] for _, k in rows], dtype=np.int32)
            start = time - lengths[groups[cell]]
            running[cell] = (start[None, :] <= np.arange(time)[:, None]).sum(axis=1)
        return cls(members, groups, running)

    def stack(self, networks: Mapping[str, Networks]) -> dict[str, list[np.ndarray]]:
        """Each stack's weights, rows in layout order."""
        return {
            key: [np.stack([networks[n].weights[i][k] for n, k in rows]) for i in range(5)]
            for key, rows in self.members.items()
        }

    def unstack(self, networks: Mapping[str, Networks], stacks) -> dict[str, Networks]:
        """Back from stacks to the named networks (the inverse of :meth:`stack`)."""
        arrays = {name: [np.empty_like(w) for w in nets.weights] for name, nets in networks.items()}
        for key, rows in self.members.items():
            for row, (name, k) in enumerate(rows):
                for i in range(5):
                    arrays[name][i][k] = stacks[key][i][row]
        return {name: Networks(networks[name].cell, tuple(ws)) for name, ws in arrays.items()}

    def unstack_predictions(self, networks, per_stack) -> dict[str, np.ndarray]:
        """Each stack's (rows, samples) predictions back to name -> (networks, samples)."""
        out = {
            name: np.empty((len(nets), per_stack[nets.cell].shape[1]), np.float32)
            for name, nets in networks.items()
        }
        for key, rows in self.members.items():
            for row, (name, k) in enumerate(rows):
                out[name][k] = per_stack[key][row]
        return out


def _time_major(tf, x, data_of):
    """(groups, batch, time, features) -> (time, networks, batch, features)."""
    return tf.gather(tf.transpose(x, [2, 0, 1, 3]), data_of, axis=1)


def train(
    networks: Mapping[str, Networks],
    x,
    y,
    data_of,
    steps: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    lengths=None,
) -> dict[str, Networks]:
    """Train every network with Adam on its own mean squared error; return them trained.

    ``networks`` maps a name to a :class:`Networks`, all of the same count. ``x`` is
    (groups, samples, time, features) and ``y`` (groups, samples): network ``k`` of every
    entry learns ``y[data_of[k]]`` from ``x[data_of[k]]``. ``lengths[g]`` is the true length
    of group ``g``'s sequences, padded at the start up to ``time`` (default: no padding).
    Every network sees the same sample indices at each step, ``batch_order(..., seed)``;
    each weight moves as ``keras.optimizers.Adam(learning_rate)`` would move it.
    """
    import tensorflow as tf

    x, data_of, lengths, y = _check_data(networks, x, data_of, lengths, y)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    order = batch_order(x.shape[1], batch_size, steps, seed)
    layout = _Layout.of(networks, data_of, lengths, x.shape[2])
    data = {key: tf.constant(d) for key, d in layout.data_of.items()}
    running = {key: tf.constant(r, dtype=tf.int32) for key, r in layout.running.items()}
    variables = {key: [tf.Variable(w) for w in ws] for key, ws in layout.stack(networks).items()}
    flat = [v for vs in variables.values() for v in vs]
    moments = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in flat]
    iterations = tf.Variable(0.0)
    x_all, y_all = tf.constant(x), tf.constant(y)

    @tf.function(autograph=False)  # plain TensorFlow ops: nothing to convert
    def train_step(idx):
        x_batch, y_batch = tf.gather(x_all, idx, axis=1), tf.gather(y_all, idx, axis=1)
        xs = {key: _time_major(tf, x_batch, d) for key, d in data.items()}
        with tf.GradientTape() as tape:
            out = _outputs(tf, layout.cells, variables, xs, running)
            # The sum over networks of each one's own mean squared error: no coupling.
            errors = [(p - tf.gather(y_batch, data[key])) ** 2 for key, p in out.items()]
            loss = tf.add_n([tf.reduce_sum(tf.reduce_mean(e, axis=1)) for e in errors])
        grads = tape.gradient(loss, flat)
        iterations.assign_add(1.0)
        rate = adam_rate(learning_rate, iterations)
        for var, g, (m, v) in zip(flat, grads, moments, strict=True):  # keras.optimizers.Adam
            new_m, new_v, delta = adam_update(g, m, v, rate)
            m.assign(new_m)
            v.assign(new_v)
            var.assign_sub(delta)

    with graph_executor():
        for idx in order:
            train_step(tf.constant(idx, dtype=tf.int32))
    trained = {key: [v.numpy() for v in vs] for key, vs in variables.items()}
    return layout.unstack(networks, trained)


def predict(
    networks: Mapping[str, Networks], x, data_of, lengths=None, chunk: int = 128
) -> dict[str, np.ndarray]:
    """Each network's predictions on its data group: name -> (networks, samples).

    Computed ``chunk`` samples at a time.
    """
    import tensorflow as tf

    x, data_of, lengths, _ = _check_data(networks, x, data_of, lengths)
    chunk = check_int("chunk", chunk, minimum=1)
    layout = _Layout.of(networks, data_of, lengths, x.shape[2])
    data = {key: tf.constant(d) for key, d in layout.data_of.items()}
    running = {key: tf.constant(r, dtype=tf.int32) for key, r in layout.running.items()}
    weights = {key: [tf.constant(w) for w in ws] for key, ws in layout.stack(networks).items()}

    @tf.function(autograph=False)  # plain TensorFlow ops: nothing to convert
    def outputs(x_chunk):
        xs = {key: _time_major(tf, x_chunk, d) for key, d in data.items()}
        return _outputs(tf, layout.cells, weights, xs, running)

    with graph_executor():
        parts = [outputs(tf.constant(x[:, i : i + chunk])) for i in range(0, x.shape[1], chunk)]
    per_stack = {key: np.concatenate([p[key].numpy() for p in parts], axis=1) for key in data}
    return layout.unstack_predictions(networks, per_stack)
