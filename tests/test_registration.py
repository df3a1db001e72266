"""Explicit registration, replacement, temporary registration, refresh."""

from __future__ import annotations

import types

import pytest

from turnout import (
    BackendExistsError,
    ConfigurationError,
    ReservedBackendError,
    UnknownBackendError,
    UntrustedBackendWarning,
)


def make_backend(name, tag=None):
    return types.SimpleNamespace(name=name, add=lambda a, b: (tag or name, a + b))


@pytest.fixture
def dispatcher(make_dispatcher):
    dispatcher = make_dispatcher(
        trusted_backends={"gpu": {"aliases": ["cuda_like"], "package": "host-gpu"}},
        reserved_backends={"tpu": "not yet"},
    )

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    dispatcher.add = add
    return dispatcher


def test_register_objects_modules_and_classes(dispatcher):
    module = types.ModuleType("mod_backend")
    module.name = "mod"
    module.add = lambda a, b: ("mod", a + b)
    assert dispatcher.register_backend(module) is module
    assert dispatcher.add(1, 2, backend="mod") == ("mod", 3)

    @dispatcher.register_backend(name="cls", aliases=["klass"])
    class Cls:
        def add(self, a, b):
            return ("cls", a + b)

    assert dispatcher.add(1, 2, backend="klass") == ("cls", 3)
    assert isinstance(dispatcher.get_backend("cls"), Cls)


def test_registering_a_trusted_name_in_process_takes_the_hosts_aliases(dispatcher):
    dispatcher.register_backend(make_backend("gpu"))
    assert dispatcher.add(1, 2, backend="cuda_like") == ("gpu", 3)


def test_names_are_checked(dispatcher):
    with pytest.raises(ReservedBackendError, match="not yet"):
        dispatcher.register_backend(make_backend("tpu"))
    with pytest.raises(ReservedBackendError):
        dispatcher.register_backend(make_backend("gpu2"), aliases=["cpu"])
    with pytest.raises(ConfigurationError, match="no name"):
        dispatcher.register_backend(object())
    with pytest.raises(ConfigurationError, match="not a valid label"):
        dispatcher.register_backend(make_backend("bad name"))
    with pytest.raises(ConfigurationError, match="belongs to trusted backend 'gpu'"):
        dispatcher.register_backend(make_backend("other"), aliases=["cuda_like"])


def test_taken_names_raise_unless_replace(dispatcher):
    dispatcher.register_backend(make_backend("fast", "first"))
    with pytest.raises(
        BackendExistsError, match="already taken by explicit registration"
    ) as excinfo:
        dispatcher.register_backend(make_backend("fast", "second"))
    assert excinfo.value.label == "fast"
    assert dispatcher.add(1, 2, backend="fast") == ("first", 3)
    dispatcher.register_backend(make_backend("fast", "second"), replace=True)
    assert dispatcher.add(1, 2, backend="fast") == ("second", 3)  # cached plan replaced


def test_unregister(dispatcher):
    dispatcher.register_backend(make_backend("fast"))
    assert dispatcher.add(1, 2, backend="fast") == ("fast", 3)
    dispatcher.unregister_backend("fast")
    with pytest.raises(UnknownBackendError):
        dispatcher.add(1, 2, backend="fast")
    with pytest.raises(UnknownBackendError):
        dispatcher.unregister_backend("fast")


def test_registered_is_undone_on_exit_also_on_error(dispatcher):
    dispatcher.register_backend(make_backend("fast", "outer"))
    seen = []

    def body():
        with dispatcher.registered(make_backend("fast", "inner"), replace=True) as name:
            seen.append((name, dispatcher.add(1, 2, backend="fast")))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        body()
    assert seen == [("fast", ("inner", 3))]
    assert dispatcher.add(1, 2, backend="fast") == ("outer", 3)
    with dispatcher.registered(make_backend("temp")):
        assert "temp" in dispatcher.backends
    assert "temp" not in dispatcher.backends


def test_refresh_finds_a_backend_installed_later_and_retries_failures(
    install, make_dispatcher, backend_source, tmp_path
):
    dispatcher = make_dispatcher()

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    dispatcher.register_backend(make_backend("kept"))
    with pytest.raises(UnknownBackendError):
        add(1, 2, backend="late")
    install("late-pkg", {"late": "late_pkg:Backend"}, {"late_pkg.py": backend_source("late")})
    with pytest.raises(UnknownBackendError):
        add(1, 2, backend="late")  # discovery ran once already
    dispatcher.refresh()
    with pytest.warns(UntrustedBackendWarning):
        assert add(1, 2, backend="late") == ("late", 3)
    assert add(1, 2, backend="kept") == ("kept", 3)  # explicit registrations survive


def test_refresh_keeps_handed_out_objects_valid(install, make_dispatcher, backend_source):
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    dispatcher = make_dispatcher(trusted_backends={"a": {"package": "pkg-a"}})
    backend = dispatcher.get_backend("a")
    dispatcher.refresh()
    assert backend.add(1, 2) == ("a", 3)
    assert dispatcher.get_backend("a").add(1, 2) == ("a", 3)
