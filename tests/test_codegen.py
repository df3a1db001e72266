"""Generated wrappers, routes and hook gates: each fast path keeps the semantics of the slow one.

Backend-only keywords are named parameters of the wrapper and its routes once a
backend that takes them is loaded (no ``**`` dict per call); hooks are asked by
generated code with the call rebuilt as the caller made it.
"""

from __future__ import annotations

import threading
import warnings

import pytest

from turnout import FallbackWarning, IgnoredArgumentWarning

GPU = """
class Backend:
    name = "gpu"

    def f(self, x, shared=1.0, backend_only=False):
        return ("gpu", x, shared, backend_only)
"""

JIT = """
class Backend:
    name = "jit"

    def f(self, x, shared=1.0, *, jit_only=0):
        return ("jit", x, shared, jit_only)
"""

TRUSTED = {"gpu": {"package": "host-gpu"}, "jit": {"package": "host-jit"}}


@pytest.fixture
def host(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": JIT})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def f(x, shared=1.0, host_only=None):
        """Compute.

        Parameters
        ----------
        x
            The input.
        shared
            Shared.
        host_only
            Only here.
        """
        return ("cpu", x, shared, host_only)

    return dispatcher, f


def test_a_backend_only_keyword_given_or_omitted(host):
    dispatcher, f = host
    assert f(1, backend="gpu") == ("gpu", 1, 1.0, False)  # omitted: the backend's default
    assert f(1, shared=2.0, backend_only=True, backend="gpu") == ("gpu", 1, 2.0, True)
    assert "backend_only" in f.__code__.co_varnames  # taken by name: no ** dict built
    assert f(1, backend_only=None, backend="gpu") == ("gpu", 1, 1.0, None)  # given as it is
    with dispatcher.settings.use_backend("gpu"):
        assert f(1, shared=2.0, backend_only=True) == ("gpu", 1, 2.0, True)
        assert f(1) == ("gpu", 1, 1.0, False)
    assert f(1) == ("cpu", 1, 1.0, None)
    with pytest.raises(TypeError, match=r"'backend_only'; only backend 'gpu' takes it"):
        f(1, backend_only=True)  # the host's own code does not take it
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'nobody'"):
        f(1, nobody=1, backend="gpu")


def test_another_backends_keyword_is_sorted_as_before(host):
    _, f = host
    assert f(1, backend="jit") == ("jit", 1, 1.0, 0)
    assert f(1, backend="gpu") == ("gpu", 1, 1.0, False)
    with pytest.warns(IgnoredArgumentWarning, match=r"'jit_only'=5 is ignored by backend 'gpu'"):
        assert f(1, jit_only=5, backend="gpu") == ("gpu", 1, 1.0, False)
    with pytest.warns(IgnoredArgumentWarning, match=r"'host_only'=3 is ignored by backend 'gpu'"):
        assert f(1, host_only=3, backend="gpu") == ("gpu", 1, 1.0, False)


def test_a_second_backend_merged_after_the_wrapper_was_specialised(host):
    dispatcher, f = host
    assert f(1) == ("cpu", 1, 1.0, None)  # specialised, no backend loaded yet
    assert f(1, backend_only=True, backend="gpu") == ("gpu", 1, 1.0, True)
    assert "jit_only" not in f.__code__.co_varnames
    gpu_route = dispatcher.explain(f, 1, backend="gpu")
    assert f(1, jit_only=7, backend="jit") == ("jit", 1, 1.0, 7)  # loads jit: merged
    assert f(1, jit_only=7, backend="jit") == ("jit", 1, 1.0, 7)  # specialised again
    assert {"backend_only", "jit_only"} <= set(f.__code__.co_varnames)
    assert f(1, backend_only=True, backend="gpu") == ("gpu", 1, 1.0, True)
    assert dispatcher.explain(f, 1, backend="gpu") == gpu_route


def test_a_merge_while_threads_call_serves_every_call(host):
    """Calls made with the wrapper and routes of before a merge still run right after it."""
    dispatcher, f = host
    f(1, backend="gpu")
    errors: list[BaseException] = []
    results: list[object] = []
    stop = threading.Event()

    def call() -> None:
        try:
            while not stop.is_set():
                results.append(f(1, shared=2.0, backend_only=True, backend="gpu"))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(20):
            dispatcher.refresh()
            f(1, jit_only=1, backend="jit")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert set(results) == {("gpu", 1, 2.0, True)}


HOOKED = """
SEEN = []

class Backend:
    name = "gpu"

    def can_run(self, name, args, kwargs):
        SEEN.append(("backend", name, args, kwargs))
        if kwargs.get("shared", 1.0) > 10:
            return "shared is too large"
        if kwargs.get("shared") == -1:
            raise KeyError("boom")
        return True

    def f(self, x, shared=1.0, backend_only=False):
        return ("gpu", x, shared, backend_only)

    def g(self, x, window=3):
        return ("gpu", x, window)

    g.can_run = lambda x, window=3: window < 5 or "window too long"
"""


@pytest.fixture
def hooked(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": HOOKED})
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}}, fallback="warn")

    @dispatcher.backend_dispatch
    def f(x, shared=1.0, host_only=None):
        return ("cpu", x, shared, host_only)

    @dispatcher.backend_dispatch
    def g(x, window=3):
        return ("cpu", x, window)

    import host_gpu  # noqa: PLC0415 - installed by the fixture

    return dispatcher, f, g, host_gpu.SEEN


def test_hooks_see_keywords_as_keywords(hooked):
    _, f, _, seen = hooked
    assert f(1, shared=2.0, backend_only=True, backend="gpu") == ("gpu", 1, 2.0, True)
    assert f(1, 2.0, backend="gpu") == ("gpu", 1, 2.0, False)
    assert f(x=1, backend="gpu") == ("gpu", 1, 1.0, False)
    assert seen == [
        ("backend", "f", (1,), {"shared": 2.0, "backend_only": True}),
        ("backend", "f", (1,), {"shared": 2.0}),
        ("backend", "f", (1,), {}),
    ]


def test_a_hook_saying_no_runs_the_host_code_with_its_reason(hooked):
    dispatcher, f, g, _ = hooked
    with pytest.warns(FallbackWarning, match="can_run said 'shared is too large'"):
        assert f(1, shared=20.0, backend="gpu") == ("cpu", 1, 20.0, None)
    assert g(1, window=2, backend="gpu") == ("gpu", 1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        assert g(1, window=9, backend="gpu") == ("cpu", 1, 9)
    with dispatcher.settings.use_backend(["gpu", "cpu"]):  # closed by cpu: no warning
        assert g(1, 9) == ("cpu", 1, 9)
        assert g(1, 4) == ("gpu", 1, 4)


def test_a_hook_that_raises_propagates_with_a_note(hooked):
    _, f, _, _ = hooked
    with pytest.raises(KeyError, match="boom") as caught:
        f(1, shared=-1, backend="gpu")
    notes = getattr(caught.value, "__notes__", [])
    assert len(notes) == 1
    assert "can_run hook" in notes[0]
    assert "of backend 'gpu'" in notes[0]
    assert "f()" in notes[0]


def test_the_process_wide_choice_before_and_after_the_first_scope(host):
    """Until a scope is entered the wrapper reads the process-wide choice from a cell;
    a scope in one thread never changes what another thread runs."""
    dispatcher, f = host
    settings = dispatcher.settings
    assert f(1) == ("cpu", 1, 1.0, None)
    settings.backend = "gpu"
    assert f(1) == ("gpu", 1, 1.0, False)
    settings.backend = "cpu"
    assert f(1) == ("cpu", 1, 1.0, None)
    entered, leave = threading.Event(), threading.Event()
    seen: list[object] = []

    def scoped() -> None:
        with settings.use_backend("jit"):
            seen.append(f(1))
            entered.set()
            leave.wait(10)
            seen.append(f(1))

    thread = threading.Thread(target=scoped)
    thread.start()
    entered.wait(10)
    assert f(1) == ("cpu", 1, 1.0, None)  # this thread is in no scope
    leave.set()
    thread.join()
    assert seen == [("jit", 1, 1.0, 0), ("jit", 1, 1.0, 0)]
    settings.backend = "gpu"
    assert f(1) == ("gpu", 1, 1.0, False)


OWNER = """
class Cells:
    pass


class Backend:
    name = "gpu"
    types = ("host_gpu:Cells",)

    def f(self, x, shared=1.0, backend_only=False):
        return ("gpu", type(x).__name__, backend_only)
"""


def test_automatic_selection_routes_by_type_in_the_wrapper(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": OWNER})
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}}, automatic=True)

    @dispatcher.backend_dispatch
    def f(x, shared=1.0, host_only=None):
        return ("cpu", type(x).__name__, host_only)

    from host_gpu import Cells  # noqa: PLC0415 - installed above

    dispatcher.discover()
    for _ in range(2):  # the first call of each type makes its route, the second reads it
        assert f(1) == ("cpu", "int", None)
        assert f(Cells()) == ("gpu", "Cells", False)
        assert f(Cells(), backend_only=True) == ("gpu", "Cells", True)
        assert f(1.5, host_only=2) == ("cpu", "float", 2)
    with pytest.raises(TypeError, match="only backend 'gpu' takes it"):
        f(1, backend_only=True)  # the host's code runs for an int
    with dispatcher.settings.use_automatic(False):
        assert f(Cells()) == ("cpu", "Cells", None)
    assert f(Cells()) == ("gpu", "Cells", False)

    class Ints:
        name = "ints"
        types = ("builtins:int",)

        def f(self, x, shared=1.0):
            return ("ints", type(x).__name__)

    with dispatcher.registered(Ints()):  # a new owner: the wrapper's table starts over
        dispatcher.settings.opt_in("ints")
        assert f(1) == ("ints", "int")
    assert f(1) == ("cpu", "int", None)


def test_a_backend_registered_after_the_first_call_is_merged(host):
    dispatcher, f = host
    assert f(1) == ("cpu", 1, 1.0, None)

    class Late:
        name = "late"

        def f(self, x, shared=1.0, late_only=0):
            """Compute late.

            Parameters
            ----------
            late_only
                Late.
            """
            return ("late", x, late_only)

    with dispatcher.registered(Late()):
        assert "late_only" in f.__doc__
        assert f(1, late_only=3, backend="late") == ("late", 1, 3)
        assert "late_only" in f.__code__.co_varnames
