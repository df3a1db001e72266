"""Drop-in proof: scverse-backends 0.0.3's own public-API tests pass against turnout.

The sdist is downloaded at test time (nothing of it is kept in this repository),
``scverse_backends`` is renamed ``turnout`` in its tests, and the tests that use
only the public API run: its conformance tests, its public-API typing test and
the constructor-validation tests of its settings tests.
"""

from __future__ import annotations

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
