"""The backend author kit: check_backend, the pytest fixture, run_conformance."""

from __future__ import annotations

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


def test_the_example_backend_conforms(turnout_conformance):
    example_host = pytest.importorskip("example_host", reason="dev.py test installs the examples")
    from example_host import _backends  # noqa: PLC0415 - after importorskip
    from example_host_accel import AccelBackend  # noqa: PLC0415

    assert example_host.mean.__wrapped__
    turnout_conformance(_backends._dispatcher, AccelBackend)


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
