"""The typing recipe, end to end: the example host's wheel, its users' and its own type checks.

The host ships ``example_host-stubs/`` (written by ``python -m turnout stubs``)
in its wheel. Installed, mypy and pyright accept ``backend=``; in the host's
repository, nothing hides its code from its own type check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = ROOT / "examples" / "example_host"
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration

USER_SCRIPT = """\
from __future__ import annotations

import example_host
from example_host import RunningStats, moving_average

values = [1.0, 2.0, 3.0]
average: float = example_host.mean(values, backend="accelerated")
spread: float = example_host.variance(values, ddof=1, backend=["chunked", "cpu"])
windows: list[float] = moving_average(values, 2, backend=("dask", "accel"))
stats = RunningStats(values, backend="example_accel")
total: list[float] = stats.values
default: float = example_host.mean(values)
"""

WRONG_SCRIPT = """\
from __future__ import annotations

import example_host

example_host.mean([1.0], backend=3)
example_host.mean(["one"], backend="accelerated")
example_host.mean([1.0], backnd="accelerated")
"""

PLANTED = '\nplanted: int = "not an int"\n'


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, check=False, cwd=cwd
    )


def mypy(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(
        sys.executable, "-m", "mypy", "--strict", "--cache-dir", cwd / ".cache", *args, cwd=cwd
    )


def pyright(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run basedpyright (the test environment's) on `args`, strict, from `cwd`."""
    (cwd / "pyrightconfig.json").write_text(json.dumps({"typeCheckingMode": "strict"}))
    return run(BIN / "basedpyright", *args, cwd=cwd)


@pytest.fixture(scope="module")
def user_python(tmp_path_factory) -> Path:
    """A fresh environment with the wheels of turnout and example-host installed."""
    pytest.importorskip("hatchling", reason="builds the wheels without network access")
    pytest.importorskip("mypy")
    if not (BIN / "basedpyright").exists():
        pytest.skip("basedpyright is not installed here")
    wheels = tmp_path_factory.mktemp("wheels")
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        wheels,
        ROOT,
        HOST,
        cwd=wheels,
    )
    assert built.returncode == 0, built.stderr
    env_dir = tmp_path_factory.mktemp("user-venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this interpreter's pip installs into it
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    installed = run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        *sorted(wheels.glob("*.whl")),
        cwd=wheels,
    )
    assert installed.returncode == 0, installed.stderr
    return python


def test_the_wheel_ships_a_stub_only_package_beside_the_host(user_python):
    listed = run(
        user_python,
        "-c",
        "import importlib.metadata as m; print('\\n'.join(str(f) for f in m.files('example-host')))",
        cwd=user_python.parent,
    )
    files = set(listed.stdout.split())
    assert "example_host-stubs/_stats.pyi" in files
    assert "example_host-stubs/py.typed" in files
    assert "example_host/_stats.py" in files
    assert not [
        name for name in files if name.startswith("example_host/") and name.endswith(".pyi")
    ]


def test_users_calls_with_backend_type_check(user_python, tmp_path):
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    checked = mypy(tmp_path, "--python-executable", user_python, "user.py")
    assert checked.returncode == 0, checked.stdout
    assert "Success: no issues found in 1 source file" in checked.stdout
    checked = pyright(tmp_path, "--pythonpath", user_python, "user.py")
    assert checked.returncode == 0, checked.stdout
    assert "0 errors" in checked.stdout


def test_wrong_calls_are_still_caught(user_python, tmp_path):
    (tmp_path / "wrong.py").write_text(WRONG_SCRIPT)
    checked = mypy(tmp_path, "--python-executable", user_python, "wrong.py")
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["5", "6", "7"], checked.stdout
    checked = pyright(tmp_path, "--pythonpath", user_python, "wrong.py")
    assert checked.returncode == 1
    for line in ("wrong.py:5:", "wrong.py:6:", "wrong.py:7:"):
        assert line in checked.stdout, checked.stdout


def test_the_hosts_own_type_check_reads_its_code(tmp_path):
    pytest.importorskip("mypy")
    assert not list((HOST / "src").rglob("*.pyi")), "a stub beside the code hides it from mypy"
    checkout = tmp_path / "example_host"
    shutil.copytree(HOST, checkout, ignore=shutil.ignore_patterns("__pycache__"))
    clean = mypy(checkout, "src/example_host")
    assert clean.returncode == 0, clean.stdout
    with (checkout / "src" / "example_host" / "_stats.py").open("a") as source:
        source.write(PLANTED)
    planted = mypy(checkout, "src/example_host")
    assert planted.returncode == 1
    assert (
        'Incompatible types in assignment (expression has type "str", variable has type "int")'
        in (planted.stdout)
    )
    assert "Found 1 error in 1 file" in planted.stdout
