"""Per-backend configuration: declared defaults, process-wide values, scopes, snapshots.

A real host module and real backend distributions are installed in the test's
site; the backend reads ``<host>.settings.config["gpu"]`` inside the function a
call runs and returns what it read, so each test sees what a backend sees:
in threads, asyncio tasks, thread pools, process pools (fork and spawn) and
Dask workers.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

import turnout
from turnout._config import UnknownConfigKeyError
from turnout._shape import OMITTED
from turnout.processes import Snapshot

METHODS = [m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods()]
DEFAULTS = {"device": 0, "precision": "double", "n-streams": 1}

HOST = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher(
    {group!r},
    "cfghost",
    trusted_backends={{
        "gpu": {{"package": "cfghost-gpu", "aliases": ["cuda"]}},
        "jit": {{"package": "cfghost-jit"}},
        "loose": {{"package": "cfghost-loose"}},
    }},
)
settings = dispatcher.settings


@dispatcher.backend_dispatch
def where(x):
    return ("cpu", x)


@dispatcher.backend_dispatch
def options():
    return {{}}
"""

GPU = """
import cfghost


class Backend:
    name = "gpu"
    aliases = ("cuda",)

    def where(self, x):
        config = cfghost.settings.config["gpu"]  # read in the call it serves
        return ("gpu", config["device"], config["precision"])

    def options(self):
        return dict(cfghost.settings.config["gpu"])
"""

JIT = """
import cfghost


class Backend:
    name = "jit"
    default_config = {"threads": 4}

    def where(self, x):
        return ("jit", cfghost.settings.config["jit"]["threads"])
"""

LOOSE = """
import cfghost


class Backend:
    name = "loose"

    def where(self, x):
        return ("loose", cfghost.settings.config["loose"].get("anything", "unset"))
"""


@pytest.fixture
def host(install):
    """The host module ``cfghost``, with 'gpu' (defaults in its JSON) and 'jit' (in code)."""
    install("cfghost", {}, {"cfghost.py": HOST.format(group=install.group)})
    install(
        "cfghost-gpu",
        {"gpu": "cfghost_gpu:Backend"},
        {
            "cfghost_gpu/__init__.py": GPU,
            "cfghost_gpu/turnout-backend.json": json.dumps(
                {install.group: {"name": "gpu", "aliases": ["cuda"], "default_config": DEFAULTS}}
            ),
        },
    )
    install("cfghost-jit", {"jit": "cfghost_jit:Backend"}, {"cfghost_jit.py": JIT})
    install("cfghost-loose", {"loose": "cfghost_loose:Backend"}, {"cfghost_loose.py": LOOSE})
    return importlib.import_module("cfghost")


def backend_modules(install):
    return [name for name in install.imported() if name != "cfghost"]


# -- defaults, process-wide values, errors ------------------------------------------------------


def test_defaults_come_from_turnout_backend_json_without_importing_the_backend(host, install):
    config = host.settings.config["gpu"]
    assert dict(config) == DEFAULTS
    assert config.defaults == DEFAULTS
    assert host.settings.config["cuda"] is config  # an alias: the same object
    assert "gpu" in host.settings.config
    assert "cpu" not in host.settings.config
    assert sorted(host.settings.config) == ["gpu", "jit", "loose"]
    with host.settings.configured("cuda", device=3) as entered:
        assert entered is config
        assert config["device"] == 3
    assert backend_modules(install) == []  # read from its file alone
    assert host.where(1, backend="gpu") == ("gpu", 0, "double")


def test_defaults_from_the_backend_objects_attribute(host):
    # no turnout-backend.json declares them: the backend is imported to read them
    assert dict(host.settings.config["jit"]) == {"threads": 4}
    assert host.where(1, backend="jit") == ("jit", 4)
    with host.settings.configured("jit", threads=16):
        assert host.where(1, backend="jit") == ("jit", 16)


def test_process_wide_values_reach_every_thread_and_reset_restores_the_defaults(host):
    config = host.settings.config["gpu"]
    config["device"] = 1
    config.update({"n-streams": 4}, precision="single")
    assert config["n-streams"] == 4
    seen = []
    thread = threading.Thread(target=lambda: seen.append(host.where(1, backend="gpu")))
    thread.start()
    thread.join(60)
    assert seen == [("gpu", 1, "single")]
    del config["device"]
    assert config["device"] == 0
    config.reset()
    assert dict(config) == DEFAULTS


def test_a_key_the_backend_does_not_declare_is_refused_with_a_did_you_mean(host):
    config = host.settings.config["gpu"]
    with pytest.raises(UnknownConfigKeyError) as error:
        config["devcie"] = 1
    assert isinstance(error.value, KeyError)
    assert isinstance(error.value, turnout.TurnoutError)
    assert (error.value.key, error.value.backend) == ("devcie", "gpu")
    assert error.value.suggestions == ("device",)
    assert error.value.known == ("device", "n-streams", "precision")
    assert "Did you mean 'device'?" in str(error.value)
    with pytest.raises(UnknownConfigKeyError):
        config.update(device=2, precison="single")
    assert config["device"] == 0  # all or nothing
    with pytest.raises(UnknownConfigKeyError):
        config["devcie"]
    with pytest.raises(UnknownConfigKeyError):
        del config["devcie"]
    assert config.get("devcie", "fallback") == "fallback"
    scope = host.settings.configured("gpu", precison="single")  # checked when entered
    with pytest.raises(UnknownConfigKeyError, match="Did you mean 'precision'"), scope:
        pass
    copy = pickle.loads(pickle.dumps(error.value))
    assert (type(copy), copy.suggestions, str(copy)) == (
        UnknownConfigKeyError,
        ("device",),
        str(error.value),
    )


def test_a_backend_that_declares_no_defaults_takes_any_key(host):
    config = host.settings.config["loose"]
    assert not config.declared
    assert dict(config) == {}
    assert host.where(1, backend="loose") == ("loose", "unset")
    with pytest.raises(UnknownConfigKeyError, match="declares no defaults and nothing set it"):
        config["anything"]
    config["anything"] = "set"
    assert host.where(1, backend="loose") == ("loose", "set")


def test_the_host_code_and_unknown_backends_have_no_configuration(host):
    with pytest.raises(turnout.UnknownBackendError, match="host's own code") as cpu:
        host.settings.config["cpu"]
    assert isinstance(cpu.value, ValueError)
    with pytest.raises(turnout.UnknownBackendError, match="Did you mean 'gpu'") as typo:
        host.settings.config["gpx"]
    assert "gpu" in typo.value.suggestions
    with pytest.raises(turnout.UnknownBackendError, match="Did you mean 'gpu'"):
        with host.settings.configured("gpx", device=1):
            pass
    with pytest.raises(turnout.UnknownBackendError):
        host.settings.configured(" gpu", device=1)  # not a label: refused at once


# -- scopes: threads, tasks, decorators ---------------------------------------------------------


def test_the_backend_reads_the_configuration_of_the_call_it_serves(host):
    settings = host.settings
    settings.config["gpu"]["precision"] = "single"
    with settings.configured("gpu", device=1):
        assert host.where(1, backend="gpu") == ("gpu", 1, "single")
        with settings.configured("cuda", {"precision": "half"}):  # nested: merged
            assert host.where(1, backend="gpu") == ("gpu", 1, "half")
            settings.config["gpu"]["precision"] = "double"  # process-wide: the scope wins
            assert host.where(1, backend="gpu") == ("gpu", 1, "half")
        assert host.where(1, backend="gpu") == ("gpu", 1, "double")
        with pytest.raises(RuntimeError), settings.configured("gpu", device=7):
            raise RuntimeError
        assert host.where(1, backend="gpu") == ("gpu", 1, "double")
    assert host.where(1, backend="gpu") == ("gpu", 0, "double")


def test_a_configuration_scope_leaves_the_wrappers_on_their_fast_path(host):
    state = host.dispatcher._state  # the cell every wrapper reads per call
    assert state.untouched.cell_contents is not OMITTED
    with host.settings.configured("gpu", device=1):
        assert host.where(1, backend="gpu") == ("gpu", 1, "double")
    assert state.untouched.cell_contents is not OMITTED


def test_scopes_are_isolated_per_thread(host):
    barrier = threading.Barrier(8)
    results = {}

    def work(index):
        with host.settings.configured("gpu", device=index):
            barrier.wait(30)  # every thread is inside its own scope now
            results[index] = [host.where(1, backend="gpu")[1] for _ in range(200)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {i: [i] * 200 for i in range(8)}
    assert host.settings.config["gpu"]["device"] == 0


def test_scopes_are_isolated_per_asyncio_task(host):
    async def task(index):
        with host.settings.configured("gpu", device=index):
            seen = []
            for _ in range(20):
                await asyncio.sleep(0)  # the other tasks run in between
                seen.append(host.where(1, backend="gpu")[1])
            return seen

    async def main():
        return await asyncio.gather(*(task(i) for i in range(6)))

    assert asyncio.run(main()) == [[i] * 20 for i in range(6)]


def test_configured_decorates_sync_and_async_functions(host):
    scope = host.settings.configured("gpu", precision="half")

    @scope
    def run():
        return host.where(1, backend="gpu")

    @scope
    async def run_async():
        await asyncio.sleep(0)
        return host.where(1, backend="gpu")

    assert run() == ("gpu", 0, "half")
    assert asyncio.run(run_async()) == ("gpu", 0, "half")
    assert host.where(1, backend="gpu") == ("gpu", 0, "double")
    assert repr(scope) == "configured('gpu', {'precision': 'half'})"


# -- snapshots: threads, processes, Dask -------------------------------------------------------


def test_a_snapshot_carries_process_wide_and_scoped_values(host):
    settings = host.settings
    settings.config["gpu"]["precision"] = "single"
    with settings.configured("gpu", device=2):
        snapshot = settings.snapshot()
    assert snapshot.config == (("gpu", (("device", 2), ("precision", "single"))),)
    assert "config={'gpu': {'device': 2, 'precision': 'single'}}" in repr(snapshot)
    assert pickle.loads(pickle.dumps(snapshot)) == snapshot
    assert hash(snapshot) == hash(pickle.loads(pickle.dumps(snapshot)))
    settings.config["gpu"].reset()
    with settings.configured("gpu", device=5), settings.applied(snapshot):
        assert host.where(1, backend="gpu") == ("gpu", 2, "single")  # replaces the scope
    assert host.where(1, backend="gpu") == ("gpu", 0, "double")

    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(settings.applied(snapshot)(host.where)(1, backend="gpu"))
    )
    thread.start()
    thread.join(60)
    assert seen == [("gpu", 2, "single")]


def test_bind_and_submit_carry_the_configuration_into_a_thread_pool(host):
    with host.settings.configured("gpu", device=3):
        bound = host.dispatcher.bind(host.where)
        with ThreadPoolExecutor(max_workers=1) as pool:
            submitted = turnout.submit(pool, host.where, 1, backend="gpu")
            assert submitted.result(60) == ("gpu", 3, "double")
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(bound, 1, backend="gpu").result(60) == ("gpu", 3, "double")


def test_applied_as_a_decorator_runs_an_async_body_under_the_snapshot(host):
    with host.settings.use_backend("gpu"), host.settings.configured("gpu", device=4):
        snapshot = host.settings.snapshot()

    @host.settings.applied(snapshot)
    async def run():
        await asyncio.sleep(0)
        return host.where(1)

    assert asyncio.run(run()) == ("gpu", 4, "double")


def test_a_value_that_cannot_be_pickled_stays_in_this_process(host):
    lock = threading.Lock()  # a device handle, say: usable here, not in another process
    with host.settings.configured("loose", anything=lock):
        snapshot = host.settings.snapshot()
        with ThreadPoolExecutor(max_workers=1) as pool:  # threads need no pickling
            assert turnout.submit(pool, host.where, 1, backend="loose").result(60) == (
                "loose",
                lock,
            )
    with pytest.raises(turnout.ConfigurationError) as error:
        pickle.dumps(snapshot)
    assert "backend 'loose', option 'anything'" in str(error.value)
    assert "cannot be pickled" in str(error.value)
    assert isinstance(error.value.__cause__, TypeError)


def test_a_snapshot_configures_no_backend_that_is_missing_here(host, caplog):
    snapshot = Snapshot(
        entrypoint_group=host.dispatcher.entrypoint_group,
        module="cfghost",
        host_name="cfghost",
        backend=None,
        config=(("gone", (("device", 1),)), ("gpu", (("device", 6),))),
    )
    with caplog.at_level(logging.DEBUG, logger="turnout"), host.settings.applied(snapshot):
        assert host.where(1, backend="gpu") == ("gpu", 6, "double")
    assert any("not configuring backend 'gone' here" in m for m in caplog.messages)


def test_apply_snapshot_replaces_the_process_wide_values(host):
    settings = host.settings
    with settings.configured("gpu", device=8):
        snapshot = settings.snapshot()
    settings.config["gpu"]["precision"] = "single"
    settings.config["jit"]["threads"] = 2
    turnout.apply_snapshot(snapshot)
    assert host.where(1, backend="gpu") == ("gpu", 8, "double")
    assert host.where(1, backend="jit") == ("jit", 4)


def _in_worker():
    import cfghost  # noqa: PLC0415 - imported in the worker, as the host is

    return cfghost.where(1, backend="gpu"), dict(cfghost.settings.config["gpu"])


@pytest.mark.parametrize("method", METHODS)
def test_a_process_pool_worker_sees_the_configuration_of_the_submitting_scope(host, method):
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        with host.settings.configured("gpu", device=2, precision="single"):
            inside = turnout.submit(pool, host.where, 1, backend="gpu")
        outside = turnout.submit(pool, host.where, 1, backend="gpu")
        assert inside.result(120) == ("gpu", 2, "single")
        assert outside.result(120) == ("gpu", 0, "double")


@pytest.mark.parametrize("method", METHODS)
def test_a_process_pool_initializer_applies_the_configuration(host, method):
    host.settings.config["gpu"]["precision"] = "half"
    with host.settings.configured("gpu", device=1):
        snapshot = host.settings.snapshot()
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=context,
        initializer=turnout.apply_snapshot,
        initargs=(snapshot,),
    ) as pool:
        result, options = pool.submit(_in_worker).result(120)
    assert result == ("gpu", 1, "half")
    assert options == {**DEFAULTS, "device": 1, "precision": "half"}


@pytest.fixture
def dask_client():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    cluster = distributed.LocalCluster(
        processes=True, n_workers=1, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_bind_and_register_carry_the_configuration(host, dask_client):
    import turnout.dask  # noqa: PLC0415 - needs dask.distributed

    with host.settings.configured("gpu", device=9):
        task = turnout.dask.bind(host.where)
        turnout.dask.register(dask_client)
    assert dask_client.submit(task, 1, backend="gpu", pure=False).result(120) == (
        "gpu",
        9,
        "double",
    )
    result, _ = dask_client.submit(_in_worker, pure=False).result(120)  # registered
    assert result == ("gpu", 9, "double")
