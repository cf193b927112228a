"""Run many independent training runs, here or on a Dask cluster, with the same results.

A sweep is a list of tasks (one configuration and one seed each). :func:`run_tasks` runs
them in this process, in order, or, given a scheduler address, as Dask tasks on that
cluster's workers. Every task carries its own data and seed and builds its own model, so
where it runs does not change what it returns.

:func:`walk_forward_task` is the task of chapter 3: one walk-forward run described by a
:class:`WalkForwardTask`. Workers keep one compiled trainer per architecture and reuse it
for every further seed, as the chapter does in-process. :func:`local_cluster` starts the
cluster ``make reproduce`` and the tests use when no scheduler address is given.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tutorials_lib._checks import as_float_array, check_int
from tutorials_lib.repro import configure_tensorflow_env

__all__ = [
    "MALLOC_TRIM_VARIABLE",
    "TaskFailed",
    "WalkForwardTask",
    "local_cluster",
    "run_tasks",
    "walk_forward_task",
]


class TaskFailed(RuntimeError):
    """A task raised: the message names the task and the original error (also ``__cause__``)."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(f"task {name!r} failed: {type(error).__name__}: {error}")
        self.name = name
        self.error = error


def _named(tasks) -> dict[str, Any]:
    if isinstance(tasks, Mapping):
        bad = [k for k in tasks if not isinstance(k, str) or not k]
        if bad:
            raise ValueError(f"task names must be non-empty strings, got {bad[0]!r}")
        return dict(tasks)
    if isinstance(tasks, Sequence) and not isinstance(tasks, str):
        return {f"task {k}": task for k, task in enumerate(tasks)}
    raise ValueError(f"tasks must be a mapping {{name: task}} or a sequence, got {type(tasks)}")


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Mapping[str, Any] | Sequence[Any],
    scheduler_address: str | None = None,
) -> dict[str, Any] | list[Any]:
    """Return ``fn(task)`` for every task, in the order given.

    ``tasks`` is a mapping ``{name: task}`` (results come back as a dict with the same keys)
    or a sequence (results as a list; task ``k`` is named ``"task k"``). Without
    ``scheduler_address`` the tasks run here, one after another; with it (e.g.
    ``"tcp://10.0.0.5:8786"`` or a ``LocalCluster``'s ``scheduler_address``) they are
    submitted to that Dask scheduler and run on its workers. ``fn`` must be importable by
    the workers (a function of an installed module). If a task raises, :class:`TaskFailed`
    names it (with a cluster, the first failing one in the given order; the others are
    then cancelled).
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {fn!r}")
    named = _named(tasks)
    if scheduler_address is None:
        results = {}
        for name, task in named.items():
            try:
                results[name] = fn(task)
            except Exception as err:
                raise TaskFailed(name, err) from err
    else:
        if not isinstance(scheduler_address, str) or not scheduler_address:
            raise ValueError(
                f"scheduler_address must be an address string or None, got {scheduler_address!r}"
            )
        from distributed import Client

        with Client(scheduler_address, set_as_default=False) as client:
            run = uuid.uuid4().hex[:8]  # keys unique per call: no result reused from another
            futures = {
                name: client.submit(fn, task, key=f"{name}-{run}", pure=False)
                for name, task in named.items()
            }
            for name, future in futures.items():
                error = future.exception()  # waits for this task; None if it succeeded
                if error is not None:
                    raise TaskFailed(name, error) from error
            results = dict(zip(futures, client.gather(list(futures.values())), strict=True))
    return results if isinstance(tasks, Mapping) else list(results.values())


#: Dask's nanny sets this variable in every worker it starts (the configuration key
#: ``distributed.nanny.pre-spawn-environ``) so that glibc returns freed memory to the system
#: at once. Set at all, it also pins glibc's mmap threshold at 128 KiB: every tensor of a
#: recurrent layer's steps (a 450 x 1200 float32 gate block is 2 MiB) is then mapped,
#: zero-filled by the kernel and unmapped again, step after step, and chapter 7's LSTM(300)
#: trains markedly slower (``benchmarks/training_throughput.py`` times it with and without;
#: the performance appendix shows the factor).
MALLOC_TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"


def local_cluster(n_workers: int):
    """A Dask ``LocalCluster`` of ``n_workers`` single-threaded worker processes, local only.

    The workers start without :data:`MALLOC_TRIM_VARIABLE`, which slows recurrent layers
    (above), and without Dask's statistical profiler: it samples every thread's stack every
    10 ms for a dashboard this cluster does not have, taking the interpreter lock from the
    task each time. No dashboard, and the scheduler's own HTTP server (health and metrics routes, started even
    without a dashboard) binds 127.0.0.1 on a free port. Left to Dask, it would listen on
    every interface at port 8787, and a second cluster on the machine would warn that the port
    is taken. Workers get no memory limit: a notebook task's memory is in its kernel, a process
    of its own that Dask's per-worker limit would not see, and a sweep task's is one model's.
    """
    n_workers = check_int("n_workers", n_workers, minimum=1)
    import dask
    from distributed import LocalCluster

    # the nannies read their workers' environment and configuration when they are made, all
    # of them inside LocalCluster(); an environment variable set to None is left out
    settings = {
        f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM_VARIABLE}": None,
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(settings):
        return LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            memory_limit=0,
        )  # fmt: skip


@dataclass(frozen=True)
class WalkForwardTask:
    """One walk-forward run: the data, the model, the training settings and the seed.

    ``X`` is (n, lookback, features) and ``y`` (n,), as for
    :meth:`tutorials_lib.walk_forward.WalkForward.run`. The model is
    :func:`tutorials_lib.walk_forward.build_walk_forward_lstm` with ``hidden``, ``layers``,
    ``stateful``, ``dropout`` and, built with ``seed``, its initial weights and dropout
    masks; ``seed`` also drives the shuffling. ``shuffle`` defaults to on for stateless
    models and off for stateful ones, whose batches must come in order. ``jit_compile``
    trains under XLA.
    """

    X: np.ndarray
    y: np.ndarray
    seed: int
    hidden: int = 32
    layers: int = 1
    stateful: bool = False
    dropout: float = 0.3
    batch_size: int = 1
    epochs: int = 3
    learning_rate: float = 1e-3
    shuffle: bool | None = None
    jit_compile: bool = False

    def architecture(self) -> tuple:
        """What one compiled trainer can be reused for: everything but data, epochs, seed."""
        return (
            tuple(np.shape(self.X)[1:]),
            self.hidden,
            self.layers,
            self.stateful,
            self.dropout,
            self.batch_size,
            self.learning_rate,
            self.jit_compile,
        )


_TRAINERS: dict[tuple, Any] = {}


def _tensorflow_ready() -> None:
    """Set the book's TensorFlow environment if TF is not loaded yet; op determinism on."""
    if "tensorflow" not in sys.modules:
        configure_tensorflow_env()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()


def walk_forward_task(task: WalkForwardTask):
    """Run one :class:`WalkForwardTask`; returns its ``WalkForwardResult``.

    The compiled trainer for the task's architecture is built on first use in this process
    and kept; each run copies in the weights of a model freshly built with the task's seed
    and resets the optimizer, so the result does not depend on what ran before.
    """
    if not isinstance(task, WalkForwardTask):
        raise ValueError(f"task must be a WalkForwardTask, got {type(task).__name__}")
    X = as_float_array("X", task.X, ndim=3)
    seed = check_int("seed", task.seed, minimum=0)
    _tensorflow_ready()
    from tutorials_lib.walk_forward import WalkForward, build_walk_forward_lstm

    def build(s: int):
        return build_walk_forward_lstm(
            X.shape[1], X.shape[2], hidden=task.hidden, layers=task.layers,
            stateful=task.stateful, dropout=task.dropout, batch_size=task.batch_size, seed=s,
        )  # fmt: skip

    key = task.architecture()
    if key not in _TRAINERS:
        _TRAINERS[key] = WalkForward(
            build(seed),
            batch_size=task.batch_size,
            learning_rate=task.learning_rate,
            jit_compile=task.jit_compile,
        )
    shuffle = not task.stateful if task.shuffle is None else bool(task.shuffle)
    return _TRAINERS[key].run(
        X, task.y, epochs=task.epochs, shuffle=shuffle, seed=seed, init_from=build(seed)
    )
