"""The untrusted-backend policy and the environment variables users set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from turnout import (
    BackendStatus,
    ConfigurationError,
    ConfigurationWarning,
    UntrustedBackendError,
    UntrustedBackendWarning,
)

TRUSTED = {"gpu": {"package": "host-gpu"}}


@pytest.fixture
def installed(install, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    install("stranger", {"jit": "stranger_mod:Backend"}, {"stranger_mod.py": backend_source("jit")})
    return install


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("TESTHOST_BACKEND", "TESTHOST_FALLBACK", "TESTHOST_UNTRUSTED_BACKENDS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_warn_is_the_default(installed, make_dispatcher, clean_env):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    assert dispatcher.get_backend("jit").name == "jit"  # a lookup: no warning
    with pytest.warns(UntrustedBackendWarning, match="'jit'.*stranger"):
        dispatcher.settings.backend = "jit"  # the first selection warns


def test_allow_loads_untrusted_backends_silently(installed, make_dispatcher, clean_env):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, untrusted="allow")
    assert dispatcher.get_backend("jit").name == "jit"


def test_error_never_imports_an_untrusted_backend(installed, make_dispatcher, clean_env):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, untrusted="error")

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    with pytest.raises(UntrustedBackendError, match="refuses untrusted backends") as excinfo:
        add(1, 2, backend="jit")
    assert isinstance(excinfo.value, ImportError)
    assert "stranger" in excinfo.value.source
    assert add(1, 2, backend="gpu") == ("gpu", 3)
    assert installed.imported() == ["host_gpu"]
    (refused,) = [info for info in dispatcher.report() if info.status is BackendStatus.REJECTED]
    assert refused.name == "jit"
    assert "trusted_backends" in refused.reason


def test_bad_policy_is_a_configuration_error(make_dispatcher):
    with pytest.raises(ConfigurationError, match="untrusted must be one of"):
        make_dispatcher(untrusted="sometimes")


@pytest.mark.parametrize(
    ("host", "env", "effective"),
    [
        ("allow", "error", "error"),
        ("allow", "warn", "warn"),
        ("error", "allow", "error"),
        ("warn", "allow", "warn"),
    ],
)
def test_environment_can_only_tighten_the_untrusted_policy(
    installed, make_dispatcher, clean_env, host, env, effective
):
    clean_env.setenv("TESTHOST_UNTRUSTED_BACKENDS", env)
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, untrusted=host)
    if effective == "error":
        with pytest.raises(UntrustedBackendError):
            dispatcher.settings.backend = "jit"
        assert dispatcher.get_backend("jit") is None
    elif effective == "warn":
        with pytest.warns(UntrustedBackendWarning):
            dispatcher.settings.backend = "jit"
    else:
        dispatcher.settings.backend = "jit"


def test_environment_backend_is_the_initial_default(installed, make_dispatcher, clean_env):
    clean_env.setenv("TESTHOST_BACKEND", "gpu")
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    assert installed.imported() == []  # resolved lazily

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(1, 2) == ("gpu", 3)
    assert dispatcher.settings.backend == "gpu"
    dispatcher.settings.backend = "cpu"
    assert add(1, 2) == ("cpu", 3)


def test_unknown_environment_backend_is_reported_once_and_ignored(
    installed, make_dispatcher, clean_env
):
    clean_env.setenv("TESTHOST_BACKEND", "gpx")
    dispatcher = make_dispatcher(trusted_backends={**TRUSTED, "jit": {"package": "stranger"}})

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    with pytest.warns(
        ConfigurationWarning, match="TESTHOST_BACKEND='gpx' is ignored.*Did you mean 'gpu'"
    ) as record:
        assert add(1, 2) == ("cpu", 3)
        assert add(1, 2) == ("cpu", 3)
    assert len(record) == 1
    assert dispatcher.settings.backend == "cpu"


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("TESTHOST_BACKEND", "not a label", "'cpu' or 'the name or alias"),
        ("TESTHOST_FALLBACK", "loud", "'silent' or 'warn' or 'error'"),
        ("TESTHOST_UNTRUSTED_BACKENDS", "maybe", "'allow' or 'warn' or 'error'"),
    ],
)
def test_malformed_environment_values_are_reported_and_ignored(
    make_dispatcher, clean_env, name, value, match
):
    clean_env.setenv(name, value)
    with pytest.warns(ConfigurationWarning, match=match):
        dispatcher = make_dispatcher()
    assert dispatcher.settings.backend == "cpu"
    assert dispatcher.settings.fallback == "silent"


def test_environment_fallback(make_dispatcher, clean_env):
    clean_env.setenv("TESTHOST_FALLBACK", "error")
    assert make_dispatcher().settings.fallback == "error"


def test_worker_processes_inherit_the_choice(installed, site, group, clean_env):
    code = (
        "from turnout import BackendDispatcher\n"
        f"d = BackendDispatcher({group!r}, 'testhost', trusted_backends={TRUSTED!r})\n"
        "@d.backend_dispatch\n"
        "def add(a, b):\n    return ('cpu', a + b)\n"
        "print(add(1, 2)[0])\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site.root), *sys.path]),
        "TESTHOST_BACKEND": "gpu",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "gpu"
