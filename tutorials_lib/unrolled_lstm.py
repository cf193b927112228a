"""An LSTM layer's training pass written out step by step, bit for bit equal to Keras' loop.

Keras runs an LSTM on the CPU as a TensorFlow ``while`` loop. For the short windows of a
walk-forward (15 steps, batch 1) most of a training step's time goes to the loop's
bookkeeping (frames, stacks of saved activations), not to arithmetic. Keras' own
``unroll=True`` removes that, but its gradients differ in the last bits: the tape sums the
15 per-step weight gradients with ``AddN``, and TensorFlow's graph optimizer regroups such
sums, while the loop adds them one step at a time, latest first. Over thousands of batch-1
Adam updates those last bits grow into visibly different forecasts.

:func:`lstm_sequence` unrolls the loop and supplies its own gradient, made of the same
operations, in the same order, as TensorFlow's gradient of Keras' loop: per-step
``SigmoidGrad``/``TanhGrad``, the same products, and weight gradients added up latest step
first with ``BiasAdd``, an addition the graph optimizer leaves as written. Forward values and
gradients therefore equal those of the Keras layer exactly (tests check it), in well under
half the time (``benchmarks/walk_forward_speed.py`` measures it). :func:`call_model` runs a
``Sequential`` model with every eligible LSTM layer (see :func:`can_unroll`) replaced by it
and every other layer called as usual.

Chapter 4's :class:`~tutorials_lib.training.ParallelLSTMTrainer` writes the backward pass
out too, but regroups the products for speed (all steps' input products in one matrix
product), so its rounding is its own; this module keeps Keras' rounding instead.
"""

from __future__ import annotations

import keras
import tensorflow as tf

__all__ = ["call_model", "can_unroll", "lstm_sequence"]


def can_unroll(layer: keras.layers.Layer) -> bool:
    """Whether :func:`lstm_sequence` reproduces ``layer`` exactly.

    A stateless, forward-running Keras LSTM with its loop rolled (``unroll=False``: with
    ``unroll=True`` Keras' gradients are the ``AddN`` sums, not the loop's), a bias, the
    default activations (tanh, sigmoid) and no dropout inside the cell; anything else keeps
    Keras' own loop.
    """
    if type(layer) is not keras.layers.LSTM:
        return False
    cell = layer.cell
    return (
        not layer.stateful
        and not layer.unroll
        and not layer.go_backwards
        and not layer.return_state
        and cell.use_bias
        and cell.dropout == 0
        and cell.recurrent_dropout == 0
        and cell.implementation != 1
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
    )


def _accumulate(terms: list[tf.Tensor], shape: tuple[int, ...] | None = None) -> tf.Tensor:
    """``((0 + terms[0]) + terms[1]) + ...`` element by element, in exactly this order.

    A chain of ``AddV2`` would be regrouped by Grappler's arithmetic optimizer into one
    ``AddN``, whose rounding differs; a chain of ``BiasAdd`` on a one-row total is left as
    written. ``terms`` share one shape, or are flat vectors of a tensor of ``shape``.
    """
    if shape is None:
        shape = tuple(terms[0].shape)
        terms = [tf.reshape(term, (-1,)) for term in terms]
    total = tf.zeros((1, terms[0].shape[0]), terms[0].dtype)
    for term in terms:
        total = tf.nn.bias_add(total, term)
    return tf.reshape(total, shape)


def _opaque_copy(x: tf.Tensor) -> tf.Tensor:
    """``x`` copied through ``InplaceUpdate``, which Grappler does not look through.

    Keras' loop hands its output over through TensorFlow's tensor lists, so the ops around
    the layer never meet the cell's last multiplication; written out, Grappler would fold
    ``(o * tanh(c)) * scale`` of a following dropout into another order and round
    differently. The copy keeps that boundary, in both directions.
    """
    shape = tf.shape(x)
    flat = tf.reshape(x, (1, -1))
    fresh = tf.raw_ops.Empty(shape=tf.shape(flat), dtype=x.dtype, init=False)
    return tf.reshape(tf.raw_ops.InplaceUpdate(x=fresh, i=[0], v=flat), shape)


def _weight_gradients(saved: list, d_zs: list[tf.Tensor], single_row: bool) -> list[tf.Tensor]:
    """Kernel, recurrent-kernel and bias gradients from each step's gate gradient ``d_z``.

    ``d_zs`` come latest step first, the order in which the loop's gradient adds them up.
    Step ``t`` contributes ``x_t^T d_z``, ``h_{t-1}^T d_z`` and ``d_z`` summed over the
    batch. With one sample these are outer products, each entry a single rounded product,
    so all steps' are formed in one broadcast multiplication (what a one-row matrix product
    gives, entry for entry) and then added up step by step. With several, the batch sum is
    ``BiasAddGrad``: Keras adds the bias with ``BiasAdd``, and this is its gradient. A plain
    ``reduce_sum`` over the batch can round differently (it did at batches of 16 and more).
    """
    xs = [step[0] for step in saved][::-1]
    hs = [step[1] for step in saved][::-1]
    if single_row:
        ones = tf.ones((len(d_zs), 1), d_zs[0].dtype)
        rows = tf.concat([tf.concat(xs, axis=0), tf.concat(hs, axis=0), ones], axis=1)
        products = rows[:, :, None] * tf.concat(d_zs, axis=0)[:, None, :]
        shape = tuple(products.shape[1:])
        total = _accumulate(tf.unstack(tf.reshape(products, (len(d_zs), -1))), shape)
        n_in, n_units = xs[0].shape[1], hs[0].shape[1]
        return [total[:n_in], total[n_in : n_in + n_units], total[-1]]
    return [
        _accumulate([tf.matmul(v, d, transpose_a=True) for v, d in zip(xs, d_zs, strict=True)]),
        _accumulate([tf.matmul(v, d, transpose_a=True) for v, d in zip(hs, d_zs, strict=True)]),
        _accumulate([tf.raw_ops.BiasAddGrad(out_backprop=d) for d in d_zs]),
    ]


@tf.autograph.experimental.do_not_convert  # plain Python loops over the time steps
def lstm_sequence(
    x: tf.Tensor,
    kernel: tf.Tensor,
    recurrent_kernel: tf.Tensor,
    bias: tf.Tensor,
    *,
    return_sequences: bool,
    input_gradient: bool = True,
) -> tf.Tensor:
    """A Keras LSTM (zero initial state) over ``x`` of shape (batch, time, features).

    Returns the last hidden state (batch, units), or every step's (batch, time, units) when
    ``return_sequences``. ``input_gradient=False`` skips the gradient with respect to ``x``
    (raw data needs none); the weights always get theirs.
    """
    steps = x.shape[1]
    if steps is None:
        raise ValueError("lstm_sequence needs a static number of time steps")
    single_row = x.shape[0] == 1

    @tf.custom_gradient
    def run(x, kernel, recurrent_kernel, bias):
        h = c = tf.zeros((tf.shape(x)[0], recurrent_kernel.shape[0]), x.dtype)
        saved, outputs = [], []
        for x_t in tf.unstack(x, axis=1):
            z = tf.matmul(x_t, kernel) + tf.matmul(h, recurrent_kernel) + bias
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=1)
            i, f, g = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_c)
            c_new = f * c + i * g
            o = tf.sigmoid(z_o)
            tanh_c = tf.tanh(c_new)
            saved.append((x_t, h, c, i, f, g, o, tanh_c))
            h, c = o * tanh_c, c_new
            outputs.append(h)
        out = _opaque_copy(tf.stack(outputs, axis=1) if return_sequences else h)

        def grad(upstream):
            upstream = _opaque_copy(upstream)
            d_zs, d_inputs = [], []  # latest step first
            d_h = d_c = None
            for t in reversed(range(steps)):
                _, _, c_prev, i, f, g, o, tanh_c = saved[t]
                if return_sequences:
                    d_h = upstream[:, t] if d_h is None else d_h + upstream[:, t]
                elif d_h is None:
                    d_h = upstream
                d_o = d_h * tanh_c
                d_tanh_c = tf.raw_ops.TanhGrad(y=tanh_c, dy=d_h * o)
                d_c = d_tanh_c if d_c is None else d_c + d_tanh_c
                d_z = tf.concat(
                    [
                        tf.raw_ops.SigmoidGrad(y=i, dy=d_c * g),
                        tf.raw_ops.SigmoidGrad(y=f, dy=d_c * c_prev),
                        tf.raw_ops.TanhGrad(y=g, dy=d_c * i),
                        tf.raw_ops.SigmoidGrad(y=o, dy=d_o),
                    ],
                    axis=1,
                )
                d_zs.append(d_z)
                if input_gradient:
                    d_inputs.append(tf.matmul(d_z, kernel, transpose_b=True))
                d_h = tf.matmul(d_z, recurrent_kernel, transpose_b=True)
                d_c = d_c * f
            d_x = tf.stack(d_inputs[::-1], axis=1) if input_gradient else None
            return (d_x, *_weight_gradients(saved, d_zs, single_row))

        return out, grad

    return run(x, kernel, recurrent_kernel, bias)


@tf.autograph.experimental.do_not_convert
def call_model(model: keras.Sequential, x: tf.Tensor, *, training: bool) -> tf.Tensor:
    """``model(x, training=training)`` with every :func:`can_unroll` LSTM run unrolled.

    The first layer's input is data and gets no gradient; later layers pass theirs on.
    """
    if not isinstance(model, keras.Sequential):
        raise ValueError(f"call_model needs a keras.Sequential model, got {type(model).__name__}")
    out = x
    for position, layer in enumerate(model.layers):
        if can_unroll(layer):
            cell = layer.cell
            out = lstm_sequence(
                out,
                cell.kernel.value,
                cell.recurrent_kernel.value,
                cell.bias.value,
                return_sequences=layer.return_sequences,
                input_gradient=position > 0,
            )
        else:
            out = layer(out, training=training)
    return out
