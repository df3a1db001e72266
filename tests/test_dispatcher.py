"""BackendDispatcher: eager configuration checks that list every problem."""

from __future__ import annotations

import pytest

from turnout import BackendDispatcher, ConfigurationError


def make(**kwargs):
    kwargs.setdefault("entrypoint_group", "test.backends")
    kwargs.setdefault("host_name", "testhost")
    return BackendDispatcher(**kwargs)


@pytest.mark.parametrize("argument", ["entrypoint_group", "host_name"])
@pytest.mark.parametrize("value", ["", "   ", None, 3])
def test_identity_must_be_a_non_empty_string(argument, value):
    with pytest.raises(ConfigurationError, match=argument) as excinfo:
        make(**{argument: value})
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("argument", ["trusted_backends", "reserved_backends"])
def test_configuration_must_be_mappings(argument):
    with pytest.raises(ValueError, match=argument):
        make(**{argument: []})


@pytest.mark.parametrize(
    ("trusted", "match"),
    [
        ({"gpu": None}, "Trusted backend configuration for 'gpu' must be a mapping"),
        ({"gpu": {"package": 1}}, "Trusted backend package for 'gpu'"),
        ({"gpu": {"package": ["a", "b"]}}, "Trusted backend package"),
        (
            {"gpu": {"package": "p", "entrypoints": ["ok", None]}},
            "entrypoints for 'gpu'",
        ),
        ({"gpu": {"package": "p", "module_prefixes": ""}}, "module_prefixes for 'gpu'"),
        ({"gpu": {"aliases": "fast", "package": "p"}}, "aliases.*list, tuple, or set"),
        (
            {"gpu": {"aliases": ["bad alias"], "package": "p"}},
            "Invalid trusted backend alias",
        ),
        ({"gpu": {"aliases": ["cpu"], "package": "p"}}, "'cpu' is reserved"),
        ({"cpu": {"package": "p"}}, "'cpu' is not allowed"),
        ({"no good": {"package": "p"}}, "Invalid trusted backend name"),
        ({"gpu": {"aliases": []}}, "names no provider"),
        ({"gpu": {"pakage": "p"}}, "Did you mean 'package'"),
        (
            {
                "a": {"aliases": ["x"], "package": "p"},
                "b": {"aliases": ["x"], "package": "q"},
            },
            "configured for both 'a' and 'b'",
        ),
    ],
)
def test_trusted_backend_problems(trusted, match):
    with pytest.raises(ConfigurationError, match=match):
        make(trusted_backends=trusted)


@pytest.mark.parametrize(
    ("reserved", "match"),
    [
        ({"gpu": ""}, "Reason for reserved backend 'gpu'"),
        ({"gpu": "  "}, "Reason for reserved"),
        ({"gpu": None}, "Reason for reserved"),
        ({"cpu": "no"}, "'cpu' cannot be reserved"),
        ({"bad label": "no"}, "Invalid reserved backend label"),
    ],
)
def test_reserved_backend_problems(reserved, match):
    with pytest.raises(ConfigurationError, match=match):
        make(reserved_backends=reserved)


def test_trusted_label_that_is_reserved():
    with pytest.raises(ConfigurationError, match="reserved by testhost"):
        make(
            trusted_backends={"fake_gpu": {"aliases": ["gpu"], "package": "fake-pkg"}},
            reserved_backends={"gpu": "Use a concrete backend alias."},
        )


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigurationError) as excinfo:
        make(
            host_name="",
            trusted_backends={"gpu": {"aliases": "x"}, "jit": {}},
            reserved_backends={"tpu": ""},
            backend_keyword="not an identifier",
        )
    problems = excinfo.value.problems
    assert len(problems) == 5
    assert all(f"\n  - {problem}" in str(excinfo.value) for problem in problems)


def test_configuration_is_copied_from_the_caller(group, install, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    aliases = ["fast"]
    trusted = {"gpu": {"aliases": aliases, "package": "host-gpu"}}
    dispatcher = BackendDispatcher(group, "testhost", trusted_backends=trusted)
    aliases.append("evil")
    trusted["gpu"]["package"] = "evil-pkg"
    dispatcher.discover()
    assert dispatcher.available_backend_names() == ["fast", "gpu"]


def test_repr_and_public_attributes():
    dispatcher = make(reserved_backends={"tpu": "soon"})
    assert repr(dispatcher) == (
        "<turnout.BackendDispatcher host_name='testhost' entrypoint_group='test.backends'>"
    )
    assert dispatcher.reserved_backends == {"tpu": "soon"}
    assert dispatcher.backend_keyword == "backend"
    assert dispatcher.get_backend("cpu") is None
