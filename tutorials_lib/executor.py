"""The executor that runs the library's compiled training and prediction graphs.

TensorFlow's default executor is built to run a graph's independent operations in parallel
on a thread pool. A recurrent network's update is hundreds of small operations, one after
another, and on a CPU the default executor's scheduling cost per operation can exceed the
arithmetic. Its single-threaded executor runs the operations one after another on the
calling thread. The operations, and so the numbers, are the same; each operation still uses
the intra-op threads for its own work.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

__all__ = ["GRAPH_EXECUTOR", "graph_executor"]

#: The executor :func:`graph_executor` selects. The single-threaded executor has no support
#: for TensorFlow's low-level loop primitives, so graphs traced under it keep ``while`` loops
#: as functional loops (as ``tf.function`` builds them anyway). ``None`` would select
#: TensorFlow's default executor.
GRAPH_EXECUTOR: str | None = "SINGLE_THREADED_EXECUTOR"


def graph_executor(single_threaded: bool = True) -> AbstractContextManager:
    """A context in which ``tf.function`` graphs are traced and run on :data:`GRAPH_EXECUTOR`
    (``single_threaded=False``: on TensorFlow's default executor)."""
    import tensorflow as tf  # imported late: importing the package must not import TensorFlow

    return tf.experimental.function_executor_type(GRAPH_EXECUTOR if single_threaded else None)
