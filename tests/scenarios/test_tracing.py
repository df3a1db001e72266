"""Tracing: ``with settings.trace() as calls`` and one DEBUG line per call, free when off."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings

import pytest

from turnout import FallbackWarning

GPU = """
class Backend:
    name = "gpu"

    def mean(self, values, exact=False):
        return ("gpu", exact)

    def total(self, values):
        raise NotImplementedError("too few values")
"""

TRUSTED = {"gpu": {"package": "host-gpu"}}


def short(name: str) -> str:
    """The function's own name: test hosts are defined in functions, so public names are long."""
    return name.rpartition(".")[2]


@pytest.fixture
def host(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def mean(values):
        return ("cpu", None)

    @dispatcher.backend_dispatch
    def total(values):
        return ("cpu", sum(values))

    @dispatcher.backend_dispatch
    def spread(values):
        return ("cpu", 0)

    return dispatcher, mean, total, spread


def test_a_trace_records_what_ran_and_why(host):
    dispatcher, mean, total, spread = host
    settings = dispatcher.settings
    mean([1])  # specialised before the trace: the trace starts it over
    with settings.trace() as calls:
        assert mean([1], exact=True, backend="gpu") == ("gpu", True)
        assert mean([1]) == ("cpu", None)
        with settings.use_backend(["gpu", "cpu"]):
            assert total([1, 2]) == ("cpu", 3)
        settings.backend = "gpu"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            assert spread([1]) == ("cpu", 0)
        del settings.backend
    lines = [call.line() for call in calls]
    assert [(short(c.function), c.backend) for c in calls] == [
        ("mean", "gpu"),
        ("mean", "cpu"),
        ("total", "cpu"),
        ("spread", "cpu"),
    ]
    assert calls[0].why == "call keyword"
    assert calls[1].why == "default"
    assert calls[2].why == "use_backend scope"
    assert calls[2].declined == [("gpu", "raised NotImplementedError: too few values")]
    assert calls[3].why == "settings.backend"
    assert "does not implement it" in (calls[3].fell_back or "")
    assert "declined: gpu" in lines[2]
    assert lines[3].endswith("; fell back: gpu: does not implement it")  # the name once
    assert mean([1], backend="gpu") == ("gpu", False)  # after the trace: recorded nowhere
    assert len(calls) == 4


def test_a_trace_sees_only_its_own_thread(host):
    dispatcher, mean, *_ = host
    started, done = threading.Event(), threading.Event()
    seen = []

    def other() -> None:
        started.wait(10)
        seen.append(mean([1], backend="gpu"))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with dispatcher.settings.trace() as calls:
        started.set()
        done.wait(10)
        mean([1])
    thread.join()
    assert seen == [("gpu", False)]
    assert [(short(c.function), c.backend) for c in calls] == [("mean", "cpu")]


def test_a_trace_records_an_async_call_when_it_ends(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": ASYNC_GPU})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    async def fetch(key):
        return ("cpu", key)

    async def main() -> object:
        with dispatcher.settings.trace() as calls:
            first = await fetch(1, backend="gpu")
            second = await fetch(2)
        return first, second, [(short(c.function), c.backend) for c in calls]

    assert asyncio.run(main()) == (("gpu", 1), ("cpu", 2), [("fetch", "gpu"), ("fetch", "cpu")])


ASYNC_GPU = """
class Backend:
    name = "gpu"

    async def fetch(self, key):
        return ("gpu", key)
"""


def test_the_logger_at_debug_writes_one_line_per_call(host, caplog):
    _, mean, *_ = host
    mean([1])
    logger = logging.getLogger("turnout")
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        mean([1], backend="gpu")
        mean([1])
    lines = [short(r.getMessage()) for r in caplog.records if " ran (" in r.getMessage()]
    assert lines == ["mean: gpu ran (call keyword: gpu)", "mean: cpu ran (default: cpu)"]
    caplog.clear()
    assert logger.getEffectiveLevel() > logging.DEBUG
    mean([1], backend="gpu")
    assert not [r for r in caplog.records if " ran (" in r.getMessage()]


def test_tracing_off_leaves_the_fast_wrapper(host):
    dispatcher, mean, *_ = host
    mean([1])
    fast = mean.__code__
    with dispatcher.settings.trace():
        mean([1])
        assert mean.__code__ is not fast  # calls go through the tracer
    mean([1])
    assert mean.__code__.co_code == fast.co_code  # specialised again: the same code
