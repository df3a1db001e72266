"""The backend author kit: check_backend, the pytest fixture, run_conformance."""

from __future__ import annotations

import inspect
import json
import types

import pytest

from turnout import BackendDispatcher
from turnout.testing import Finding, assert_conformance, check_backend, run_conformance

pytest_plugins = ["turnout.testing.fixtures"]  # the fixture is opt-in


@pytest.fixture
def dispatcher():
    dispatcher = BackendDispatcher(
        "conformance_tests.never_installed", "host", reserved_backends={"tpu": "not yet"}
    )

    @dispatcher.backend_dispatch
    def score(data, scale=1.0):
        return data

    @dispatcher.backend_dispatch
    def shift(data):
        return data

    @dispatcher.backend_dispatch
    def combine(a, b):
        return a + b

    @dispatcher.backend_dispatch
    def window(data, *rest):
        return data

    @dispatcher.backend_class
    class Model:
        pass

    return dispatcher


class Good:
    name = "good"
    aliases = ("g",)

    def score(self, data, scale=1.0, *, method="fast"):
        """Score.

        Parameters
        ----------
        data
            The data.
        method
            How.
        """
        return data

    def combine(self, a, b):
        return a + b

    class Model:
        pass

    def _helper(self):
        pass

    def extra_tool(self):
        pass


class Broken:
    name = "cpu"
    aliases = ("bad alias", "tpu")
    score = 3

    def shift(self, data, *, mode):
        return data

    def combine(self, b, a):
        return a + b

    def window(self, data):
        return data

    def helper(self):
        pass

    Model = staticmethod(lambda: None)


class Undocumented:
    name = "undocumented"

    def score(self, data, *, method="fast"):
        """No parameters section."""
        return data


def codes(findings):
    return sorted((finding.code, finding.target) for finding in findings)


def test_a_conforming_backend_has_no_findings(dispatcher):
    assert check_backend(dispatcher, Good, private=["extra_tool"]) == []
    assert_conformance(dispatcher, Good(), private=["extra_tool"])


def test_a_broken_backend_produces_each_kind_of_finding(dispatcher):
    findings = check_backend(dispatcher, Broken)
    assert all(isinstance(finding, Finding) for finding in findings)
    assert codes(findings) == [
        ("cannot-serve", "shift"),
        ("cannot-serve", "window"),
        ("invalid-alias", "aliases"),
        ("invalid-alias", "aliases"),
        ("not-callable", "Model"),
        ("not-callable", "score"),
        ("positional-order", "combine"),
        ("reserved-name", "name"),
        ("unknown-callable", "helper"),
    ]
    messages = "\n".join(map(str, findings))
    assert "'mode' are required" in messages
    assert "takes *rest" in messages
    assert "prefix it with '_'" in messages
    with pytest.raises(AssertionError, match="does not conform to host"):
        assert_conformance(dispatcher, Broken)


def test_undocumented_backend_only_parameter_and_bad_names(dispatcher):
    assert codes(check_backend(dispatcher, Undocumented)) == [("undocumented-parameter", "score")]
    nameless = types.SimpleNamespace(aliases="g")
    assert codes(check_backend(dispatcher, nameless)) == [
        ("invalid-alias", "aliases"),
        ("invalid-name", "name"),
    ]


def test_run_conformance_is_compatible_with_scverse_backends():
    backend = types.SimpleNamespace(implemented=object())
    seen = []
    results = run_conformance(
        backend_name="gpu",
        tests={"implemented": seen.append, "missing": seen.append},
        get_backend=lambda name: backend,
    )
    assert results == {"implemented": "PASSED", "missing": "SKIPPED (not implemented)"}
    assert seen == ["gpu"]

    def failing(name):
        raise RuntimeError("boom")

    assert run_conformance(
        backend_name="gpu",
        tests={"implemented": failing},
        get_backend=lambda n: backend,
        raise_on_failure=False,
    ) == {"implemented": "FAILED: boom"}
    with pytest.raises(RuntimeError, match="boom"):
        run_conformance(
            backend_name="gpu", tests={"implemented": failing}, get_backend=lambda n: backend
        )
    with pytest.raises(ValueError, match="Backend 'gpu' not found"):
        run_conformance(backend_name="gpu", tests={}, get_backend=lambda n: None)
    for functions in ("implemented", ["missing"], ["", "implemented"]):
        with pytest.raises(ValueError, match="functions"):
            run_conformance(
                backend_name="gpu",
                tests={"implemented": failing},
                get_backend=lambda n: backend,
                functions=functions,
            )
    assert run_conformance(
        backend_name="gpu",
        tests={"implemented": seen.append, "other": failing},
        get_backend=lambda n: backend,
        functions=["implemented"],
    ) == {"implemented": "PASSED"}


# -- what the checks leave alone, and what they say better ------------------------------------


class Hooked:
    """Every documented hook and declaration: none of them is an unknown callable."""

    name = "hooked"
    types = ("hooked_pkg:Array",)
    secondary_types = ("builtins:list",)
    priority = 3
    requires_opt_in = False
    host_versions = ">=0.1"
    default_config = {"precision": "double"}  # noqa: RUF012 - as a backend declares it
    url = "https://example.invalid/hooked"
    short_summary = "Every hook there is."
    known_failures = {"test_score_*": "rounds differently"}  # noqa: RUF012

    def can_run(self, function, args, kwargs):
        return True

    def should_run(self, function, args, kwargs):
        return True

    def convert_from_host(self, value, *, function, parameter):
        return value

    def convert_to_host(self, result, *, function):
        return result

    def on_start_tests(self, items):
        pass

    def turnout_compare(self, function, result, expected):
        return None

    def score(self, data, scale=1.0):
        return data

    score.can_run = lambda data, scale=1.0: True


class Misdeclared:
    name = "misdeclared"
    priority = "high"
    known_failures = 3
    should_run = True

    def can_run(self, function):
        return True

    def on_start_tests(self):
        pass


class Misspelt:
    name = "misspelt"

    def scroe(self, data, scale=1.0):
        return data


class Renamed:
    name = "renamed"

    def score(self, values, scale=1.0):
        return values

    def combine(self, left, b):
        return left + b


class Unbuildable:
    name = "unbuildable"

    def __init__(self):
        raise ImportError("no GPU here")


def test_documented_hooks_and_declarations_are_not_unknown_callables(dispatcher):
    assert check_backend(dispatcher, Hooked) == []


def test_hooks_and_declarations_turnout_cannot_use_are_findings(dispatcher):
    findings = check_backend(dispatcher, Misdeclared)
    assert codes(findings) == [
        ("hook-signature", "can_run"),
        ("hook-signature", "on_start_tests"),
        ("hook-signature", "should_run"),
        ("metadata-attribute", "known_failures"),
        ("metadata-attribute", "priority"),
    ]
    messages = "\n".join(map(str, findings))
    assert "turnout calls can_run(function, args, kwargs)" in messages
    assert "is a bool; turnout ignores it" in messages


def test_a_misspelt_function_gets_a_suggestion(dispatcher):
    (finding,) = check_backend(dispatcher, Misspelt)
    assert (finding.code, finding.target) == ("unknown-callable", "scroe")
    assert "did you mean 'score'?" in finding.message


def test_a_renamed_parameter_is_reported_with_its_parameter_map(dispatcher):
    findings = check_backend(dispatcher, Renamed)
    assert codes(findings) == [("renamed-parameter", "combine"), ("renamed-parameter", "score")]
    score = next(f for f in findings if f.target == "score")
    assert "'values' for the host's 'data'" in score.message
    assert "@turnout.parameter_map(data='values')" in score.message
    assert "give them defaults" not in "\n".join(map(str, findings))


def test_a_class_that_cannot_be_built_is_not_called_not_callable(dispatcher):
    (finding,) = check_backend(dispatcher, Unbuildable)
    assert finding.code == "cannot-construct"
    assert "raised ImportError('no GPU here')" in finding.message


def test_findings_document_their_fields_for_sphinx():
    doc = inspect.cleandoc(Finding.__doc__)  # 3.13 strips the indentation of docstrings itself
    assert "Attributes\n----------\ncode\n" in doc
    assert "cannot-construct" in doc


# -- what users install: the entry point, trust, turnout-backend.json -------------------------

TURBO = """
class Turbo:
    name = "turbo"
    aliases = ("fast",)
    types = ("turbo_pkg:Array",)

    def mean(self, values):
        return sum(values) / len(values)

    def moving_average(self, values, window=3):
        return [mean(values[i : i + window]) for i in range(len(values) - window + 1)]


class Array(list):
    pass
"""


@pytest.fixture
def host(make_dispatcher):
    dispatcher = make_dispatcher(
        trusted_backends={"turbo": {"package": "turbo-official"}},
        reserved_backends={"cuda": "reserved for the CUDA backend"},
    )

    @dispatcher.backend_dispatch
    def mean(values):
        return sum(values) / len(values)

    @dispatcher.backend_dispatch
    def moving_average(values, window=3):
        return []

    return dispatcher


def install_turbo(site, group, dist="turbo-official", entry="turbo", declared=None):
    declared = (
        {
            "name": "turbo",
            "aliases": ["fast"],
            "functions": ["mean", "moving_average"],
            "types": ["turbo_pkg:Array"],
        }
        if declared is None
        else declared
    )
    site.add(
        dist,
        entry_points={group: {entry: "turbo_pkg:Turbo"}},
        modules={
            "turbo_pkg/__init__.py": TURBO,
            "turbo_pkg/turnout-backend.json": json.dumps({group: declared}),
        },
    )


def test_an_installed_backend_is_checked_as_users_get_it(site, group, host):
    install_turbo(site, group)
    assert check_backend(host, "turbo") == []
    assert check_backend(host, name="fast") == []
    import turbo_pkg  # noqa: PLC0415 - installed by the test

    assert check_backend(host, turbo_pkg.Turbo) == []
    with pytest.raises(TypeError, match="not both or neither"):
        check_backend(host, turbo_pkg.Turbo, name="turbo")


def test_an_in_process_backend_is_checked_by_its_label(host):
    class Registered:
        name = "registered"

        def mean(self, values, *, exact=True):
            return values

    with host.registered(Registered()):
        (finding,) = check_backend(host, "registered")
    assert (finding.code, finding.target) == ("undocumented-parameter", "mean")


def test_static_metadata_that_disagrees_with_the_backend(site, group, host):
    declared = {
        "name": "turbo2",
        "aliases": ["fast"],
        "functions": ["mean", "moving_avg"],
        "types": ["turbo_pkg:Other"],
        "fuctions": [],
    }
    install_turbo(site, group, declared=declared)
    findings = check_backend(host, "turbo")
    assert codes(findings) == [
        ("metadata-functions", "moving_average"),
        ("metadata-functions", "moving_avg"),
        ("metadata-key", "fuctions"),
        ("metadata-mismatch", "name"),
        ("metadata-mismatch", "types"),
    ]
    messages = "\n".join(map(str, findings))
    assert "declares name 'turbo2', the backend object 'turbo'" in messages
    assert "testhost dispatches no 'moving_avg'; did you mean 'moving_average'?" in messages
    assert "ignores the unknown key 'fuctions'; did you mean 'functions'?" in messages


def test_a_group_missing_from_the_static_metadata(site, group, host):
    site.add(
        "turbo-official",
        entry_points={group: {"turbo": "turbo_pkg:Turbo"}},
        modules={
            "turbo_pkg/__init__.py": TURBO,
            "turbo_pkg/turnout-backend.json": json.dumps({group + "s": {"name": "turbo"}}),
        },
    )
    (finding,) = check_backend(host, "turbo")
    assert finding.code == "metadata-group"
    assert f"did you mean {group + 's'!r}?" in finding.message


def test_an_untrusted_backend_is_a_note_saying_what_users_see(site, group, host):
    source = TURBO.replace('name = "turbo"', 'name = "quick"').replace('("fast",)', "()")
    site.add(
        "quick-community",
        entry_points={group: {"quick": "quick_pkg:Turbo"}},
        modules={"quick_pkg/__init__.py": source},
    )
    findings = check_backend(host, "quick")
    assert codes(findings) == [("no-static-metadata", "types"), ("untrusted", "quick")]
    assert not any(finding.is_error for finding in findings)
    finding = next(f for f in findings if f.code == "untrusted")
    assert (finding.code, finding.severity) == ("untrusted", "note")
    assert (
        "UntrustedBackendWarning: Backend 'quick' from entry point 'quick = quick_pkg:Turbo'"
        in (finding.message)
    )
    assert "{'quick': {'package': 'quick-community'}} to its trusted_backends" in finding.message
    assert assert_conformance(host, "quick") == findings  # notes do not fail it


def test_an_impostor_a_reserved_name_and_a_failed_load_are_refusals(site, group, host):
    install_turbo(site, group, dist="turbo-fake")
    site.add("cuda-pkg", entry_points={group: {"cuda": "turbo_pkg:Turbo"}})
    site.add("broken-pkg", entry_points={group: {"broken": "broken_pkg:Backend"}})
    (impostor,) = check_backend(host, "turbo")
    assert impostor.code == "refused"
    assert "claims trusted backend 'turbo', but the host expects distribution 'turbo-official'" in (
        impostor.message
    )
    assert "Users who select it get BackendRefusedError" in impostor.message
    (reserved,) = check_backend(host, "cuda")
    assert reserved.code == "refused"
    assert "'cuda' is reserved by testhost: reserved for the CUDA backend" in reserved.message
    (broken,) = check_backend(host, "broken")
    assert broken.code == "load-failed"
    assert "No module named 'broken_pkg'" in broken.message
    (missing,) = check_backend(host, "turbx")
    assert missing.code == "not-installed"
    assert "did you mean 'turbo'?" in missing.message or "installed: broken" in missing.message
    with pytest.raises(AssertionError, match=r"\[refused\] turbo"):
        assert_conformance(host, name="turbo")


# -- the example backends pass the fixture as the docs write it -------------------------------

EXAMPLES = {
    "example_host_accel": ("AccelBackend", "example_accel"),
    "example_host_arrays.backend": ("ChunkedBackend", "chunked"),
    "example_host_dask": ("DaskBackend", "dask"),
    "example_host_numpy": ("NumpyBackend", "numpy"),
}


@pytest.mark.parametrize("module", sorted(EXAMPLES))
def test_the_example_backends_conform(turnout_conformance, module):
    pytest.importorskip("example_host", reason="dev.py test installs the examples")
    package = pytest.importorskip(module, reason=f"{module} (or what it needs) is not installed")
    import turnout.processes  # noqa: PLC0415

    attribute, label = EXAMPLES[module]
    dispatcher = turnout.processes.dispatcher_for("example_host")
    assert turnout_conformance(dispatcher, getattr(package, attribute)) == []
    assert turnout_conformance(dispatcher, label) == []
