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
        ROOT / "examples" / "example_host_arrays",
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
            "example-host-arrays",
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
        "['accel', 'accelerated', 'chunked', 'chunks', 'example', 'example_accel']",
    ]


def test_console_script_lists_the_backend(env_python):
    script = env_python.parent / ("turnout.exe" if os.name == "nt" else "turnout")
    out = subprocess.run(
        [str(script), "example_host.backends", "--json"], check=True, capture_output=True, text=True
    ).stdout
    assert '"name": "example_accel"' in out
    assert '"status": "ready"' in out


def test_demo_walkthrough():
    # Run where `dev.py test` installed turnout and every example (the Dask one
    # needs dask[distributed], which the test requirements pin).
    pytest.importorskip("example_host_dask", reason="the examples are not installed here")
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for expected in [
        "canonical: ['chunked', 'dask', 'example_accel']",
        "mean(DATA, backend='example_accel') = 1.6666666666666667",
        "inside, settings.backend = 'example_accel'",
        "RunningStats -> example_accel mean 3.0",
        "after the block, settings.backend = 'cpu'",
        "settings.backend = 'example_accel' (stored as the canonical name)",
        "standardize([1, 2, 3]) = [-1.224744871391589, 0.0, 1.224744871391589]",
        "UnknownBackendError: Unknown backend 'acel' for example_host. Did you mean 'accel'?",
        "ReservedBackendError: Backend name 'cuda' is reserved by example_host",
        "example_host.mean: backend 'chunked' (automatic selection)",
        "note: 'chunked' owns example_host_arrays:ChunkedArray (priority 10)",
        "mean(DATA) = 1.5   (a list: no backend owns it, the host's code runs)",
        "chunked: can_run said 'mean works on ChunkedArray here, not list'; next candidate",
        "mean(DATA) = 1.6666666666666667   (chunked declined a list: example_accel ran)",
        "chunked: raised NotImplementedError: window 6 is longer than a chunk (4 values)",
        "moving_average(chunks, window=6) = [3.5, 4.5, 5.5, 6.5]",
        "dask: should_run said '6 additions are too few for a cluster to pay off'",
        "  on the workers, mean(DATA) = 1.5",
        "after turnout.dask.register, the workers' settings.backend: {'example_accel'}",
        "  on the workers, mean(DATA) = 1.6666666666666667",
    ]:
        assert expected in out
    assert out.count("same result: True") == 2
    table = out[out.index("name  ") :].splitlines()
    assert table[1].split()[:4] == ["chunked", "chunks", "yes", "example-host-arrays"]
    assert table[2].split()[:4] == ["dask", "distributed", "yes", "example-host-dask"]
    assert table[3].split()[:6] == [
        "example_accel",
        "example,",
        "accelerated,",
        "accel",
        "yes",
        "example-host-accel",
    ]


def test_type_based_selection_reads_metadata_without_importing(env_python):
    out = run(
        env_python,
        "import sys, example_host as h\n"
        "from example_host_arrays import ChunkedArray\n"
        "print(h.report(load=False)[0].implements)\n"
        "print('example_host_arrays.backend' in sys.modules)\n"
        "chunks = ChunkedArray([1.0, 2.0, 3.0, 4.0, 5.0], chunk_size=2)\n"
        "print(h.variance([1.0, 2.0, 3.0]), 'example_host_arrays.backend' in sys.modules)\n"
        "print(h.variance(chunks), 'example_host_arrays.backend' in sys.modules)\n"
        "print('example_host_accel' in sys.modules)\n"
        "print(h.moving_average(chunks, window=2) == h.moving_average(chunks, window=2, backend='cpu'))",
    )
    assert out.splitlines() == [
        "('example_host.mean', 'example_host.variance', 'example_host.moving_average')",
        "False",
        "0.6666666666666666 False",
        "2.0 True",
        "False",
        "True",
    ]
