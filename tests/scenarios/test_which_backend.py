"""Which backend runs a call: one answer for calls, classes, explain(), snapshots and settings.

Each test installs real distributions (``*.dist-info`` with entry points) and
drives the host through its public API.
"""

from __future__ import annotations

import json
import pickle

import pytest

from turnout import (
    BackendRefusedError,
    BackendSignatureWarning,
    ConfigurationError,
    ConfigurationWarning,
    DeprecatedBackendWarning,
    DispatchDefinitionError,
    FallbackWarning,
    MissingImplementationError,
    TurnoutError,
    UnknownBackendError,
    UnknownFunctionError,
)

BACKEND_A = """
class Backend:
    name = "a"
    aliases = ["alpha"]

    def add(self, a, b):
        return ("a", a + b)

    def scale(self, x):
        return ("a", x * 2)

    class Model:
        implementation = "a"

        def __init__(self, size=1):
            self.size = size
"""

BACKEND_B = """
class Backend:
    name = "b"

    def add(self, a, b):
        return ("b", a + b)
"""

TRUSTED = {"a": {"package": "pkg-a"}, "b": {"package": "pkg-b"}}


@pytest.fixture
def host(install, make_dispatcher):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": BACKEND_A})
    install("pkg-b", {"b": "mod_b:Backend"}, {"mod_b.py": BACKEND_B})
    return build(make_dispatcher)


def build(make_dispatcher, **options):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, **options)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    @dispatcher.backend_dispatch
    def scale(x):
        return ("cpu", x * 2)

    @dispatcher.backend_class
    class Model:
        implementation = "cpu"

        def __init__(self, size=1):
            self.size = size

    dispatcher.add, dispatcher.scale, dispatcher.Model = add, scale, Model
    return dispatcher


# -- lists mean the same everywhere ---------------------------------------------------------


def test_cpu_anywhere_in_a_list_means_the_hosts_code_at_that_position(host):
    add, scale, model, settings = host.add, host.scale, host.Model, host.settings
    assert add(1, 2, backend=["a", "cpu"]) == ("a", 3)
    assert add(1, 2, backend=["cpu", "a"]) == ("cpu", 3)
    with settings.use_fallback("error"):  # "cpu" is the user's choice there: no fallback
        assert scale(2, backend=["b", "cpu", "a"]) == ("cpu", 4)
        assert model(backend=["b", "cpu"]).implementation == "cpu"
    assert model(backend=["a", "cpu"]).implementation == "a"
    assert model(backend=["cpu", "a"]).implementation == "cpu"
    with settings.use_backend(["cpu", "a"]) as chosen:
        assert chosen == ["cpu", "a"]
        assert add(1, 2) == ("cpu", 3)
    settings.backend = ["alpha", "cpu"]
    assert settings.backend == ["a", "cpu"]  # canonical labels, "cpu" where it stands
    assert add(1, 2) == ("a", 3)
    settings.backend = "cpu,b"
    assert settings.backend == ["cpu", "b"]
    assert add(1, 2) == ("cpu", 3)
    settings.priority["add"] = ["cpu", "a"]
    settings.backend = "a"
    assert add(1, 2) == ("cpu", 3)
    assert scale(2) == ("a", 4)


def test_a_list_without_cpu_still_falls_back_under_the_policy(host):
    with host.settings.use_fallback("error"), pytest.raises(MissingImplementationError):
        host.scale(2, backend=["b"])
    with host.settings.use_fallback("warn"), pytest.warns(FallbackWarning):
        assert host.Model(backend=["b"]).implementation == "cpu"


def test_the_environment_reads_lists_as_everything_else_does(install, make_dispatcher, monkeypatch):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": BACKEND_A})
    monkeypatch.setenv("TESTHOST_BACKEND", "cpu,a")
    first = build(make_dispatcher)
    assert first.add(1, 2) == ("cpu", 3)  # "cpu" first: the host's code
    assert first.settings.backend == ["cpu", "a"]
    monkeypatch.setenv("TESTHOST_BACKEND", "nope,alpha")
    second = build(make_dispatcher)
    with pytest.warns(ConfigurationWarning, match=r"'nope' is ignored.*Unknown backend 'nope'"):
        assert second.add(1, 2) == ("a", 3)
    assert second.settings.backend == ["a"]  # the unknown label is not kept


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([], ConfigurationError),
        ([["cpu"]], ConfigurationError),
        ([3], UnknownBackendError),
        (" , ", UnknownBackendError),  # a label typed as text, with none between its commas
    ],
)
def test_a_malformed_selection_raises_one_error_in_every_form(host, value, error):
    settings = host.settings
    forms = {
        "call": lambda: host.add(1, 2, backend=value),
        "class": lambda: host.Model(backend=value),
        "scope": lambda: settings.use_backend(value).__enter__(),
        "global": lambda: setattr(settings, "backend", value),
        "per-function": lambda: settings.priority.__setitem__("add", value),
        "explain": lambda: host.explain(host.add, 1, 2, backend=value),
    }
    for form, make in forms.items():
        with pytest.raises(error) as raised:
            make()
        assert isinstance(raised.value, TurnoutError), form
        assert type(raised.value) is error, form
    assert settings.backend == "cpu"
    assert dict(settings.priority) == {}


def test_a_priority_for_a_function_the_host_lacks_says_what_it_might_be(host):
    with pytest.raises(UnknownFunctionError) as raised:
        host.settings.priority["ad"] = ["a"]
    assert raised.value.suggestions == ("add",)
    assert "Did you mean 'add'?" in str(raised.value)
    assert isinstance(raised.value, KeyError)


def test_a_per_function_priority_means_the_same_for_classes_and_functions(host):
    model, add = host.Model, host.add
    settings = host.settings
    settings.priority[f"{model.__module__}.{model.__qualname__}"] = ["a"]
    settings.priority[f"{add.__module__}.{add.__qualname__}"] = ["b"]
    assert model().implementation == "a"
    assert add(1, 2) == ("b", 3)
    assert dict(settings.priority) == {"Model": ["a"], "add": ["b"]}  # by dispatch key


# -- declines leave no trace; hook verdicts -----------------------------------------------

CONVERTING = """
class PArr:
    def __init__(self, values):
        self.values = list(values)

class Backend:
    name = "a"

    def convert_from_host(self, value, *, function, parameter):
        return PArr(value)

    def total(self, values):
        raise NotImplementedError("not today")
"""

SECOND = """
class Backend:
    name = "b"

    def total(self, values):
        return ("b", sum(values))
"""


def test_a_backend_that_converts_then_declines_leaves_the_callers_arguments(
    install, make_dispatcher
):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": CONVERTING})
    install("pkg-b", {"b": "mod_b:Backend"}, {"mod_b.py": SECOND})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch(convert=("values",))
    def total(values):
        return ("cpu", sum(values))

    assert total([1, 2], backend="a") == ("cpu", 3)  # the host's code got the list
    assert total([1, 2], backend=["a", "b"]) == ("b", 3)  # and so did the next candidate


HOOKED = """
class Backend:
    name = "a"

    def add(self, a, b):
        return ("a", a + b)

    def _verdict(a, b):
        return {{1: 1, 2: 0, 3: "", 4: "too big", 5: None, 6: True}}[a]

    add.can_run = staticmethod(_verdict)
"""


@pytest.mark.parametrize(
    ("a", "runs", "reason"),
    [
        (1, True, None),
        (2, False, "no"),
        (3, False, "no"),
        (4, False, "'too big'"),
        (5, False, "no"),
        (6, True, None),
    ],
)
def test_a_hook_answer_is_judged_by_its_truth_and_a_string_is_a_reason(
    install, make_dispatcher, a, runs, reason
):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": HOOKED.format()})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(a, 0, backend="a")[0] == ("a" if runs else "cpu")
    explained = dispatcher.explain(add, a, 0, backend="a")
    assert explained.fallback is not runs
    if reason is not None:
        assert f"a: can_run said {reason}" in explained.notes


# -- explain accepts what a call accepts ------------------------------------------------------


def test_explain_takes_aliases_deprecated_labels_lists_and_no_arguments(install, make_dispatcher):
    install("pkg-a", {"a": "mod_a:Backend"}, {"mod_a.py": BACKEND_A})
    install("pkg-b", {"b": "mod_b:Backend"}, {"mod_b.py": BACKEND_B})
    host = build(make_dispatcher, deprecated_backends={"old_a": "a"})
    assert host.explain(host.add, 1, 2, backend="alpha").backend == "a"
    assert host.explain(host.add, 1, 2, backend="old_a").backend == "a"
    with pytest.warns(DeprecatedBackendWarning):
        assert host.add(1, 2, backend="old_a") == ("a", 3)  # the call agrees
    assert host.explain(host.scale, 2, backend=["b", "alpha"]).backend == "a"
    assert host.explain(host.scale, 2, backend="b,cpu").backend == "cpu"
    assert host.explain(host.add, backend="a").backend == "a"  # no call arguments
    assert host.explain(host.Model, backend=["b", "a"]).backend == "a"


ARRAYS = """
class Chunked:
    def __init__(self, chunks):
        self.chunks = chunks
"""

OWNER = """
class Backend:
    name = "fast"

    def total(self, values, start=0):
        return ("fast", start)
"""


def test_explain_says_when_the_answer_depends_on_an_argument_not_given(install, make_dispatcher):
    install("array-library", {}, {"array_library.py": ARRAYS})
    info = {"name": "fast", "types": ["array_library:Chunked"], "functions": ["total"]}
    install(
        "pkg-fast",
        {"fast": "mod_fast:Backend"},
        {
            "mod_fast/__init__.py": OWNER,
            "mod_fast/turnout-backend.json": json.dumps({install.group: info}),
        },
    )
    dispatcher = make_dispatcher(trusted_backends={"fast": {"package": "pkg-fast"}}, automatic=True)

    @dispatcher.backend_dispatch
    def total(values, start=0):
        return ("cpu", start + sum(values))

    explained = dispatcher.explain(total, start=1)
    assert explained.backend == "cpu"
    assert any("depends on the type of values" in note for note in explained.notes)


# -- the version handshake finds the host by its package ------------------------------------

HOSTLIB = """
from turnout import BackendDispatcher

__version__ = "1.5"

dispatcher = BackendDispatcher("hostlib.backends", "HostLib")


@dispatcher.backend_dispatch
def add(a, b):
    return ("cpu", a + b)
"""


def test_the_host_version_comes_from_the_package_that_created_the_dispatcher(site):
    info = {"hostlib.backends": {"name": "newer", "host_versions": ">=2"}}
    site.add("hostlib", "1.5", modules={"hostlib/__init__.py": HOSTLIB})
    site.add(
        "hostlib-newer",
        entry_points={"hostlib.backends": {"newer": "hostlib_newer:Backend"}},
        modules={
            "hostlib_newer/__init__.py": (
                "class Backend:\n    name = 'newer'\n"
                "    def add(self, a, b):\n        return ('newer', a + b)\n"
            ),
            "hostlib_newer/turnout-backend.json": json.dumps(info),
        },
    )
    import hostlib  # noqa: PLC0415 - written by this test

    with pytest.warns(Warning, match="supports HostLib >=2, but HostLib 1.5 is installed"):
        with pytest.raises(BackendRefusedError):
            hostlib.add(1, 2, backend="newer")


# -- dispatch keys ----------------------------------------------------------------------

SUB = """
from keyhost import dispatcher


@dispatcher.backend_dispatch{options}
def mean(values):
    return ("cpu sub", sum(values) / len(values))
"""

KEYHOST = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "keyhost", trusted_backends={{"a": {{"package": "pkg-a"}}}})


@dispatcher.backend_dispatch
def mean(values):
    return ("cpu", sum(values) / len(values))
"""

KEYED = """
class Backend:
    name = "a"

    def mean(self, values):
        return ("a", 0.0)

    def sub_mean(self, values):
        return ("a sub", 0.0)
"""


def test_two_functions_of_one_name_in_two_modules_are_distinct(site, group):
    site.add("pkg-a", entry_points={group: {"a": "keyed_a:Backend"}}, modules={"keyed_a.py": KEYED})
    site.add(
        "keyhost",
        modules={
            "keyhost/__init__.py": KEYHOST.format(group=group),
            "keyhost/clash.py": SUB.format(options=""),
            "keyhost/sub.py": SUB.format(options="(name='sub_mean')"),
        },
    )
    import keyhost  # noqa: PLC0415 - written by this test

    with pytest.raises(DispatchDefinitionError, match="dispatch key 'mean' is already"):
        import keyhost.clash  # noqa: PLC0415
    import keyhost.sub  # noqa: PLC0415

    assert keyhost.mean([1.0], backend="a") == ("a", 0.0)
    assert keyhost.sub.mean([1.0], backend="a") == ("a sub", 0.0)
    support = keyhost.dispatcher.support(keys=True)
    assert support["mean"] == {"a": ()}
    assert support["sub_mean"] == {"a": ()}
    (info,) = [info for info in keyhost.dispatcher.report() if info.name == "a"]
    assert info.keys == ("mean", "sub_mean")


# -- snapshots agree with settings ---------------------------------------------------------


def test_a_snapshot_carries_lists_with_cpu_and_per_function_keys(host):
    settings = host.settings
    settings.backend = ["alpha", "cpu"]
    settings.priority[f"{host.add.__module__}.{host.add.__qualname__}"] = ["b"]
    snapshot = pickle.loads(pickle.dumps(settings.snapshot()))
    assert snapshot.backend == ("a", "cpu")
    assert snapshot.priority == (("add", ("b",)),)
    del settings.backend
    settings.priority.clear()
    with settings.applied(snapshot):
        assert settings.backend == ["a", "cpu"]
        assert host.add(1, 2) == ("b", 3)
        assert host.scale(2) == ("a", 4)


RENAMED = """
class Backend:
    name = "renamed"

    def mean(self, vals):  # the host calls it `values`
        return ("renamed", vals)

    def total(self, values):
        return ("renamed", sum(values))
"""


def test_report_names_each_function_a_backend_cannot_serve(install, make_dispatcher):
    install("host-renamed", {"renamed": "host_renamed:Backend"}, {"host_renamed.py": RENAMED})
    dispatcher = make_dispatcher(trusted_backends={"renamed": {"package": "host-renamed"}})

    @dispatcher.backend_dispatch
    def mean(values):
        return ("cpu", values)

    @dispatcher.backend_dispatch
    def total(values):
        return ("cpu", sum(values))

    with (
        pytest.warns(BackendSignatureWarning, match="'vals' of its mean"),
        pytest.raises(DispatchDefinitionError, match="cannot serve it"),
    ):
        mean([1], backend="renamed")  # named by the call: the error
    with dispatcher.settings.use_fallback("warn"), pytest.warns(FallbackWarning, match="serve"):
        assert mean([1], backend=["renamed"]) == ("cpu", [1])  # a list: the host's code next
    (info,) = dispatcher.report()
    assert info.implements == (
        mean.__module__ + "." + mean.__qualname__,
        total.__module__ + "." + total.__qualname__,
    )
    (problem,) = info.problems
    assert problem.startswith(f"{mean.__module__}.{mean.__qualname__}: ")
    assert "cannot serve it" in problem
    assert "'values'" in problem  # what the host requires and the backend does not take
    assert info.as_dict()["problems"] == [problem]  # python -m turnout --json
