"""In-process backends: the Backend base and its metaclass, explicit and temporary registration, replacement, refresh."""

from __future__ import annotations

import abc
import builtins
import types

import pytest

from turnout import (
    Backend,
    BackendExistsError,
    BackendLoadError,
    BackendLoadWarning,
    BackendStatus,
    ConfigurationError,
    ReservedBackendError,
    ShadowedBackendWarning,
    UnknownBackendError,
    UntrustedBackendWarning,
    key_from_class_name,
)


def test_concrete_subclasses_register_and_abstract_ones_are_skipped(make_dispatcher):
    dispatcher = make_dispatcher()
    made = []

    class Base(dispatcher.Backend):
        @abc.abstractmethod
        def add(self, a, b): ...

    class Gpu(Base):
        name = "gpu"
        aliases = ("cuda_like",)

        def __init__(self):
            made.append(self)

        def add(self, a, b):
            return ("gpu", a + b)

    class Jit(Base):
        name = "jit"

        def add(self, a, b):
            return ("jit", a + b)

    class Unnamed(dispatcher.Backend):
        def add(self, a, b):
            return a + b

    assert isinstance(Gpu, type)
    assert issubclass(Gpu, Backend)
    assert made == []  # lazily instantiated
    assert dispatcher.available_backend_names() == ["cuda_like", "gpu", "jit"]

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(1, 2, backend="cuda_like") == ("gpu", 3)
    assert add(1, 2, backend="gpu") == ("gpu", 3)
    assert len(made) == 1  # one instance, cached
    assert dispatcher.get_backend("gpu") is made[0]


def test_registration_reads_no_entry_point_and_in_tree_backends_never_warn(
    install, make_dispatcher, backend_source
):
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    dispatcher = make_dispatcher()

    class Local(dispatcher.Backend):
        name = "local"

    assert install.imported() == []
    assert dispatcher.get_backend("local").name == "local"  # no UntrustedBackendWarning
    assert install.imported() == []  # found in-process: no entry point loaded


def test_key_rule_derives_names(make_dispatcher):
    dispatcher = make_dispatcher(backend_key=key_from_class_name)

    class NumbaBackend(dispatcher.Backend):
        pass

    class CudaGraphBackend(dispatcher.Backend):
        pass

    assert dispatcher.available_backend_names() == ["cuda_graph", "numba"]
    assert key_from_class_name("Backend") is None
    assert key_from_class_name("JAXBackend") == "jax"


def test_in_tree_names_are_checked_when_the_class_is_defined(make_dispatcher):
    dispatcher = make_dispatcher(reserved_backends={"tpu": "not yet"})
    with pytest.raises(ReservedBackendError, match="not yet"):

        class Tpu(dispatcher.Backend):
            name = "tpu"

    with pytest.raises(ReservedBackendError, match="'cpu' always means"):

        class Cpu(dispatcher.Backend):
            name = "cpu"

    class Gpu(dispatcher.Backend):
        name = "gpu"

    with pytest.raises(BackendExistsError, match="in-tree class"):

        class OtherGpu(dispatcher.Backend):
            name = "gpu"


def test_redefining_the_same_class_replaces_it(make_dispatcher):
    dispatcher = make_dispatcher()

    def define(tag):
        class Gpu(dispatcher.Backend):
            name = "gpu"
            version = tag

        return Gpu

    define(1)
    define(2)  # a module reload in a notebook
    assert dispatcher.get_backend("gpu").version == 2


def test_constructor_failure_is_a_load_error_recorded_once(make_dispatcher):
    dispatcher = make_dispatcher()
    calls = []

    class Broken(dispatcher.Backend):
        name = "broken"

        def __init__(self):
            calls.append(1)
            raise RuntimeError("no device")

    for _ in range(2):
        with pytest.raises(BackendLoadError, match="no device") as excinfo:
            dispatcher.settings.backend = "broken"
        assert isinstance(excinfo.value.__cause__, RuntimeError)
    assert calls == [1]


def test_in_tree_backend_shadows_an_entry_point_of_the_same_name(
    install, make_dispatcher, backend_source
):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher()

    class Gpu(dispatcher.Backend):
        name = "gpu"

        def add(self, a, b):
            return ("in-tree", a + b)

    with pytest.warns(ShadowedBackendWarning, match="host-gpu"):
        report = dispatcher.report()
    assert install.imported() == []  # the shadowed entry point is never imported
    statuses = {(info.name, info.status) for info in report}
    assert ("gpu", BackendStatus.READY) in statuses
    assert ("gpu", BackendStatus.SHADOWED) in statuses
    shadowed = next(info for info in report if info.status is BackendStatus.SHADOWED)
    assert shadowed.distribution == "host-gpu"
    assert "in-tree class" in shadowed.reason


def test_in_tree_class_defined_after_discovery_hides_the_loaded_entry_point(
    install, make_dispatcher, backend_source
):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(1, 2, backend="gpu") == ("gpu", 3)
    with pytest.warns(ShadowedBackendWarning):

        class Gpu(dispatcher.Backend):
            name = "gpu"

            def add(self, a, b):
                return ("in-tree", a + b)

    assert add(1, 2, backend="gpu") == ("in-tree", 3)  # plans were invalidated


def test_discover_package_imports_in_tree_modules(site, make_dispatcher, tmp_path):
    site.add(
        "hostpkg",
        modules={
            "hostpkg_backends/__init__.py": "",
            "hostpkg_backends/fast.py": """
                import builtins
                dispatcher = builtins._turnout_test_dispatcher

                class Fast(dispatcher.Backend):
                    name = "fast"
            """,
            "hostpkg_backends/nested/__init__.py": "",
            "hostpkg_backends/nested/deep.py": """
                import builtins
                dispatcher = builtins._turnout_test_dispatcher

                class Deep(dispatcher.Backend):
                    name = "deep"
            """,
            "hostpkg_backends/broken.py": "raise ImportError('optional dependency missing')",
        },
    )
    dispatcher = make_dispatcher(discover_package="hostpkg_backends")
    builtins._turnout_test_dispatcher = dispatcher
    try:
        with pytest.warns(BackendLoadWarning, match=r"hostpkg_backends\.broken failed"):
            assert dispatcher.settings.available_backends() == ["deep", "fast"]
    finally:
        del builtins._turnout_test_dispatcher
    failed = [info for info in dispatcher.report() if info.status is BackendStatus.FAILED]
    assert [info.name for info in failed] == ["hostpkg_backends.broken"]
    assert isinstance(failed[0].error, ImportError)
    # asking for a backend that module would have defined says so
    with pytest.raises(UnknownBackendError, match=r"hostpkg_backends\.broken failed .*optional"):
        dispatcher.settings.backend = "broken"


def test_a_mistyped_discover_package_is_a_configuration_error(make_dispatcher):
    dispatcher = make_dispatcher(discover_package="hostpkg_backendz")
    for _ in range(2):  # on every query, until fixed
        with pytest.raises(ConfigurationError, match="discover_package='hostpkg_backendz'"):
            dispatcher.settings.backend = "fast"
    with pytest.raises(ConfigurationError, match="discover_package"):
        make_dispatcher(discover_package="not a module")


def test_contains_constructs_no_in_tree_backend(make_dispatcher):
    dispatcher = make_dispatcher()
    built = []

    class Lazy(dispatcher.Backend):
        name = "lazy"

        def __init__(self):
            built.append(self)

    assert "lazy" in dispatcher.backends
    assert "nope" not in dispatcher.backends
    assert " lazy " not in dispatcher.backends
    assert built == []
    assert isinstance(dispatcher.backends["lazy"], Lazy)
    assert len(built) == 1


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
