"""Drop-in proof: scverse-backends 0.0.3's own public-API tests pass against turnout.

The sdist is downloaded at test time (nothing of it is kept in this repository),
``scverse_backends`` is renamed ``turnout`` in its tests, and the tests that use
only the public API run: its conformance tests, its public-API typing test and
the constructor-validation tests of its settings tests.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SDIST = "scverse-backends==0.0.3"
FILES = (
    "conftest.py",
    "_helpers.py",
    "test_conformance.py",
    "test_public_api.py",
    "test_settings.py",
)
CONSTRUCTOR_TESTS = (
    "test_dispatcher_requires_nonempty_identity",
    "test_dispatcher_requires_mapping_configuration",
    "test_reserved_backend_reason_must_be_nonempty",
    "test_invalid_trusted_provider_config_is_rejected",
    "test_invalid_trusted_alias_raises",
    "test_trusted_alias_string_raises",
    "test_duplicate_trusted_alias_raises",
    "test_reserved_backend_conflicts_with_trusted_alias",
)


@pytest.fixture(scope="module")
def renamed_tests(tmp_path_factory) -> Path:
    download = tmp_path_factory.mktemp("sdist")
    # The package requires Python >= 3.12; --python-version lets any interpreter fetch it.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--no-build-isolation",
            "--python-version",
            "3.12",
            SDIST,
            "-d",
            str(download),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    archives = list(download.glob("scverse_backends-*.tar.gz"))
    if result.returncode or not archives:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the {SDIST} sdist (is the package index reachable?): {last}")
    work = tmp_path_factory.mktemp("renamed")
    with tarfile.open(archives[0]) as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if len(name.parts) == 3 and name.parts[1] == "tests" and name.name in FILES:
                source = archive.extractfile(member)
                assert source is not None
                text = source.read().decode("utf-8").replace("scverse_backends", "turnout")
                (work / name.name).write_text(text, encoding="utf-8")
    assert sorted(path.name for path in work.iterdir()) == sorted(FILES)
    return work


def run_pytest(work: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(work),
            *selection,
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_their_conformance_and_public_api_tests_pass(renamed_tests):
    result = run_pytest(renamed_tests, "test_conformance.py", "test_public_api.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_their_constructor_validation_tests_pass(renamed_tests):
    selection = [f"test_settings.py::TestSettings::{name}" for name in CONSTRUCTOR_TESTS]
    result = run_pytest(renamed_tests, *selection)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{19} passed" in result.stdout  # the 8 tests, parametrized


# -- the differences settled with scverse-backends 0.0.3, each as its own test names it ------


FAKE_GPU = """
class Backend:
    name = "fake_gpu"

    def my_func(self, x, gpu_param=None, extra_param=0):
        '''Run it on the GPU.

        Parameters
        ----------
        gpu_param
            Backend-specific parameter.
        '''
        return ("gpu", x, gpu_param)

    class Model:
        where = "gpu"

        def __init__(self, size=1):
            self.size = size
"""


@pytest.fixture
def fake(install, make_dispatcher):
    install("fake-gpu", {"fake_gpu": "fake_gpu_mod:Backend"}, {"fake_gpu_mod.py": FAKE_GPU})
    return make_dispatcher(trusted_backends={"fake_gpu": {"package": "fake-gpu"}})


def _decorated(dispatcher):
    @dispatcher.backend_dispatch
    def my_func(x, n_jobs=None):
        """Run my_func.

        Parameters
        ----------
        x
            Input value.

        Returns
        -------
        Whatever.
        """
        return ("cpu", x)

    return my_func


def test_backend_param_docs_merged_into_other_parameters(fake):
    my_func = _decorated(fake)
    fake.discover()
    doc = inspect.cleandoc(my_func.__doc__)  # 3.13 strips the indentation of docstrings itself
    assert doc.index("backend") < doc.index("Other Parameters") < doc.index("gpu_param")
    assert doc.index("gpu_param") < doc.index("Returns")
    assert "Backend-specific parameter." in doc
    # undocumented: still its provenance line
    assert "extra_param\n    Only for backend ``fake_gpu`` (default ``0``)." in doc


def test_private_backend_param_is_not_injected(install, make_dispatcher):
    import inspect  # noqa: PLC0415

    from turnout import BackendSignatureWarning  # noqa: PLC0415

    source = (
        "class Backend:\n    name = 'private_gpu'\n"
        "    def my_func(self, x, _hidden=None):\n        return ('gpu', x, _hidden)\n"
    )
    install("private-gpu", {"private_gpu": "private_mod:Backend"}, {"private_mod.py": source})
    dispatcher = make_dispatcher(trusted_backends={"private_gpu": {"package": "private-gpu"}})
    my_func = _decorated(dispatcher)
    with pytest.warns(BackendSignatureWarning, match="'_hidden' of its my_func.*starts with '_'"):
        dispatcher.discover()
    assert "_hidden" not in inspect.signature(my_func).parameters
    assert "_hidden" not in my_func.__doc__
    assert my_func(1, backend="private_gpu", _hidden=2) == ("gpu", 1, 2)


def test_backend_kwarg_on_cpu_raises(fake):
    my_func = _decorated(fake)
    fake.discover()
    with pytest.raises(TypeError, match="gpu_param"):
        my_func(42, gpu_param="hello")


def test_uninspectable_backend_export_raises_clear_error(install, make_dispatcher):
    from turnout import DispatchDefinitionError, FallbackWarning  # noqa: PLC0415

    source = "class Backend:\n    name = 'opaque_gpu'\n    my_func = staticmethod(iter)\n"
    install("opaque-gpu", {"opaque_gpu": "opaque_mod:Backend"}, {"opaque_mod.py": source})
    dispatcher = make_dispatcher(trusted_backends={"opaque_gpu": {"package": "opaque-gpu"}})
    my_func = _decorated(dispatcher)
    with pytest.raises(DispatchDefinitionError, match="signature cannot be inspected"):
        my_func(object(), backend="opaque_gpu")
    # not named by the call: the next candidate (here the host's code) runs, and says why
    with dispatcher.settings.use_fallback("warn"), dispatcher.settings.use_backend("opaque_gpu"):
        with pytest.warns(FallbackWarning, match="signature cannot be inspected"):
            assert my_func(1) == ("cpu", 1)


def test_backend_whose_name_raises_is_reported_and_the_others_work(install, make_dispatcher):
    from turnout import BackendLoadWarning  # noqa: PLC0415

    broken = "class Backend:\n    @property\n    def name(self):\n        raise RuntimeError('no name')\n"
    install("broken-gpu", {"broken": "broken_mod:Backend"}, {"broken_mod.py": broken})
    install("fake-gpu", {"fake_gpu": "fake_gpu_mod:Backend"}, {"fake_gpu_mod.py": FAKE_GPU})
    dispatcher = make_dispatcher(trusted_backends={"fake_gpu": {"package": "fake-gpu"}})
    my_func = _decorated(dispatcher)
    with pytest.warns(BackendLoadWarning, match="RuntimeError: no name"):
        dispatcher.discover()
    assert my_func(1, backend="fake_gpu")[0] == "gpu"
    assert "broken" not in dispatcher.available_backend_names()


def test_original_host_class_exported_by_backend_falls_back(install, make_dispatcher):
    source = (
        "import reexport_host\n\n"
        "class Backend:\n    name = 'class_gpu'\n"
        "    Model = reexport_host.Model.__scverse_backends_cpu_class__\n"
    )
    host = (
        "from turnout import BackendDispatcher\n"
        "d = BackendDispatcher({group!r}, 'rehost', untrusted='allow')\n"
        "@d.backend_class\nclass Model:\n    source = 'cpu'\n"
    )
    install("reexport-host", {}, {"reexport_host.py": host.format(group=install.group)})
    install("class-gpu", {"class_gpu": "class_gpu_mod:Backend"}, {"class_gpu_mod.py": source})
    import reexport_host  # noqa: PLC0415 - written by this test

    model = reexport_host.Model(backend="class_gpu")
    assert isinstance(model, reexport_host.Model)
    assert model.source == "cpu"


def test_class_docstring_keeps_the_hosts_first_paragraph(fake):
    text = """A model of things.

    It spans two paragraphs, the second one
    on two lines.

    Parameters
    ----------
    size
        How big.
    """

    @fake.backend_class
    class Model:
        __doc__ = text

        def __init__(self, size=1):
            self.size = size

    inserted = Model.__doc__.index("    backend\n")
    assert Model.__doc__[:inserted] == text.rstrip(" ")
