"""Safety under faults: no deadlock, no race, a usable child after fork; every wait is bounded."""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings

import pytest

from turnout import BackendLoadError, EntryPointRejectedWarning, TurnoutWarning

WATCHDOG = 30  # seconds: a deadlock fails the test instead of hanging CI

SLOW = """
import os, time
gate = os.environ.get({gate!r})
if gate:
    while not os.path.exists(gate):
        time.sleep(0.01)
time.sleep({delay})

class Backend:
    name = {name!r}

    def add(self, a, b, *, extra=0):
        return ({name!r}, a + b + extra)
"""


def slow_backend(install, name, delay=0.0, gate=None):
    install(
        f"host-{name}",
        {name: f"host_{name}:Backend"},
        {f"host_{name}.py": SLOW.format(name=name, delay=delay, gate=gate or "")},
    )


def run_bounded(*targets):
    """Run each target in a thread; fail if one raises or any is still running at the deadline."""
    errors: list[BaseException] = []

    def guarded(target):
        try:
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WATCHDOG
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread for thread in threads if thread.is_alive()]
    assert not stuck, f"{len(stuck)} thread(s) still waiting after {WATCHDOG}s: a deadlock"
    assert errors == [], errors


@pytest.mark.timeout(WATCHDOG * 2)
def test_loading_a_backend_while_another_thread_decorates_and_discovers(install, make_dispatcher):
    slow_backend(install, "fast")
    slow_backend(install, "slow", delay=0.3)
    dispatcher = make_dispatcher(untrusted="allow")
    dispatcher.get_backend("fast")  # one backend loaded: decorating now merges
    stop = threading.Event()

    def load():
        dispatcher.get_backend("slow")  # holds discovery while importing, then merges
        stop.set()

    def decorate():
        while not stop.is_set():

            @dispatcher.backend_dispatch
            def add(a, b):
                return ("cpu", a + b)

            assert add(1, 2) == ("cpu", 3)

    def discover_and_refresh():
        while not stop.is_set():
            dispatcher.discover()
        dispatcher.refresh()
        dispatcher.discover()

    run_bounded(load, decorate, discover_and_refresh)
    assert sorted(dispatcher.available_backend_names()) == ["fast", "slow"]


@pytest.mark.timeout(WATCHDOG * 2)
def test_refresh_while_other_threads_call_never_raises(install, make_dispatcher):
    slow_backend(install, "gpu")
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    deadline = time.monotonic() + 1.5

    def call():
        while time.monotonic() < deadline:
            assert add(1, 2, backend="gpu") == ("gpu", 3)
            assert add(1, 2, backend="gpu", extra=1) == ("gpu", 4)
            with dispatcher.settings.use_backend("gpu"):
                assert add(1, 2) == ("gpu", 3)
            assert add(1, 2) == ("cpu", 3)

    def refresh():
        while time.monotonic() < deadline:
            dispatcher.refresh()
            dispatcher.explain(add, 1, 2, backend="gpu")
            dispatcher.report()

    run_bounded(call, call, call, refresh)


@pytest.mark.timeout(WATCHDOG * 2)
def test_a_refresh_storm_while_eight_threads_call(install, make_dispatcher, monkeypatch):
    slow_backend(install, "gpu")
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)  # restored after
    sys.setswitchinterval(1e-6)  # threads switch often: a race shows within the deadline

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    deadline = time.monotonic() + 2.0
    lists = [("gpu",) * n for n in range(1, 81)]  # many plans to forget at once

    def call():
        while time.monotonic() < deadline:
            assert add(1, 2, backend="gpu") == ("gpu", 3)
            assert add(1, 2, backend="gpu", extra=1) == ("gpu", 4)  # a backend-only keyword
            for labels in lists:
                assert add(1, 2, backend=labels, extra=1) == ("gpu", 4)
            with dispatcher.settings.use_backend(["gpu"]):
                assert add(1, 2, extra=1) == ("gpu", 4)
            assert add(1, 2) == ("cpu", 3)

    def storm():
        while time.monotonic() < deadline:
            dispatcher.refresh()
            dispatcher.discover()

    try:
        run_bounded(*[call] * 8, storm, storm)
    finally:
        sys.setswitchinterval(0.005)


@pytest.mark.timeout(WATCHDOG * 2)
def test_no_route_made_before_a_replacement_outlives_it(make_dispatcher):
    class Old:
        name = "gpu"

        def add(self, a, b):
            return ("old", a + b)

    class New(Old):
        def add(self, a, b):
            return ("new", a + b)

    dispatcher = make_dispatcher()
    dispatcher.register_backend(Old())

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    done = threading.Event()
    final: list[float] = []
    calls: list[list[tuple[float, str]]] = [[] for _ in range(8)]

    def call(index):
        def run():
            while not done.is_set() or len(calls[index]) < 50:
                started = time.monotonic()
                calls[index].append((started, add(1, 2, backend="gpu")[0]))
                if done.is_set():  # a few more calls after the last replacement
                    calls[index].append((time.monotonic(), add(1, 2, backend="gpu")[0]))

        return run

    def replace():
        for round_ in range(300):
            dispatcher.register_backend(New() if round_ % 2 else Old(), replace=True)
        dispatcher.register_backend(New(), replace=True)
        final.append(time.monotonic())
        time.sleep(0.2)
        done.set()

    run_bounded(*(call(i) for i in range(8)), replace)
    late = [result for made in calls for started, result in made if started > final[0]]
    assert late
    assert set(late) == {"new"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.timeout(WATCHDOG * 2)
def test_fork_while_another_thread_is_inside_discovery(install, make_dispatcher, tmp_path):
    gate = tmp_path / "gate"
    slow_backend(install, "held", gate="TURNOUT_TEST_GATE")
    slow_backend(install, "other")
    os.environ["TURNOUT_TEST_GATE"] = str(gate)  # read by the backend module
    dispatcher = make_dispatcher(untrusted="allow")

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    holder = threading.Thread(target=lambda: dispatcher.get_backend("held"), daemon=True)
    holder.start()
    time.sleep(0.3)  # the holder is inside discovery, waiting for the gate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
        pid = os.fork()
    if pid == 0:  # the child: no holder thread here, yet discovery must work
        code = 1
        try:
            result = add(1, 2, backend="other")
            names = dispatcher.available_backend_names()
            try:
                dispatcher.settings.backend = "held"  # its import was half done at the fork
            except BackendLoadError as error:
                reported = "process forked" in str(error)
            else:
                reported = False
            code = 0 if (result, names, reported) == (("other", 3), ["other"], True) else 2
        finally:
            os._exit(code)
    try:
        deadline = time.monotonic() + WATCHDOG
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the child deadlocked on a lock held at fork time")
            time.sleep(0.02)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        gate.touch()
        holder.join(WATCHDOG)
        del os.environ["TURNOUT_TEST_GATE"]
    assert not holder.is_alive()


@pytest.mark.timeout(WATCHDOG * 2)
def test_many_threads_select_decorate_and_refresh(install, make_dispatcher):
    for i in range(4):
        slow_backend(install, f"b{i}", delay=0.01)
    dispatcher = make_dispatcher(untrusted="allow")
    functions = []
    lock = threading.Lock()
    deadline = time.monotonic() + 1.5

    def worker(index):
        def run():
            while time.monotonic() < deadline:

                @dispatcher.backend_dispatch
                def add(a, b):
                    return ("cpu", a + b)

                with lock:
                    functions.append(add)
                assert add(1, 2, backend=f"b{index % 4}") == (f"b{index % 4}", 3)
                if index == 0:
                    dispatcher.refresh()

        return run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurnoutWarning)
        run_bounded(*(worker(i) for i in range(6)))
    assert functions


def test_untrusted_label_lookalikes_are_refused(install, make_dispatcher, backend_source):
    install(
        "real-good", {"hx_good": "real_good:Backend"}, {"real_good.py": backend_source("hx_good")}
    )
    install(
        "fake-good", {"HX-GOOD": "fake_good:Backend"}, {"fake_good.py": backend_source("HX-GOOD")}
    )
    install("fake-cpu", {"Cpu": "fake_cpu:Backend"}, {"fake_cpu.py": backend_source("Cpu")})
    install(
        "fake-res", {"Tpu.Next": "fake_res:Backend"}, {"fake_res.py": backend_source("Tpu.Next")}
    )
    dispatcher = make_dispatcher(
        trusted_backends={"hx_good": {"package": "real-good"}},
        reserved_backends={"tpu_next": "reserved for the official TPU backend"},
    )
    with pytest.warns(EntryPointRejectedWarning) as record:
        dispatcher.discover()
    messages = " ".join(str(w.message) for w in record)
    assert "look-alike of trusted backend 'hx_good'" in messages
    assert "look-alike of 'cpu'" in messages
    assert "look-alike of reserved" in messages
    assert dispatcher.available_backend_names() == ["hx_good"]
    assert install.imported() == ["real_good"]  # refused before import


class _ExtraFinder:
    """A distribution finder that provides nothing: its presence makes turnout ask importlib."""

    @staticmethod
    def find_spec(*args, **kwargs):
        return None

    @staticmethod
    def find_distributions(context=None):
        return iter(())


@pytest.mark.parametrize("through", ["the scan", "importlib.metadata"])
def test_invalid_entry_point_values_are_refused_before_import(
    install, make_dispatcher, backend_source, monkeypatch, through
):
    if through == "importlib.metadata":  # whose own parser raises on such a value
        monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, _ExtraFinder()])
    install(
        "bad-value", {"bad": "bad_mod:Backend; import os"}, {"bad_mod.py": backend_source("bad")}
    )
    install("good-value", {"good": "good_mod:Backend"}, {"good_mod.py": backend_source("good")})
    dispatcher = make_dispatcher()
    with pytest.warns(EntryPointRejectedWarning, match="its value is invalid"):
        dispatcher.discover()
    assert install.imported() == ["good_mod"]
    assert dispatcher.settings.available_backends() == ["good"]


def test_the_importlib_metadata_backport_keeps_the_scan(install, make_dispatcher, backend_source):
    # The backport adds its own sys.path finder when imported; it reads what the scan reads.
    pytest.importorskip("importlib_metadata", reason="the importlib_metadata backport")
    from turnout._entrypoints import entry_points, standard_finders_only  # noqa: PLC0415

    assert standard_finders_only()
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": backend_source("a")})
    stats: dict[str, object] = {}
    assert [p.name for p in entry_points(make_dispatcher().entrypoint_group, stats=stats)] == ["a"]
    assert not str(stats["source"]).startswith("importlib.metadata")


def test_a_label_that_cannot_be_valid_raises_at_once_importing_nothing(
    install, make_dispatcher, backend_source
):
    from turnout import UnknownBackendError  # noqa: PLC0415

    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    dispatcher = make_dispatcher()

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    for label in (" cpu ", "a b", "é"):
        with pytest.raises(UnknownBackendError, match="not a valid label"):
            add(1, 2, backend=label)
    assert install.imported() == []
    assert "turnout" in sys.modules
