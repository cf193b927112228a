"""run_tasks: the same results in-process and on a two-worker Dask cluster; failures named."""

import warnings

import numpy as np
import pytest

from tutorials_lib.distributed import (
    MALLOC_TRIM_VARIABLE,
    TaskFailed,
    WalkForwardTask,
    local_cluster,
    run_tasks,
    walk_forward_task,
)

LOOKBACK, FEATURES = 4, 2


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, LOOKBACK, FEATURES)).astype("float32")
    return X, X[:, -1, 0] - 0.5 * X[:, -1, 1]


def _sweep() -> dict[str, WalkForwardTask]:
    """A small sweep: two architectures (one under XLA, one stateful) x two seeds."""
    X, y = _data()
    configs = {
        "hidden 4, XLA": {"hidden": 4, "jit_compile": True},
        "hidden 3, batch 2": {"hidden": 3, "batch_size": 2},
        "stateful 2 x 3": {"hidden": 3, "layers": 2, "stateful": True},
    }
    return {
        f"{name}, seed {seed}": WalkForwardTask(X, y, seed=seed, epochs=2, **config)
        for name, config in configs.items()
        for seed in (1, 2)
    }


def _broken() -> dict[str, WalkForwardTask]:
    X, y = _data()
    return {
        "fine": WalkForwardTask(X, y, seed=0, hidden=2, epochs=1),
        "no epochs": WalkForwardTask(X, y, seed=0, hidden=2, epochs=0),
    }


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    with local_cluster(2) as cluster:
        yield cluster


def test_local_clusters_listen_on_this_machine_only_and_side_by_side(cluster):
    # A second cluster beside the fixture's: no "port 8787 is already in use" warning, and
    # neither scheduler's HTTP server is reachable from other machines.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with local_cluster(1) as second:
            for each in (cluster, second):
                http = each.scheduler.http_server
                assert http.address == "127.0.0.1", http.address
                assert http.port != 8787
            assert len(second.workers) == 1
            assert all(w.nthreads == 1 for w in second.workers.values())


def _malloc_trim_setting():
    import os

    return os.environ.get(MALLOC_TRIM_VARIABLE)


def test_local_cluster_workers_start_without_dask_malloc_trim(cluster):
    # Dask's default sets it in every worker; then each step of a recurrent layer maps and
    # unmaps its tensors, and training slows down.
    import dask
    from distributed import Client

    assert dask.config.get(f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM_VARIABLE}")
    with Client(cluster, set_as_default=False) as client:
        settings = client.run(_malloc_trim_setting)
    assert len(settings) == 2
    assert set(settings.values()) == {None}, settings


def _profiling(dask_worker):
    return "profile" in dask_worker.periodic_callbacks


def test_local_cluster_workers_do_not_profile(cluster):
    # Dask's statistical profiler would take the interpreter lock from each task every 10 ms,
    # for a dashboard the cluster does not run.
    import dask
    from distributed import Client

    assert dask.config.get("distributed.worker.profile.enabled")  # Dask's default
    with Client(cluster, set_as_default=False) as client:
        profiling = client.run(_profiling)
    assert profiling and not any(profiling.values()), profiling


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_local_cluster_rejects_bad_worker_count(bad):
    with pytest.raises(ValueError, match="n_workers"):
        local_cluster(bad)


@pytest.fixture(scope="module")
def in_process():
    return run_tasks(walk_forward_task, _sweep())


def test_in_process_results_are_the_runs_themselves(in_process):
    sweep = _sweep()
    assert list(in_process) == list(sweep)
    seeds = [in_process["hidden 4, XLA, seed 1"], in_process["hidden 4, XLA, seed 2"]]
    assert not np.allclose(seeds[0].predictions, seeds[1].predictions)  # seeds matter
    again = walk_forward_task(sweep["hidden 4, XLA, seed 1"])  # a reused trainer: same run
    np.testing.assert_allclose(again.predictions, seeds[0].predictions, rtol=0, atol=0)


def test_two_process_cluster_gives_the_same_results(cluster, in_process):
    remote = run_tasks(walk_forward_task, _sweep(), scheduler_address=cluster.scheduler_address)
    assert list(remote) == list(in_process)
    for name, result in remote.items():
        ref = in_process[name]
        np.testing.assert_allclose(result.predictions, ref.predictions, rtol=0, atol=0)
        np.testing.assert_allclose(result.train_losses, ref.train_losses, rtol=0, atol=0)
        np.testing.assert_array_equal(result.steps, ref.steps)


def test_a_failing_task_is_named_in_process():
    with pytest.raises(TaskFailed, match=r"task 'no epochs' failed: ValueError: epochs must be"):
        run_tasks(walk_forward_task, _broken())


def test_a_failing_task_is_named_on_the_cluster(cluster):
    with pytest.raises(TaskFailed, match=r"task 'no epochs' failed: ValueError: epochs must be"):
        run_tasks(walk_forward_task, _broken(), scheduler_address=cluster.scheduler_address)


def test_sequences_give_lists_and_bad_arguments_are_refused():
    assert run_tasks(abs, [-1, 2, -3]) == [1, 2, 3]
    with pytest.raises(TaskFailed, match=r"task 'task 1' failed: TypeError"):
        run_tasks(abs, [-1, "x"])
    with pytest.raises(ValueError, match="fn must be callable"):
        run_tasks(3, [1])
    with pytest.raises(ValueError, match="tasks must be a mapping"):
        run_tasks(abs, 5)
    with pytest.raises(ValueError, match="task names must be non-empty strings"):
        run_tasks(abs, {1: 2})
    with pytest.raises(ValueError, match="scheduler_address must be an address string"):
        run_tasks(abs, [1], scheduler_address=8786)
    with pytest.raises(ValueError, match="task must be a WalkForwardTask"):
        walk_forward_task({"seed": 1})
