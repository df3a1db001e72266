"""The backend choice reaches thread pools, process pools (fork and spawn) and Dask workers.

These tests use the example host and its backend, installed as real
distributions in the test environment, so a spawned worker finds both through
the real entry point. `example_host.mean` of `DATA` tells which code ran: the
host's plain loop gives 1.5, the backend's exactly rounded sum 1.6666666666666667.
"""

from __future__ import annotations

import contextvars
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import example_host
import pytest
from example_host import RunningStats, mean, settings

import turnout

DATA = [1e16, 1.0, -1e16, 2.0, 3.0, 4.0]
CPU_RESULT = 1.5
ACCEL_RESULT = 1.6666666666666667
METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    del settings.backend
    settings.fallback = "silent"


def test_a_scope_alone_does_not_reach_a_thread_pool():
    # what the issue observed: the pool's thread does not run in the caller's context
    with ThreadPoolExecutor(max_workers=1) as pool, settings.use_backend("example_accel"):
        assert pool.submit(mean, DATA).result() == CPU_RESULT


def test_submit_carries_scopes_into_a_thread_pool():
    with ThreadPoolExecutor(max_workers=2) as pool:
        with settings.use_backend("example_accel"):
            inside = turnout.submit(pool, mean, DATA)
            copied = pool.submit(contextvars.copy_context().run, mean, DATA)
        outside = turnout.submit(pool, mean, DATA)
        assert inside.result() == ACCEL_RESULT
        assert copied.result() == ACCEL_RESULT  # the documented plain-library way
        assert outside.result() == CPU_RESULT


def test_a_bound_function_runs_its_snapshot_in_any_thread():
    with settings.use_backend("accel"):
        task = example_host.bind(mean)
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert pool.submit(task, DATA).result() == ACCEL_RESULT
    assert task(DATA) == ACCEL_RESULT
    assert mean(DATA) == CPU_RESULT  # the scope did not leak


def test_snapshot_records_the_effective_choices():
    snapshot = settings.snapshot()
    assert snapshot.backend is None  # nothing chosen
    assert snapshot.automatic is True  # the example host turns it on
    with settings.use_backend(["chunked", "example_accel"]), settings.use_fallback("warn"):
        scoped = settings.snapshot()
    assert scoped.backend == ("chunked", "example_accel")
    assert scoped.fallback == "warn"
    assert scoped.entrypoint_group == "example_host.backends"
    assert scoped.module == "example_host._backends"
    assert pickle.loads(pickle.dumps(scoped)) == scoped
    assert "backend=['chunked', 'example_accel']" in repr(scoped)
    with settings.applied(scoped):
        assert settings.backend == ["chunked", "example_accel"]
        assert settings.fallback == "warn"
        assert mean(DATA) == ACCEL_RESULT  # chunked declines a list; example_accel runs
    assert settings.backend == "cpu"
    assert settings.fallback == "silent"


def test_applying_a_snapshot_of_another_host_is_refused(make_dispatcher):
    other = make_dispatcher()
    with pytest.raises(
        turnout.ConfigurationError, match=r"expected a turnout\.Snapshot taken from"
    ):
        settings.applied(other.settings.snapshot())


def test_dispatched_functions_classes_and_instances_pickle_by_reference():
    assert pickle.loads(pickle.dumps(mean)) is mean
    assert pickle.loads(pickle.dumps(RunningStats)) is RunningStats
    stats = RunningStats([1.0, 2.0])
    copy = pickle.loads(pickle.dumps(stats))
    assert type(copy) is RunningStats
    assert copy.values == [1.0, 2.0]
    with settings.use_backend("example_accel"):
        accelerated = RunningStats([1.0, 3.0])
    copied = pickle.loads(pickle.dumps(accelerated))
    assert copied.implementation == "example_accel"
    assert copied.mean == 2.0


def _which_in_worker() -> tuple[str, float]:
    return example_host.settings.backend, example_host.mean(DATA)


@pytest.mark.parametrize("method", METHODS)
def test_process_pool_initializer_applies_a_snapshot(method):
    context = multiprocessing.get_context(method)
    with settings.use_backend("accelerated"), settings.use_fallback("warn"):
        snapshot = settings.snapshot()
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=turnout.apply_snapshot,
        initargs=(snapshot,),
    ) as pool:
        assert pool.submit(mean, DATA).result(timeout=120) == ACCEL_RESULT
        assert pool.submit(example_host.settings.snapshot).result(timeout=120) == snapshot


def test_a_spawned_process_pool_without_help_runs_the_host_code():
    if "spawn" not in METHODS:
        pytest.skip("no spawn start method on this platform")
    # (a forked worker copies the forking thread, scopes included: see the fork test)
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=1, mp_context=context) as pool,
        settings.use_backend("example_accel"),
    ):
        assert pool.submit(mean, DATA).result(timeout=120) == CPU_RESULT


@pytest.mark.parametrize("method", METHODS)
def test_submit_binds_for_a_process_pool(method):
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        with settings.use_backend("example_accel"):
            inside = turnout.submit(pool, mean, DATA)
        outside = turnout.submit(pool, mean, DATA)
        assert inside.result(timeout=120) == ACCEL_RESULT
        assert outside.result(timeout=120) == CPU_RESULT


def test_global_setting_reaches_a_spawned_worker_through_a_bound_task():
    if "spawn" not in METHODS:
        pytest.skip("no spawn start method on this platform")
    settings.backend = "example_accel"
    task = example_host.bind(mean)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(task, DATA).result(timeout=120) == ACCEL_RESULT


def test_dispatcher_for_finds_a_host_by_package_group_or_name():
    dispatcher = example_host.bind.__self__  # the host re-exports its dispatcher's methods
    assert turnout.dispatcher_for("example_host") is dispatcher
    assert turnout.dispatcher_for(example_host) is dispatcher
    assert turnout.dispatcher_for("example_host.backends") is dispatcher
    with pytest.raises(turnout.HostNotFoundError, match="importing it failed") as error:
        turnout.dispatcher_for("no_such_host_package_anywhere")
    assert isinstance(error.value, LookupError)
    with pytest.raises(turnout.HostNotFoundError, match="neither it nor its submodules"):
        turnout.dispatcher_for("json")


def test_the_dask_example_backend_declines_without_a_client():
    pytest.importorskip("example_host_dask", reason="the examples are not installed here")
    distributed = pytest.importorskip("distributed")
    try:
        distributed.default_client()
    except ValueError:
        pass
    else:
        pytest.skip("a Dask client is running in this process")
    explained = str(
        example_host.explain(example_host.moving_average, [1.0, 2.0], 2, backend="dask")
    )
    assert "no dask.distributed Client is running here" in explained
    with settings.use_fallback("error"), pytest.raises(turnout.MissingImplementationError) as error:
        example_host.moving_average([1.0, 2.0], 2, backend="dask")
    assert "no dask.distributed Client is running here" in str(error.value)
    assert example_host.moving_average([1.0, 2.0, 3.0], 2, backend="dask") == [1.5, 2.5]


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    cluster = distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_plugin_applies_the_choice_on_every_worker(dask_client):
    import turnout.dask  # noqa: PLC0415

    workers = list(dask_client.scheduler_info()["workers"])
    assert len(workers) == 2
    pids = set(dask_client.run(os.getpid).values())
    assert len(pids) == 2  # two processes of their own
    assert os.getpid() not in pids
    futures = [dask_client.submit(mean, DATA, workers=[w], pure=False) for w in workers]
    assert dask_client.gather(futures) == [CPU_RESULT, CPU_RESULT]
    with settings.use_backend("example_accel"):
        turnout.dask.register(dask_client)
    try:
        futures = [dask_client.submit(_which_in_worker, workers=[w], pure=False) for w in workers]
        assert dask_client.gather(futures) == [("example_accel", ACCEL_RESULT)] * 2
    finally:
        turnout.dask.register(dask_client)  # back to this process's choices (none)
    futures = [dask_client.submit(mean, DATA, workers=[w], pure=False) for w in workers]
    assert dask_client.gather(futures) == [CPU_RESULT, CPU_RESULT]


def test_dask_register_leaves_the_drivers_settings_with_an_in_process_cluster():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    import turnout.dask  # noqa: PLC0415

    cluster = distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0"
    )
    try:
        with distributed.Client(cluster) as client:
            with settings.use_backend("example_accel"):
                turnout.dask.register(client)
                task = turnout.dask.bind(mean)
            assert settings.backend == "cpu"  # the driver's own settings are as they were
            assert mean(DATA) == CPU_RESULT
            assert client.submit(task, DATA, pure=False).result() == ACCEL_RESULT
            assert client.submit(mean, DATA, pure=False).result() == CPU_RESULT
    finally:
        cluster.close()


def test_dask_bind_runs_one_task_under_the_snapshot(dask_client):
    import turnout.dask  # noqa: PLC0415

    with settings.use_backend("example_accel"):
        task = turnout.dask.bind(mean)
    assert dask_client.submit(task, DATA, pure=False).result() == ACCEL_RESULT
    assert dask_client.submit(mean, DATA, pure=False).result() == CPU_RESULT


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_fork_child_keeps_the_parent_setting():
    settings.backend = "example_accel"
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert pool.submit(mean, DATA).result(timeout=120) == ACCEL_RESULT


def test_the_dask_example_backend_equals_the_host_code(dask_client):
    pytest.importorskip("example_host_dask", reason="the examples are not installed here")
    values = [float(i * 7919 % 1000) for i in range(5_000)]
    expected = example_host.moving_average(values, 25)
    assert example_host.moving_average(values, 25, backend="dask") == expected
    assert example_host.moving_average(values, 25, backend="dask", pieces=7) == expected
    assert example_host.moving_average(values[:10], 25, backend="dask") == []
