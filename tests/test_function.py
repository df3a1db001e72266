"""backend_dispatch: precedence, fallback, definition errors."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
import types

import pytest

from turnout import (
    BackendDispatcher,
    DispatchDefinitionError,
    FallbackWarning,
    MissingImplementationError,
    ReservedBackendError,
    UnknownBackendError,
)

TRUSTED = {
    "gpu": {"aliases": ["cuda_like"], "package": "host-gpu"},
    "jit": {"package": "host-jit"},
}


@pytest.fixture
def dispatcher(install, make_dispatcher, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": backend_source("jit")})
    return make_dispatcher(trusted_backends=TRUSTED, reserved_backends={"tpu": "not yet"})


@pytest.fixture
def add(dispatcher):
    @dispatcher.backend_dispatch
    def add(a, b):
        """Add two numbers."""
        return ("cpu", a + b)

    return add


def test_wrapper_keeps_the_host_metadata(add):
    assert add.__name__ == "add"
    assert add.__doc__.startswith("Add two numbers.\n\nParameters\n----------\nbackend\n")
    assert add.__wrapped__(1, 2) == ("cpu", 3)
    assert inspect.unwrap(add)(1, 2) == ("cpu", 3)
    assert inspect.unwrap(add) is add.__wrapped__.__wrapped__


def test_precedence_keyword_then_scope_then_global_then_cpu(dispatcher, add):
    settings = dispatcher.settings
    assert add(1, 2) == ("cpu", 3)
    settings.backend = "jit"
    assert add(1, 2) == ("jit", 3)
    with settings.use_backend("gpu"):
        assert add(1, 2) == ("gpu", 3)
        assert add(1, 2, backend="jit") == ("jit", 3)
        assert add(1, 2, backend="cpu") == ("cpu", 3)
        with settings.use_backend("cpu"):
            assert add(1, 2) == ("cpu", 3)
    assert add(1, b=2) == ("jit", 3)


def test_keyword_accepts_aliases(add):
    assert add(1, 2, backend="cuda_like") == ("gpu", 3)


def test_function_the_backend_lacks_falls_back_to_the_host(dispatcher, install):
    @dispatcher.backend_dispatch
    def subtract(a, b):
        return ("cpu", a - b)

    assert subtract(3, 1, backend="gpu") == ("cpu", 2)
    with dispatcher.settings.use_backend("jit"):
        assert subtract(3, 1) == ("cpu", 2)


def test_errors_for_bad_labels_per_call(add):
    with pytest.raises(UnknownBackendError, match="Did you mean 'gpu'"):
        add(1, 2, backend="gpx")
    with pytest.raises(ReservedBackendError, match="not yet"):
        add(1, 2, backend="tpu")
    with pytest.raises(UnknownBackendError, match="must be a non-empty string"):
        add(1, 2, backend=42)
    assert add(1, 2, backend=["gpu"]) == ("gpu", 3)  # a list is a priority list


def test_non_callable_backend_attribute_is_a_definition_error(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu"}, {"host_gpu.py": "name = 'gpu'\nadd = 3\n"})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return a + b

    with pytest.raises(DispatchDefinitionError, match="not callable") as excinfo:
        add(1, 2, backend="gpu")
    assert isinstance(excinfo.value, TypeError)
    assert "host_gpu" in str(excinfo.value)


def test_decorating_a_non_function_is_refused(dispatcher):
    with pytest.raises(DispatchDefinitionError, match="@backend_class"):
        dispatcher.backend_dispatch(int)
    with pytest.raises(DispatchDefinitionError):
        dispatcher.backend_dispatch(functools.partial(print))


def test_host_parameter_named_like_the_keyword_is_refused(dispatcher):
    def run(data, backend="threads"):
        return data

    with pytest.raises(DispatchDefinitionError, match="backend_keyword") as excinfo:
        dispatcher.backend_dispatch(run)
    assert "run()" in excinfo.value.target


def test_another_selector_keyword(group, install, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = BackendDispatcher(
        group, "testhost", trusted_backends=TRUSTED, backend_keyword="array_backend"
    )

    @dispatcher.backend_dispatch
    def add(a, b, backend="joblib"):
        return ("cpu", a + b, backend)

    assert add(1, 2) == ("cpu", 3, "joblib")
    assert add(1, 2, backend="loky") == ("cpu", 3, "loky")
    assert add(1, 2, array_backend="gpu") == ("gpu", 3)


def test_methods_are_refused_with_a_pointer_to_backend_class(dispatcher):
    with pytest.raises(DispatchDefinitionError, match="@backend_class"):

        class Host:
            @dispatcher.backend_dispatch
            def method(self, x):
                return x


def test_every_parameter_kind_reaches_the_host_unchanged(dispatcher):
    @dispatcher.backend_dispatch
    def kinds(a, /, b, c=3, *rest, d, e=5, **options):
        return (a, b, c, rest, d, e, options)

    assert kinds(1, 2, d=4) == (1, 2, 3, (), 4, 5, {})
    assert kinds(1, 2, 9, 8, 7, d=4, e=0, z=1) == (1, 2, 9, (8, 7), 4, 0, {"z": 1})
    with pytest.raises(TypeError):
        kinds(a=1, b=2, d=4)  # positional-only stays positional-only
    assert kinds.__wrapped__(1, 2, d=4) == (1, 2, 3, (), 4, 5, {})


def test_unknown_keyword_on_the_default_path_is_the_hosts_type_error(add):
    with pytest.raises(TypeError, match=r"add\(\) got an unexpected keyword argument 'c'"):
        add(1, 2, c=3)
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        add(1)


def test_fallback_policies(dispatcher):
    @dispatcher.backend_dispatch
    def subtract(a, b):
        return ("cpu", a - b)

    settings = dispatcher.settings
    assert settings.fallback == "silent"
    with settings.use_fallback("warn"):
        with pytest.warns(
            FallbackWarning, match="'gpu' did not run .*does not implement"
        ) as record:
            assert subtract(3, 1, backend="gpu") == ("cpu", 2)
            assert subtract(3, 1, backend="gpu") == ("cpu", 2)
        assert len(record) == 1  # once per function and backend
        assert record[0].filename == __file__
    settings.fallback = "error"
    with pytest.raises(MissingImplementationError) as excinfo:
        subtract(3, 1, backend="jit")
    assert excinfo.value.implemented_by == ()
    assert "subtract" in excinfo.value.function
    assert isinstance(excinfo.value, NotImplementedError)
    with settings.use_fallback("silent"):
        assert subtract(3, 1, backend="jit") == ("cpu", 2)
    with pytest.raises(ValueError, match="Fallback policy must be one of"):
        settings.fallback = "loud"


def test_missing_implementation_names_the_backends_that_have_it(dispatcher, add):
    other = BackendDispatcher(
        dispatcher.entrypoint_group, "testhost", trusted_backends=TRUSTED, fallback="error"
    )

    @other.backend_dispatch
    def scale(values, factor=2):
        return values

    @other.backend_dispatch
    def subtract(a, b):
        return a - b

    assert scale([1], backend="gpu") == ["gpu", 2]
    with pytest.raises(MissingImplementationError, match="Implemented by: none") as excinfo:
        subtract(1, 2, backend="gpu")
    assert excinfo.value.label == "gpu"


def test_decisions_are_logged_at_debug(dispatcher, add, caplog):
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        add(1, 2, backend="gpu")
    assert any("backend 'gpu' runs" in message for message in caplog.messages)


def test_host_without_backend_is_still_usable_concurrently(dispatcher, add):
    results = []

    def work():
        results.extend(add(i, 1) for i in range(1000))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4000


def test_async_host_functions_stay_coroutine_functions(dispatcher, make_dispatcher):
    async_dispatcher = make_dispatcher()

    class AsyncBackend:
        name = "aio"

        async def fetch(self, key, *, retries=1):
            await asyncio.sleep(0)
            return ("aio", key, retries)

    async_dispatcher.register_backend(AsyncBackend)
    async_dispatcher.register_backend(types.SimpleNamespace(name="sync", fetch=lambda key: key))

    @async_dispatcher.backend_dispatch
    async def fetch(key):
        await asyncio.sleep(0)
        return ("cpu", key)

    assert inspect.iscoroutinefunction(fetch)
    assert asyncio.run(fetch("k")) == ("cpu", "k")
    assert inspect.iscoroutinefunction(fetch)  # still, after the first call specialised it
    assert asyncio.run(fetch("k", backend="aio")) == ("aio", "k", 1)
    assert asyncio.run(fetch("k", backend="aio", retries=3)) == ("aio", "k", 3)
    with pytest.raises(DispatchDefinitionError, match="async def"):
        asyncio.run(fetch("k", backend="sync"))
