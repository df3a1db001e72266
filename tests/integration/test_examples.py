"""The example host and backend, pip-installed into a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env_python(tmp_path_factory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    projects = [
        ROOT,
        ROOT / "examples" / "example_host",
        ROOT / "examples" / "example_host_accel",
    ]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            *map(str, projects),
        ],
        check=True,
    )
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--find-links",
            str(wheels),
            "turnout",
            "example-host",
            "example-host-accel",
        ],
        check=True,
    )
    return python


def run(python: Path, code: str) -> str:
    result = subprocess.run(
        [str(python), "-W", "error::UserWarning", "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def test_installed_backend_is_found_through_its_entry_point(env_python):
    out = run(
        env_python,
        "import sys, example_host as h\n"
        "print('example_host_accel' in sys.modules)\n"
        "print(h.mean([1e16, 1.0, -1e16, 2.0], backend='accelerated'))\n"
        "print('example_host_accel' in sys.modules)\n"
        "print(h.available_backend_names())",
    )
    assert out.split("\n")[:4] == [
        "False",
        "0.75",
        "True",
        "['accel', 'accelerated', 'example', 'example_accel']",
    ]


def test_console_script_lists_the_backend(env_python):
    script = env_python.parent / ("turnout.exe" if os.name == "nt" else "turnout")
    out = subprocess.run(
        [str(script), "example_host.backends", "--json"], check=True, capture_output=True, text=True
    ).stdout
    assert '"name": "example_accel"' in out
    assert '"status": "ready"' in out


def test_demo_walkthrough(env_python):
    out = subprocess.run(
        [str(env_python), str(ROOT / "examples" / "demo.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for expected in [
        "canonical: ['example_accel']",
        "mean(DATA, backend='example_accel') = 1.6666666666666667",
        "inside, settings.backend = 'example_accel'",
        "RunningStats -> example_accel mean 3.0",
        "after the block, settings.backend = 'cpu'",
        "settings.backend = 'example_accel' (stored as the canonical name)",
        "standardize([1, 2, 3]) = [-1.224744871391589, 0.0, 1.224744871391589]",
        "UnknownBackendError: Unknown backend 'acel' for example_host. Did you mean 'accel'?",
        "ReservedBackendError: Backend name 'cuda' is reserved by example_host",
        "example_accel  example, accelerated, accel  example-host-accel",
    ]:
        assert expected in out
