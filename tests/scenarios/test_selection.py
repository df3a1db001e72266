"""Automatic selection: priority lists, argument types, hooks, conversion, switches, metadata."""

from __future__ import annotations

import json
import logging
import operator
import os
import subprocess
import sys
import textwrap

import pytest

from turnout import (
    BackendRefusedError,
    ConfigurationError,
    DeprecatedBackendWarning,
    EntryPointRejectedWarning,
    FallbackWarning,
    MissingImplementationError,
    parameter_map,
)

LISTED = """
class Backend:
    name = {name!r}

    def add(self, a, b):
        return ({name!r}, a + b)
{extra}
"""

HOSTS = {"a": {"package": "pkg-a"}, "b": {"package": "pkg-b"}, "c": {"package": "pkg-c"}}


def listed(install, name, extra=""):
    install(
        f"pkg-{name}",
        {name: f"mod_{name}:Backend"},
        {f"mod_{name}.py": LISTED.format(name=name, extra=extra)},
    )


@pytest.fixture
def hosted(install, make_dispatcher):
    listed(install, "a")
    listed(install, "b", "\n    def scale(self, x):\n        return ('b', x * 2)\n")
    dispatcher = make_dispatcher(trusted_backends=HOSTS)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    @dispatcher.backend_dispatch
    def scale(x):
        return ("cpu", x * 2)

    @dispatcher.backend_dispatch
    def subtract(a, b):
        return ("cpu", a - b)

    dispatcher.add, dispatcher.scale, dispatcher.subtract = add, scale, subtract
    return dispatcher


# -- priority lists ---------------------------------------------------------------------------


def test_a_priority_list_runs_the_first_backend_that_implements_the_function(hosted):
    settings = hosted.settings
    settings.backend = ["a", "b"]
    assert settings.backend == ["a", "b"]
    assert hosted.add(1, 2) == ("a", 3)
    assert hosted.scale(2) == ("b", 4)  # a lacks it: the next one
    assert hosted.subtract(3, 1) == ("cpu", 2)  # none has it: the host's code
    with (
        settings.use_fallback("warn"),
        pytest.warns(FallbackWarning, match="a, b.*does not implement"),
    ):
        hosted.subtract(3, 1)
    with settings.use_fallback("error"), pytest.raises(MissingImplementationError, match="a: does"):
        hosted.subtract(3, 1)
    settings.backend = "b,a"
    assert hosted.add(1, 2) == ("b", 3)
    with settings.use_backend(["a", "b"]) as chosen:
        assert chosen == ["a", "b"]
        assert hosted.add(1, 2) == ("a", 3)
    assert hosted.add(1, 2, backend=["b"]) == ("b", 3)
    assert hosted.add(1, 2, backend=("a", "b")) == ("a", 3)
    with pytest.raises(ConfigurationError, match="non-empty list"):
        settings.backend = []


def test_a_priority_list_from_the_environment(hosted, monkeypatch, make_dispatcher):
    monkeypatch.setenv("TESTHOST_BACKEND", "b,a")
    dispatcher = make_dispatcher(trusted_backends=HOSTS)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert dispatcher.settings.backend == ["b", "a"]
    assert add(1, 2) == ("b", 3)


def test_a_per_function_priority_replaces_the_global_setting_for_that_function(hosted):
    settings = hosted.settings
    settings.backend = "b"
    settings.priority["add"] = ["a"]
    assert hosted.add(1, 2) == ("a", 3)
    assert hosted.scale(2) == ("b", 4)
    with settings.use_backend("b"):
        assert hosted.add(1, 2) == ("b", 3)  # a scope still wins
    assert hosted.add(1, 2, backend="b") == ("b", 3)  # and the call's keyword
    assert "settings.priority" in str(hosted.explain(hosted.add, 1, 2))
    del settings.priority["add"]
    assert hosted.add(1, 2) == ("b", 3)
    assert dict(settings.priority) == {}


# -- hooks and declines -------------------------------------------------------------------------

HOOKED = """
class Backend:
    name = "a"

    def add(self, a, b):
        if a < 0:
            raise NotImplementedError("negative input")
        return ("a", a + b)

    def _small(a, b):
        return True if a < 100 else f"{a} is too large for this device"

    add.can_run = staticmethod(_small)

    def should_run(self, name, args, kwargs):
        return "not worth it for b == 0" if args[1] == 0 else True
"""


def test_can_run_should_run_and_not_implemented_move_on_with_reasons(
    install, make_dispatcher, caplog
):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": HOOKED})
    listed(install, "b")
    dispatcher = make_dispatcher(trusted_backends=HOSTS)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    settings = dispatcher.settings
    settings.backend = ["a", "b"]
    assert add(1, 2) == ("a", 3)
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        assert add(500, 2) == ("b", 502)  # can_run said no
    assert any("too large for this device" in message for message in caplog.messages)
    assert add(1, 0) == ("b", 1)  # should_run said no
    assert add(-1, 2) == ("b", 1)  # NotImplementedError: the next candidate
    explained = str(dispatcher.explain(add, 500, 2))
    assert "500 is too large" in explained
    assert "backend 'b'" in explained
    settings.backend = "a"  # one backend: can_run is asked, should_run is not
    assert add(1, 0) == ("a", 1)
    with settings.use_fallback("error"):
        with pytest.raises(MissingImplementationError, match="too large for this device"):
            add(500, 2)
        with pytest.raises(MissingImplementationError, match="negative input"):
            add(-1, 2)
    with settings.use_fallback("warn"), pytest.warns(FallbackWarning, match="too large"):
        assert add(500, 2) == ("cpu", 502)


# -- automatic selection by argument type --------------------------------------------------------

ARRAY_LIBRARY = """
class Chunked:
    def __init__(self, chunks):
        self.chunks = chunks

class Special(Chunked):
    pass
"""

OWNER = """
import array_library

class Backend:
    name = {name!r}
    priority = {priority}

    def total(self, values, start=0):
        return ({name!r}, start + sum(sum(chunk) for chunk in values.chunks))
"""


def owner(install, name, *, priority=0, **declared):
    info = {"name": name, "types": ["array_library:Chunked"], "functions": ["total"], **declared}
    if priority:
        info["priority"] = priority
    install(
        f"pkg-{name}",
        {name: f"mod_{name}:Backend"},
        {
            f"mod_{name}/__init__.py": OWNER.format(name=name, priority=priority),
            f"mod_{name}/turnout-backend.json": json.dumps({install.group: info}),
        },
    )


@pytest.fixture
def arrays(install):
    install("array-library", {}, {"array_library.py": ARRAY_LIBRARY})
    return install


def automatic_host(make_dispatcher, **options):
    dispatcher = make_dispatcher(
        trusted_backends={"fast": {"package": "pkg-fast"}, "other": {"package": "pkg-other"}},
        automatic=True,
        **options,
    )

    @dispatcher.backend_dispatch
    def total(values, start=0):
        return ("cpu", start + sum(values))

    return dispatcher, total


def test_a_call_goes_to_the_backend_that_owns_its_argument_type(arrays, make_dispatcher):
    owner(arrays, "fast")
    dispatcher, total = automatic_host(make_dispatcher)
    assert total([1, 2]) == ("cpu", 3)
    assert arrays.imported() == []  # a list: nothing imported, metadata only
    import array_library  # noqa: PLC0415 - written by this test

    assert total(array_library.Chunked([[1, 2], [3]])) == ("fast", 6)
    assert total(array_library.Special([[1]]), start=1) == ("fast", 2)  # by the MRO
    assert "mod_fast" in arrays.imported()
    assert total([1, 2], backend="cpu") == ("cpu", 3)
    explained = str(dispatcher.explain(total, array_library.Chunked([[1]])))
    assert "automatic selection" in explained
    assert "'fast' owns array_library:Chunked" in explained


def test_priority_decides_between_two_owners_and_explain_says_why(arrays, make_dispatcher):
    owner(arrays, "fast", priority=10)
    owner(arrays, "other", priority=1)
    dispatcher, total = automatic_host(make_dispatcher)
    import array_library  # noqa: PLC0415

    data = array_library.Chunked([[1]])
    assert total(data) == ("fast", 1)
    assert "(priority 10)" in str(dispatcher.explain(total, data))
    dispatcher.settings.backend = ["other"]  # the user's preference comes first
    assert total(data) == ("other", 1)


def test_an_untrusted_owner_runs_only_once_opted_in(arrays, make_dispatcher):
    owner(arrays, "stranger")
    owner(arrays, "other", requires_opt_in=True)  # trusted, but asks to be opted in
    dispatcher, total = automatic_host(make_dispatcher, untrusted="allow")
    import array_library  # noqa: PLC0415

    data = array_library.Chunked([[2]])
    with pytest.raises(TypeError):  # not chosen: the host's own code, which cannot sum it
        total(data)
    explained = str(dispatcher.explain(total, data))
    assert "'stranger' owns array_library:Chunked but the host does not trust it" in explained
    assert "'other' owns array_library:Chunked but it asks to be opted in" in explained
    dispatcher.settings.opt_in("stranger")
    assert total(data) == ("stranger", 2)


def test_switches_and_the_kill_switch(arrays, make_dispatcher, monkeypatch):
    owner(arrays, "fast")
    dispatcher, total = automatic_host(make_dispatcher)
    import array_library  # noqa: PLC0415

    data = array_library.Chunked([[2]])
    settings = dispatcher.settings
    assert settings.automatic
    with settings.use_automatic(False):
        with pytest.raises(TypeError):  # the host's own code cannot sum a Chunked
            total(data)
    assert total(data) == ("fast", 2)
    settings.automatic = False
    with pytest.raises(TypeError):
        total(data)
    with settings.use_automatic(True):
        assert total(data) == ("fast", 2)
    settings.automatic = True
    settings.backend = "cpu"  # an explicit "cpu" is the host's code, whatever the types
    assert settings.backend == "cpu"
    with pytest.raises(TypeError):
        total(data)
    del settings.backend  # forgets the choice: automatic selection again
    assert settings.backend == "cpu"
    assert total(data) == ("fast", 2)
    monkeypatch.setenv("TESTHOST_AUTOMATIC", "0")
    off, _ = automatic_host(make_dispatcher)
    assert not off.settings.automatic
    monkeypatch.setenv("TESTHOST_BACKEND", "cpu")
    monkeypatch.setenv("TESTHOST_STRICT", "1")
    monkeypatch.setenv("TESTHOST_AUTOMATIC", "1")
    forced, total_forced = automatic_host(make_dispatcher)
    assert forced.settings.forced
    forced.settings.backend = "fast"  # ignored: the environment forces the host's code
    assert forced.settings.backend == "cpu"
    assert total_forced([1], backend="fast") == ("cpu", 1)
    with forced.settings.use_backend("fast"):
        assert total_forced([1]) == ("cpu", 1)


# -- conversion, parameter maps ------------------------------------------------------------------

CONVERTING = """
import array_library

converted = []

class Backend:
    name = "fast"
    types = ["array_library:Chunked"]

    def convert_from_host(self, value, *, function, parameter):
        converted.append((function, parameter))
        return array_library.Chunked([list(value)])

    def convert_to_host(self, result, *, function):
        return ("back", result)

    def total(self, values, start=0):
        return sum(sum(chunk) for chunk in values.chunks) + start
"""


def test_conversion_when_both_sides_declare_it_with_a_scoped_cache(arrays, make_dispatcher):
    arrays("pkg-fast", {"fast": "mod_fast:Backend"}, {"mod_fast.py": CONVERTING})
    dispatcher = make_dispatcher(trusted_backends={"fast": {"package": "pkg-fast"}})

    @dispatcher.backend_dispatch(convert=("values",))
    def total(values, start=0):
        return start + sum(values)

    @dispatcher.backend_dispatch
    def plain(values, start=0):
        return start + sum(values)

    import array_library  # noqa: PLC0415

    assert total([1, 2], backend="fast") == ("back", 3)
    assert total(array_library.Chunked([[1, 2]]), backend="fast") == 3  # already its type
    import mod_fast  # noqa: PLC0415

    class Values(list):  # a list cannot be referenced weakly; this can
        pass

    log = mod_fast.converted
    log.clear()
    data = Values([4, 5])
    with dispatcher.settings.conversion_cache():
        for _ in range(3):
            assert total(data, backend="fast") == ("back", 9)
        assert len(log) == 1  # converted once in the scope
        assert log[0][1] == "values"
        total([1], backend="fast")
        total([1], backend="fast")
        assert len(log) == 3  # an object without weak references is converted each time
    total(data, backend="fast")
    assert len(log) == 4  # out of the scope: converted again
    assert plain([1], backend="fast") == 1  # the backend lacks it: the host's code
    assert len(log) == 4  # and nothing was converted


def test_parameter_maps_route_and_document_renames(install, make_dispatcher):
    source = """
import operator
from turnout import parameter_map

class Backend:
    name = "a"

    @staticmethod
    @parameter_map(data="adata", inplace=("copy", operator.not_))
    def embed(adata, n=2, copy=True):
        return ("a", adata, n, copy)
"""
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": source})
    dispatcher = make_dispatcher(trusted_backends=HOSTS)

    @dispatcher.backend_dispatch
    def embed(data, n=2, inplace=False):
        """Embed.

        Parameters
        ----------
        data
            The data.
        """
        return ("cpu", data, n, inplace)

    assert embed("X", inplace=True, backend="a") == ("a", "X", 2, False)
    assert embed("X", backend="a") == ("a", "X", 2, True)
    assert "Backend ``a`` takes ``data`` as ``adata``; ``inplace`` as ``copy``." in embed.__doc__
    notes = dispatcher.explain(embed, "X", inplace=True, backend="a").notes
    assert "'inplace' is passed as 'copy'" in notes
    with pytest.raises(ConfigurationError, match="'data'"):
        parameter_map(data=3)
    assert parameter_map(x=("y", operator.neg))(lambda x: x).turnout_parameters == {
        "x": ("y", operator.neg)
    }


# -- metadata without import: versions, deprecations, reports --------------------------------------


def test_a_backend_for_other_host_versions_is_refused_before_import(arrays, make_dispatcher):
    owner(arrays, "fast", host_versions=">=2.0")
    dispatcher = make_dispatcher(
        trusted_backends={"fast": {"package": "pkg-fast"}}, host_version="1.4"
    )
    with pytest.warns(
        EntryPointRejectedWarning, match="supports testhost >=2.0, but testhost 1.4 is installed"
    ):
        with pytest.raises(BackendRefusedError, match="upgrade"):
            dispatcher.settings.backend = "fast"
    assert "mod_fast" not in arrays.imported()
    source = "class Backend:\n    name = 'late'\n    host_versions = '<1'\n"
    arrays("pkg-late", {"late": "mod_late:Backend"}, {"mod_late.py": source})
    dispatcher.refresh()  # a new install, in a running process
    with pytest.warns(EntryPointRejectedWarning) as record:
        dispatcher.discover()
    assert any("supports testhost <1" in str(w.message) for w in record)
    assert "late" not in dispatcher.available_backend_names()


def test_a_deprecated_name_warns_and_points_at_the_new_one(hosted, make_dispatcher):
    dispatcher = make_dispatcher(trusted_backends=HOSTS, deprecated_backends={"old_a": "a"})
    with pytest.warns(DeprecatedBackendWarning, match="'old_a' is deprecated by testhost; use 'a'"):
        dispatcher.settings.backend = "old_a"
    assert dispatcher.settings.backend == "a"


def test_report_and_support_from_metadata_import_nothing(arrays, make_dispatcher):
    owner(arrays, "fast")
    dispatcher, total = automatic_host(make_dispatcher)
    report = dispatcher.report(load=False)
    (info,) = [info for info in report if info.name == "fast"]
    assert info.status.value == "not loaded"
    name = f"{total.__module__}.{total.__qualname__}"
    assert info.implements == (name,)
    assert dispatcher.support(load=False)[name] == {"fast": ()}
    assert arrays.imported() == []


def test_the_type_based_path_needs_no_import_of_the_array_library(arrays, site, group, tmp_path):
    owner(arrays, "fast")
    code = textwrap.dedent(f"""
        import sys
        from turnout import BackendDispatcher
        d = BackendDispatcher({group!r}, "h", automatic=True,
                              trusted_backends={{"fast": {{"package": "pkg-fast"}}}})
        @d.backend_dispatch
        def total(values, start=0):
            return start + sum(values)
        assert total([1, 2]) == 3
        assert "array_library" not in sys.modules and "mod_fast" not in sys.modules
    """)
    env = {**os.environ, "PYTHONPATH": str(site.root), "TURNOUT_CACHE_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
