"""The example host and backend, pip-installed into a fresh virtual environment."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    projects = [
        ROOT,
        *(
            ROOT / "examples" / name
            for name in (
                "example_host",
                "example_host_accel",
                "example_host_arrays",
                "example_host_numpy",
                "example_host_cupy",
            )
        ),
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
            str(out),
            *map(str, projects),
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def env_python(tmp_path_factory, wheels) -> Path:
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
            "example-host-numpy",  # and NumPy, from the package index
        ],
        check=True,
    )
    return python


def run(
    python: Path, code: str, *, path: tuple[Path, ...] = (), env: dict[str, str] | None = None
) -> str:
    """Run `code` in the venv, warnings as errors, with `path` first on sys.path."""
    result = subprocess.run(
        [str(python), "-W", "error::UserWarning", "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=environment(path, env),
    )
    return result.stdout


def environment(path: tuple[Path, ...], extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path)), **(extra or {})}


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
        "['accel', 'accelerated', 'chunked', 'chunks', 'example', 'example_accel', 'numpy', 'vectorized']",
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
        # to a pipe, without COLUMNS, the closing table keeps each backend on one line
        env={name: value for name, value in os.environ.items() if name != "COLUMNS"},
    ).stdout
    vectorized = importlib.util.find_spec("example_host_numpy") is not None
    canonical = ["chunked", "dask", "example_accel", *(["numpy"] if vectorized else [])]
    for expected in [
        f"canonical: {canonical}",
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
        "  example_host.mean: example_accel ran (call keyword: example_accel)",
        "  example_host.mean: chunked ran (automatic selection)",
        (
            "  example_host.mean: example_accel ran (use_backend scope: ['chunked', "
            "'example_accel']); declined: chunked: can_run said 'mean works on ChunkedArray "
            "here, not list'"
        ),
        (
            "  example_host.standardize: cpu ran (call keyword: accel); fell back: "
            "example_accel: does not implement it"
        ),
        "| `example_host.moving_average` | 1 test(s) | declined 1, fell back 1 |",
        "(pytest exit status ",
    ]:
        assert expected in out
    assert out.count("same result: True") == 2
    if vectorized:  # the speed-up step; without CuPy and a GPU, the CuPy backend is skipped
        assert "numpy agrees with cpu (example_host_numpy.agrees, rel_tol 1e-9): True" in out
        assert re.search(r"^moving_average: cpu .* numpy .*x faster", out, re.MULTILINE)
        assert "== On a GPU: backend='cupy' (alias 'gpu')" in out
        assert "cupy agrees with cpu" in out or re.search(
            r"^skipped: .*(CuPy|example-host-cupy)", out, re.MULTILINE
        )
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


# The vectorised backends: NumPy (installed from the package index) and CuPy.

# example_host may not list these backends among those it trusts; their first
# use would then warn once (UntrustedBackendWarning). These scripts are about
# what the backends compute, so that one warning is ignored; any other is an error.
UNTRUSTED_OK = (
    "import warnings, turnout\nwarnings.simplefilter('ignore', turnout.UntrustedBackendWarning)\n"
)


def test_numpy_backend_is_found_through_its_entry_point_and_agrees_with_the_host(env_python):
    out = run(
        env_python,
        UNTRUSTED_OK
        + textwrap.dedent(
            """
            import random, sys
            import example_host as h
            print('numpy' in sys.modules, 'example_host_numpy' in sys.modules)
            [info] = [i for i in h.report(load=False) if i.name == 'numpy']
            print(info.implements, 'example_host_numpy' in sys.modules)  # turnout-backend.json
            print(type(h.get_backend('vectorized')).__module__)
            rng = random.Random(1)
            data = {
                'uniform': [rng.uniform(0, 1000) for _ in range(5_000)],
                'centred': [rng.gauss(0, 1) for _ in range(5_000)],
            }
            from example_host_numpy import agrees
            for name, values in data.items():
                scale = max(map(abs, values))
                checks = [
                    agrees(h.mean(values, backend='numpy'), h.mean(values), scale),
                    agrees(h.variance(values, 1, backend='numpy'), h.variance(values, 1)),
                    agrees(h.standardize(values, backend='numpy'), h.standardize(values), 1.0),
                ]
                for window in (1, 2, 3, 50, 4_999, 5_000, 5_001):
                    ours = h.moving_average(values, window, backend='numpy')
                    host = h.moving_average(values, window)
                    checks.append(agrees(ours, host, scale) and len(ours) == len(host))
                print(name, all(checks))
            results = [
                h.mean([1.0, 2.0], backend='numpy'),
                h.moving_average([1.0, 2.0, 4.0], 2, backend='numpy'),
                h.standardize([1.0, 2.0, 3.0], backend='numpy'),
            ]
            print([type(r).__name__ for r in results], results[1], type(results[1][0]).__name__)
            def error(call):
                try:
                    call()
                except Exception as e:
                    return type(e).__name__
            for call in (  # the backend fails as the host does (window 0: it declines)
                lambda **k: h.mean([], **k),
                lambda **k: h.variance([1.0], 1, **k),
                lambda **k: h.moving_average([1.0, 2.0], 0, **k),
                lambda **k: h.standardize([2.0, 2.0], **k),
            ):
                print(error(lambda: call(backend='numpy')), error(call))
            import turnout.testing
            from example_host_numpy import NumpyBackend
            turnout.testing.assert_conformance(turnout.dispatcher_for('example_host'), NumpyBackend)
            print('conforms')
            """
        ),
    )
    functions = "'example_host.mean', 'example_host.variance', 'example_host.moving_average', 'example_host.standardize'"
    assert out.splitlines() == [
        "False False",
        f"({functions}) False",
        "example_host_numpy",
        "uniform True",
        "centred True",
        "['float', 'list', 'list'] [1.5, 3.0] float",
        "ZeroDivisionError ZeroDivisionError",
        "ZeroDivisionError ZeroDivisionError",
        "ZeroDivisionError ZeroDivisionError",
        "ZeroDivisionError ZeroDivisionError",
        "conforms",
    ]


def test_demo_speed_up_step(env_python):
    out = run(
        env_python,
        UNTRUSTED_OK
        + f"import sys\nsys.path.insert(0, {str(ROOT / 'examples')!r})\nimport demo\n"
        + "demo.vectorized(size=20_000, window=30, repeats=1)",
    )
    for name in ("moving_average", "standardize"):
        assert re.search(
            rf"^{name}: cpu [\d.]+ s, numpy [\d.]+ s: [\d.]+x faster; "
            r"max relative difference \d\.\de[+-]\d\d$",
            out,
            re.MULTILINE,
        ), out
    assert "numpy agrees with cpu (example_host_numpy.agrees, rel_tol 1e-9): True" in out
    # example-host-cupy is not installed here: the step says so and what to install
    assert re.search(r"^skipped: .*pip install example-host-cupy", out, re.MULTILINE), out


@pytest.fixture(scope="module")
def cupy_backend(tmp_path_factory, env_python, wheels) -> Path:
    """A directory for sys.path holding example-host-cupy, installed without CuPy."""
    target = tmp_path_factory.mktemp("cupy-backend")
    subprocess.run(
        [
            str(env_python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",  # CuPy is large, and there is no GPU here
            "--no-index",
            "--find-links",
            str(wheels),
            "--target",
            str(target),
            "example-host-cupy",
        ],
        check=True,
    )
    return target


@pytest.fixture(scope="module")
def fake_cupy(tmp_path_factory) -> Path:
    """A directory for sys.path holding a stand-in `cupy`: NumPy's functions, and a device
    count from FAKE_CUPY_DEVICES (unset: no CUDA device, as CuPy raises it)."""
    root = tmp_path_factory.mktemp("fake-cupy")
    (root / "cupy" / "cuda").mkdir(parents=True)
    (root / "cupy" / "__init__.py").write_text(
        "from numpy import asarray, cumsum, float64, zeros, zeros_like\nfrom cupy import cuda\n"
    )
    (root / "cupy" / "cuda" / "__init__.py").write_text("from cupy.cuda import runtime\n")
    (root / "cupy" / "cuda" / "runtime.py").write_text(
        textwrap.dedent(
            """
            import os

            class CUDARuntimeError(RuntimeError):
                pass

            def getDeviceCount():
                if "FAKE_CUPY_DEVICES" not in os.environ:
                    raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")
                return int(os.environ["FAKE_CUPY_DEVICES"])
            """
        )
    )
    return root


SELECT_CUPY = UNTRUSTED_OK + textwrap.dedent(
    """
    import sys, example_host as h, turnout
    print('example_host_cupy' in sys.modules, 'cupy' in sys.modules)
    def choose(how):
        try:
            how()
        except turnout.BackendLoadError as error:
            return error
    errors = [
        choose(lambda: h.moving_average([1.0, 2.0, 3.0], 2, backend='gpu')),
        choose(lambda: setattr(h.settings, 'backend', 'cupy')),
        choose(lambda: h.settings.use_backend('gpu').__enter__()),
    ]
    print([(e.label, isinstance(e, ImportError)) for e in errors])
    print(errors[0].__cause__)
    print(h.settings.backend, h.get_backend('cupy'), h.mean([1e16, 1.0, -1e16], backend='accel'))
    """
)


def test_selecting_the_cupy_backend_without_cupy_says_what_to_install(env_python, cupy_backend):
    out = run(env_python, SELECT_CUPY, path=(cupy_backend,))
    assert out.splitlines() == [
        "False False",
        "[('gpu', True), ('cupy', True), ('gpu', True)]",
        "CuPy is not installed; the 'cupy' backend needs it and a CUDA GPU: pip install cupy-cuda12x (or the cupy-cuda11x or cupy-cuda13x wheel that matches your CUDA driver), or use backend='numpy'",
        "cpu None 0.3333333333333333",
    ]
    listing = subprocess.run(
        [str(env_python), "-m", "turnout", "--host", "example_host", "--json"],
        capture_output=True,
        text=True,
        env=environment((cupy_backend,)),
        check=False,
    )
    assert listing.returncode == 1  # a backend failed to load
    [row] = [row for row in json.loads(listing.stdout) if row["name"] == "cupy"]
    assert row["status"] == "failed"
    assert "pip install cupy-cuda12x" in row["error"]


@pytest.mark.parametrize(
    ("devices", "problem"),
    [
        (None, "CUDARuntimeError: cudaErrorNoDevice: no CUDA-capable device is detected"),
        ("0", "it counts 0 devices"),
    ],
)
def test_selecting_the_cupy_backend_without_a_gpu_says_so(
    env_python, cupy_backend, fake_cupy, devices, problem
):
    env = {} if devices is None else {"FAKE_CUPY_DEVICES": devices}
    out = run(env_python, SELECT_CUPY, path=(fake_cupy, cupy_backend), env=env)
    assert out.splitlines()[2] == (
        f"CuPy finds no CUDA GPU ({problem}); the 'cupy' backend needs an NVIDIA GPU "
        "and its driver, or use backend='numpy'"
    )


def test_cupy_backend_runs_where_cupy_sees_a_gpu(env_python, cupy_backend, fake_cupy):
    # The stand-in computes with NumPy: this checks the wiring, not a GPU.
    out = run(
        env_python,
        UNTRUSTED_OK
        + textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT / "examples")!r})
            import example_host as h, turnout.testing
            from example_host_cupy import CupyBackend
            from example_host_numpy import agrees
            values = [float(i % 17) for i in range(1_000)]
            ours = h.moving_average(values, 7, backend='gpu')
            print(agrees(ours, h.moving_average(values, 7), 16.0), type(ours[0]).__name__)
            print(h.get_backend('cupy')._xp.__file__.startswith({str(fake_cupy)!r}))
            turnout.testing.assert_conformance(turnout.dispatcher_for('example_host'), CupyBackend)
            import demo
            demo.vectorized(size=2_000, window=10, repeats=1)
            """
        ),
        path=(fake_cupy, cupy_backend),
        env={"FAKE_CUPY_DEVICES": "1"},
    )
    assert out.splitlines()[:2] == ["True float", "True"]
    assert "cupy agrees with cpu (example_host_numpy.agrees, rel_tol 1e-9): True" in out
