"""Concurrency proofs, bounded in time: racing discovery, scopes per thread and task."""

from __future__ import annotations

import asyncio
import threading
import types

import pytest

from turnout import BackendDispatcher

N_BACKENDS = 8


@pytest.fixture
def dispatcher(make_dispatcher):
    dispatcher = make_dispatcher()
    for i in range(N_BACKENDS):
        dispatcher.register_backend(types.SimpleNamespace(name=f"b{i}", which=lambda i=i: f"b{i}"))

    @dispatcher.backend_dispatch
    def which():
        return "cpu"

    dispatcher.which = which
    return dispatcher


def run_threads(count, target):
    errors = []

    def guarded(index):
        try:
            target(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def test_64_threads_race_the_first_discovery(install, make_dispatcher, backend_source):
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {"host_gpu.py": "import time\ntime.sleep(0.05)\n" + backend_source("gpu")},
    )
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})
    barrier = threading.Barrier(64)
    seen = []

    def race(_index):
        barrier.wait(30)
        seen.append(dispatcher.get_backend("gpu"))

    run_threads(64, race)
    assert len(seen) == 64
    assert len({id(backend) for backend in seen}) == 1
    assert install.imported() == ["host_gpu"]


def test_8_threads_each_in_its_own_scope_make_100000_calls(dispatcher):
    which = dispatcher.which
    wrong = []

    def work(index):
        label = f"b{index}"
        with dispatcher.settings.use_backend(label):
            for _ in range(100_000):
                if which() != label:
                    wrong.append(index)
                    return

    run_threads(8, work)
    assert wrong == []
    assert which() == "cpu"


def test_1000_asyncio_tasks_with_interleaved_scopes(dispatcher):
    which = dispatcher.which

    async def task(index):
        label = f"b{index % N_BACKENDS}"
        results = []
        with dispatcher.settings.use_backend(label):
            for _ in range(5):
                await asyncio.sleep(0)
                results.append((dispatcher.settings.backend, which()))
                with dispatcher.settings.use_backend("cpu"):
                    await asyncio.sleep(0)
                    results.append((dispatcher.settings.backend, which()))
        return label, results

    async def main():
        return await asyncio.gather(*(task(i) for i in range(1000)))

    for label, results in asyncio.run(main()):
        assert results == [(label, label), ("cpu", "cpu")] * 5


def test_changing_the_global_backend_while_other_threads_call(dispatcher):
    which = dispatcher.which
    stop = threading.Event()
    valid = {"cpu", *(f"b{i}" for i in range(N_BACKENDS))}
    bad = []

    def call(_index):
        while not stop.is_set():
            result = which()
            if result not in valid:
                bad.append(result)

    def switch(_index):
        for round_ in range(2_000):
            dispatcher.settings.backend = f"b{round_ % N_BACKENDS}"
        dispatcher.settings.backend = "cpu"
        stop.set()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    switch(0)
    for thread in threads:
        thread.join(timeout=60)
    assert bad == []
    assert which() == "cpu"


def test_dispatchers_of_two_hosts_are_independent_under_threads(dispatcher):
    other = BackendDispatcher("concurrency.other.backends", "other")

    @other.backend_dispatch
    def which():
        return "other-cpu"

    def work(index):
        with dispatcher.settings.use_backend(f"b{index}"):
            for _ in range(10_000):
                assert which() == "other-cpu"
                assert dispatcher.which() == f"b{index}"

    run_threads(4, work)
