"""Settings: process-wide default, scopes per thread and task, precedence, aliases."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from turnout import BackendScope, Settings, UnknownBackendError

TRUSTED = {
    "gpu": {"aliases": ["cuda_like"], "package": "host-gpu"},
    "jit": {"package": "host-jit"},
}


@pytest.fixture
def dispatcher(install, make_dispatcher, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": backend_source("jit")})
    return make_dispatcher(trusted_backends=TRUSTED)


@pytest.fixture
def settings(dispatcher) -> Settings:
    return dispatcher.settings


def test_default_is_cpu_and_settings_is_public(settings):
    assert isinstance(settings, Settings)
    assert settings.backend == "cpu"


def test_assigning_an_alias_stores_the_canonical_name(settings):
    settings.backend = "cuda_like"
    assert settings.backend == "gpu"
    settings.backend = "cpu"
    assert settings.backend == "cpu"


def test_unknown_assignment_leaves_the_setting_unchanged(settings):
    settings.backend = "gpu"
    with pytest.raises(UnknownBackendError, match="Did you mean 'jit'"):
        settings.backend = "jti"
    assert settings.backend == "gpu"


@pytest.mark.parametrize("value", [None, "", 3])
def test_non_label_assignment_is_a_value_error(settings, value):
    with pytest.raises(ValueError, match="Backend name must be a non-empty string"):
        settings.backend = value


def test_global_default_is_seen_by_threads_and_pools_started_later(settings):
    settings.backend = "gpu"
    seen = []
    thread = threading.Thread(target=lambda: seen.append(settings.backend))
    thread.start()
    thread.join()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        seen.extend(pool.map(lambda _: settings.backend, range(4)))
    assert seen == ["gpu"] * 5


def test_global_change_is_seen_by_running_threads(settings):
    changed, read = threading.Event(), threading.Event()
    seen = []

    def worker() -> None:
        changed.wait(5)
        seen.append(settings.backend)
        read.set()

    thread = threading.Thread(target=worker)
    thread.start()
    settings.backend = "jit"
    changed.set()
    read.wait(5)
    thread.join()
    assert seen == ["jit"]


def test_use_backend_restores_on_exit_and_on_error(settings):
    settings.backend = "jit"
    with settings.use_backend("cuda_like") as name:
        assert name == "gpu"
        assert settings.backend == "gpu"
        with settings.use_backend("cpu"):
            assert settings.backend == "cpu"
        assert settings.backend == "gpu"
    assert settings.backend == "jit"
    with pytest.raises(RuntimeError), settings.use_backend("gpu"):
        raise RuntimeError
    assert settings.backend == "jit"


def test_setting_the_global_inside_a_scope_does_not_leak_into_the_scope(settings):
    with settings.use_backend("gpu"):
        settings.backend = "jit"
        assert settings.backend == "gpu"
    assert settings.backend == "jit"


def test_use_backend_is_checked_on_entry(settings):
    scope = settings.use_backend("nope")
    assert isinstance(scope, BackendScope)
    with pytest.raises(UnknownBackendError), scope:
        pass
    assert settings.backend == "cpu"


def test_scope_object_can_be_reused_and_nested(settings):
    scope = settings.use_backend("gpu")
    with scope:
        with scope:
            assert settings.backend == "gpu"
        assert settings.backend == "gpu"
    assert settings.backend == "cpu"


def test_use_backend_as_a_decorator(settings):
    @settings.use_backend("gpu")
    def current() -> str:
        return settings.backend

    @settings.use_backend("jit")
    async def current_async() -> str:
        await asyncio.sleep(0)
        return settings.backend

    assert current() == "gpu"
    assert asyncio.run(current_async()) == "jit"
    assert settings.backend == "cpu"
    assert current.__name__ == "current"


def test_threads_hold_independent_scopes(settings):
    barrier = threading.Barrier(2)
    seen: dict[str, list[str]] = {"gpu": [], "jit": []}

    def worker(name: str) -> None:
        with settings.use_backend(name):
            for _ in range(200):
                barrier.wait(5)
                seen[name].append(settings.backend)

    threads = [threading.Thread(target=worker, args=(name,)) for name in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"gpu": ["gpu"] * 200, "jit": ["jit"] * 200}
    assert settings.backend == "cpu"


def test_asyncio_tasks_hold_independent_scopes(settings):
    async def task(name: str) -> list[str]:
        out = []
        with settings.use_backend(name):
            for _ in range(50):
                await asyncio.sleep(0)
                out.append(settings.backend)
        return out

    async def main() -> list[list[str]]:
        return await asyncio.gather(*(task(name) for name in ["gpu", "jit", "cpu"] * 10))

    results = asyncio.run(main())
    for name, seen in zip(["gpu", "jit", "cpu"] * 10, results, strict=True):
        assert seen == [name] * 50


def test_available_backends_and_get_backend(settings, install):
    assert settings.available_backends() == ["gpu", "jit"]
    assert settings.get_backend("cuda_like") is settings.get_backend("gpu")
    assert settings.get_backend("cpu") is None
    assert settings.get_backend("missing") is None
    assert sorted(install.imported()) == ["host_gpu", "host_jit"]


def test_two_dispatchers_do_not_share_settings(make_dispatcher, dispatcher):
    other = make_dispatcher(host_name="otherhost", trusted_backends=TRUSTED)
    dispatcher.settings.backend = "gpu"
    assert other.settings.backend == "cpu"
    with other.settings.use_backend("jit"):
        assert dispatcher.settings.backend == "gpu"


def test_setting_cpu_reads_no_metadata(make_dispatcher, install):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    dispatcher.settings.backend = "cpu"
    with dispatcher.settings.use_backend("cpu"):
        pass
    assert dispatcher.get_backend("cpu") is None
    assert install.imported() == []
