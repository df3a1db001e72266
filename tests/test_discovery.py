"""Discovery against real installed distributions: lazy, once, trust before import."""

from __future__ import annotations

import builtins
import sys
import threading

import pytest

from turnout import (
    BackendLoadError,
    BackendNotInstalledError,
    BackendRefusedError,
    EntryPointRejectedWarning,
    ReservedBackendError,
    UnknownBackendError,
    UntrustedBackendWarning,
)

TRUSTED = {"gpu": {"aliases": ["cuda_like"], "package": "host-gpu"}}


def test_creating_a_dispatcher_and_decorating_reads_no_metadata(
    install, make_dispatcher, backend_source
):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(1, 2) == ("cpu", 3)
    assert dispatcher.settings.backend == "cpu"
    assert install.imported() == []


def test_a_call_imports_only_the_backend_it_selects(install, make_dispatcher, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": backend_source("jit")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    assert add(1, 2, backend="gpu") == ("gpu", 3)
    assert install.imported() == ["host_gpu"]
    assert add(1, 2, backend="cuda_like") == ("gpu", 3)  # trusted alias, no new import
    assert install.imported() == ["host_gpu"]


def test_a_label_only_untrusted_code_gives_imports_nothing_until_discover(
    install, make_dispatcher, backend_source
):
    # This lookup used to import every entry point to ask its code; a label no
    # metadata gives (a typo, most often) no longer runs untrusted code.
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    install("pkg-b", {"b_ep": "pkg_b:Backend"}, {"pkg_b.py": backend_source("b", ("bee",))})
    dispatcher = make_dispatcher()

    assert dispatcher.get_backend("bee") is None  # looking one up is not selecting it
    assert install.imported() == []
    dispatcher.discover()  # imports them all: now their code has said what it answers to
    backend = dispatcher.get_backend("bee")
    assert backend.name == "b"
    assert sorted(install.imported()) == ["pkg_a", "pkg_b"]
    assert dispatcher.available_backend_names() == ["a", "b", "b_ep", "bee"]


def test_a_label_only_trusted_code_gives_loads_the_trusted_others(
    install, make_dispatcher, backend_source
):
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    install("pkg-b", {"b_ep": "pkg_b:Backend"}, {"pkg_b.py": backend_source("b", ("bee",))})
    dispatcher = make_dispatcher(trusted_backends={"b_ep": {"package": "pkg-b"}})

    backend = dispatcher.get_backend("bee")  # the host vouches for pkg-b: its code may answer
    assert backend.name == "b"
    assert install.imported() == ["pkg_b"]  # pkg-a is untrusted: not imported to ask


def test_module_class_and_object_targets(install, make_dispatcher):
    install(
        "as-module",
        {"mod": "as_module"},
        {"as_module.py": "name = 'mod'\ndef add(a, b): return 'm'"},
    )
    install(
        "as-class",
        {"cls": "as_class:Backend"},
        {
            "as_class.py": "COUNT = []\nclass Backend:\n    name = 'cls'\n    def __init__(self): COUNT.append(1)\n"
        },
    )
    install(
        "as-object",
        {"obj": "as_object:INSTANCE"},
        {"as_object.py": "class _B:\n    name = 'obj'\nINSTANCE = _B()\n"},
    )
    dispatcher = make_dispatcher()
    dispatcher.discover()
    assert dispatcher.get_backend("mod") is sys.modules["as_module"]
    assert type(dispatcher.get_backend("cls")).__name__ == "Backend"
    assert dispatcher.get_backend("cls") is dispatcher.get_backend("cls")
    assert sys.modules["as_class"].COUNT == [1]  # instantiated once
    assert dispatcher.get_backend("obj") is sys.modules["as_object"].INSTANCE


def test_discover_is_idempotent_and_loads_everything_once(install, make_dispatcher, backend_source):
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    install("pkg-b", {"b": "pkg_b:Backend"}, {"pkg_b.py": backend_source("b")})
    dispatcher = make_dispatcher()
    dispatcher.discover()  # loading untrusted backends is not selecting them: no warning
    dispatcher.discover()
    assert sorted(install.imported()) == ["pkg_a", "pkg_b"]
    assert dispatcher.settings.available_backends() == ["a", "b"]
    with pytest.warns(UntrustedBackendWarning) as record:
        dispatcher.settings.backend = "a"
        dispatcher.settings.backend = "b"
        with dispatcher.settings.use_backend("a"):
            pass
    assert len(record) == 2  # once per backend, when first selected


def test_trusted_backend_loads_without_warning(install, make_dispatcher, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    dispatcher.discover()  # filterwarnings=error: any warning fails the test
    assert dispatcher.available_backend_names() == ["cuda_like", "gpu"]


def test_impostor_of_a_trusted_name_is_rejected_before_import(
    install, make_dispatcher, backend_source
):
    install("evil-gpu", {"gpu": "evil_gpu:Backend"}, {"evil_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.warns(EntryPointRejectedWarning, match="expects distribution 'host-gpu'"):
        with pytest.raises(BackendRefusedError) as excinfo:
            dispatcher.settings.backend = "gpu"
    # installed but refused: never reported as "not installed"
    assert not isinstance(excinfo.value, BackendNotInstalledError)
    assert isinstance(excinfo.value, ImportError)
    assert "is installed but was refused" in str(excinfo.value)
    assert "evil-gpu" in excinfo.value.source
    assert "expects distribution 'host-gpu'" in excinfo.value.reason
    assert "The trusted one comes with: pip install host-gpu" in str(excinfo.value)
    assert install.imported() == []  # never imported
    assert dispatcher.get_backend("gpu") is None


def test_impostor_never_shadows_the_real_backend(install, make_dispatcher, backend_source):
    install("evil-gpu", {"gpu": "evil_gpu:Backend"}, {"evil_gpu.py": backend_source("gpu")})
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.warns(EntryPointRejectedWarning, match="evil-gpu"):
        backend = dispatcher.get_backend("gpu")
    assert type(backend).__module__ == "host_gpu"
    assert install.imported() == ["host_gpu"]


def test_untrusted_entry_point_whose_backend_claims_a_trusted_name_is_rejected(
    install, make_dispatcher, backend_source
):
    install("sneaky", {"sneaky": "sneaky:Backend"}, {"sneaky.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.warns(EntryPointRejectedWarning, match="claims trusted backend 'gpu'"):
        dispatcher.discover()
    assert dispatcher.available_backend_names() == []


def test_trust_checks_entry_point_object_reference_and_module(
    install, make_dispatcher, backend_source
):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    for extra, match in [
        ({"entrypoints": ["gpu_official"]}, "entry point name"),
        ({"object_refs": ["host_gpu:Official"]}, "object reference"),
        ({"module_prefixes": ["official_gpu"]}, "module under"),
    ]:
        dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu", **extra}})
        with pytest.warns(EntryPointRejectedWarning, match=match):
            assert dispatcher.get_backend("gpu") is None
    assert install.imported() == []
    ok = make_dispatcher(
        trusted_backends={
            "gpu": {
                "package": "HOST_GPU",  # PEP 503: same distribution
                "entrypoints": ["gpu"],
                "object_refs": ["host_gpu : Backend"],
                "module_prefixes": ["host_gpu"],
            }
        }
    )
    assert ok.get_backend("gpu").name == "gpu"


@pytest.mark.parametrize(
    ("ep_name", "match"),
    [
        ("cpu", "'cpu' always means"),
        ("cuda", "reserved by testhost"),
        ("bad name", "not a valid label"),
    ],
)
def test_entry_points_with_unclaimable_names_are_rejected_before_import(
    install, make_dispatcher, backend_source, ep_name, match
):
    install("odd", {ep_name: "odd:Backend"}, {"odd.py": backend_source("odd")})
    dispatcher = make_dispatcher(reserved_backends={"cuda": "use 'gpu'"})
    with pytest.warns(EntryPointRejectedWarning, match=match):
        dispatcher.discover()
    assert install.imported() == []


def test_backend_declaring_a_reserved_name_is_rejected(install, make_dispatcher, backend_source):
    install("odd", {"odd": "odd:Backend"}, {"odd.py": backend_source("cuda")})
    dispatcher = make_dispatcher(reserved_backends={"cuda": "use 'gpu'"})
    with pytest.warns(EntryPointRejectedWarning, match="reserved"):
        dispatcher.discover()
    with pytest.raises(ReservedBackendError, match="use 'gpu'"):
        dispatcher.settings.backend = "cuda"


def test_bad_aliases_are_dropped_and_the_backend_kept(install, make_dispatcher, backend_source):
    install(
        "odd",
        {"odd": "odd:Backend"},
        {"odd.py": backend_source("odd", ("cpu", "no spaces", "ok"))},
    )
    dispatcher = make_dispatcher()
    with pytest.warns(EntryPointRejectedWarning, match="Alias ignored") as record:
        dispatcher.discover()
    assert len([w for w in record if w.category is EntryPointRejectedWarning]) == 2
    assert dispatcher.available_backend_names() == ["odd", "ok"]


def test_two_distributions_claiming_one_untrusted_name(install, make_dispatcher, backend_source):
    install(
        "first-dist",
        {"dup": "first_mod:Backend"},
        {"first_mod.py": backend_source("dup")},
    )
    install(
        "second-dist",
        {"dup": "second_mod:Backend"},
        {"second_mod.py": backend_source("dup")},
    )
    dispatcher = make_dispatcher()
    with pytest.warns(EntryPointRejectedWarning, match="already provided by .*first-dist"):
        backend = dispatcher.get_backend("dup")
    assert type(backend).__module__ == "first_mod"
    assert install.imported() == ["first_mod"]


def test_failed_backend_is_never_imported_twice_and_chains_the_error(install, make_dispatcher):
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {"host_gpu.py": "raise RuntimeError('no driver')"},
    )
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    for label in ("gpu", "cuda_like", "gpu"):
        with pytest.raises(BackendLoadError) as excinfo:
            add(1, 2, backend=label)
        assert isinstance(excinfo.value, ImportError)
        assert isinstance(excinfo.value.__cause__, RuntimeError)
        assert "no driver" in str(excinfo.value)
        assert "not installed" not in str(excinfo.value)
        assert excinfo.value.label == label
    assert dispatcher.get_backend("gpu") is None  # unusable: None, as scverse-backends
    (info,) = [info for info in dispatcher.report() if info.name == "gpu"]
    assert "no driver" in info.reason
    assert install.imported() == ["host_gpu"]
    assert add(1, 2) == ("cpu", 3)  # the host keeps working


@pytest.mark.parametrize(
    "body",
    [
        "import asyncio\nraise asyncio.CancelledError()",
        "class Custom(BaseException):\n    pass\nraise Custom('custom')",
        "raise GeneratorExit",
        "def broken(:\n    pass",
        "class Backend:\n    name = 'gpu'\n    def __init__(self):\n        raise ValueError('ctor')",
    ],
    ids=[
        "cancelled",
        "custom-base-exception",
        "generator-exit",
        "syntax-error",
        "constructor-raises",
    ],
)
def test_broken_backends_do_not_break_the_host_or_others(
    install, make_dispatcher, backend_source, body
):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": body})
    install("pkg-b", {"b": "pkg_b:Backend"}, {"pkg_b.py": backend_source("b")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    dispatcher.discover()
    assert dispatcher.settings.available_backends() == ["b"]
    for _ in range(2):
        with pytest.raises(BackendLoadError):
            dispatcher.settings.backend = "cuda_like"
    dispatcher.discover()
    assert install.imported().count("host_gpu") <= 1  # recorded once, never imported again


@pytest.mark.parametrize("raised", ["SystemExit(3)", "KeyboardInterrupt()"])
def test_system_exit_and_keyboard_interrupt_propagate_and_leave_the_backend_untried(
    install, make_dispatcher, raised
):
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {
            "host_gpu.py": f"import os\nif not os.environ.get('HOST_GPU_OK'):\n    raise {raised}\n"
            "class Backend:\n    name = 'gpu'\n"
        },
    )
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.raises((SystemExit, KeyboardInterrupt)):
        dispatcher.settings.backend = "gpu"
    import os  # noqa: PLC0415

    os.environ["HOST_GPU_OK"] = "1"
    try:
        dispatcher.settings.backend = "gpu"  # tried again, and now it loads
    finally:
        del os.environ["HOST_GPU_OK"]
    assert install.imported() == ["host_gpu", "host_gpu"]


def test_missing_attribute_is_a_load_error(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Nope"}, {"host_gpu.py": "x = 1"})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.raises(BackendLoadError) as excinfo:
        dispatcher.settings.backend = "gpu"
    assert isinstance(excinfo.value.__cause__, AttributeError)
    assert "gpu = host_gpu:Nope" in excinfo.value.source


def test_unknown_label_suggests_and_lists_installed(install, make_dispatcher, backend_source):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.raises(UnknownBackendError) as excinfo:
        dispatcher.settings.backend = "gpuu"
    error = excinfo.value
    assert error.suggestions == ("gpu",)
    assert error.installed == ("cpu", "cuda_like", "gpu")
    assert str(error) == (
        "Unknown backend 'gpuu' for testhost. Did you mean 'gpu'? Installed: cpu, cuda_like, gpu."
    )


def test_discovery_runs_once_under_32_racing_threads(install, make_dispatcher, backend_source):
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {"host_gpu.py": "import time\ntime.sleep(0.05)\n" + backend_source("gpu")},
    )
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    barrier = threading.Barrier(32)
    results, errors = [], []

    def call() -> None:
        try:
            barrier.wait()
            results.append(add(1, 2, backend="gpu"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [("gpu", 3)] * 32
    assert install.imported() == ["host_gpu"]


def test_backend_that_queries_the_host_while_importing_does_not_deadlock(
    install, make_dispatcher, backend_source, group
):
    # The backend module asks the dispatcher for backends during its own import,
    # as a backend that imports its host and reads its settings would.
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {
            "host_gpu.py": "import builtins\n"
            "builtins._turnout_test_dispatcher.get_backend('gpu')\n"
            "builtins._turnout_test_dispatcher.available_backend_names()\n" + backend_source("gpu")
        },
    )
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    builtins._turnout_test_dispatcher = dispatcher
    try:
        assert dispatcher.get_backend("gpu").name == "gpu"
    finally:
        del builtins._turnout_test_dispatcher
    assert install.imported() == ["host_gpu"]


def test_keyboard_interrupt_propagates_and_discovery_can_run_again(
    install, make_dispatcher, backend_source, tmp_path
):
    flag = tmp_path / "interrupt"
    flag.touch()
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {
            "host_gpu.py": f"import pathlib\nif pathlib.Path({str(flag)!r}).exists():\n    raise KeyboardInterrupt\n"
            + backend_source("gpu")
        },
    )
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)
    with pytest.raises(KeyboardInterrupt):
        dispatcher.get_backend("gpu")
    flag.unlink()
    assert dispatcher.get_backend("gpu").name == "gpu"


def test_failed_class_is_recorded_under_its_declared_name_and_aliases(install, make_dispatcher):
    install(
        "broken-dist",
        {"broken_ep": "broken_mod:Backend"},
        {
            "broken_mod.py": "class Backend:\n    name = 'real'\n    aliases = ['alias1']\n    def __init__(self):\n        raise RuntimeError('no device')\n"
        },
    )
    dispatcher = make_dispatcher()
    dispatcher.discover()
    for label in ("broken_ep", "real", "alias1"):
        with pytest.raises(BackendLoadError, match="no device"):
            dispatcher.settings.backend = label
        assert dispatcher.get_backend(label) is None
    assert install.imported() == ["broken_mod"]


def test_discovery_logs_what_it_scanned_at_debug(
    install, make_dispatcher, backend_source, caplog, monkeypatch
):
    monkeypatch.setenv("TURNOUT_NO_CACHE", "1")
    install("dist-a", {"a": "mod_a"}, {"mod_a.py": backend_source("a")})
    install("dist-b", {"b": "mod_b"}, {"mod_b.py": backend_source("b")})
    install("dist-cpu", {"cpu": "mod_c"}, {"mod_c.py": backend_source("c")})
    dispatcher = make_dispatcher()
    with caplog.at_level("DEBUG", logger="turnout"), pytest.warns(EntryPointRejectedWarning):
        dispatcher.discover()
    (line,) = [r.getMessage() for r in caplog.records if "entry-point group" in r.getMessage()]
    assert f"testhost: entry-point group {dispatcher.entrypoint_group!r}: 3 entry points" in line
    assert "(2 admitted, 0 shadowed, 1 refused)" in line
    assert "from disk (cache off)" in line
    assert line.endswith(" ms")
    assert "sys.path entries" in line
