#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3.10+: ``demo`` and ``test``.

    python3 dev.py demo    install turnout and the examples in a fresh venv, run the demo
    python3 dev.py test    lint, types, tests (unit, property, integration) and the docs build
    python3 dev.py bench   measure turnout against a plain call and its peers
    python3 dev.py docs    build the documentation into docs/_build/html
    python3 dev.py fuzz    fuzz every reader of installed metadata, the cache and configuration
                           far longer than the suite (TURNOUT_FUZZ_EXAMPLES inputs each)

Each task builds the virtual environment it needs under ``.venv/`` (one per
Python version), so ``PYENV_VERSION=3.10.13 python dev.py test`` tests 3.10.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TAG = f"py{sys.version_info[0]}.{sys.version_info[1]}"
EXAMPLES = [
    ROOT / "examples" / "example_host",
    ROOT / "examples" / "example_host_accel",
    ROOT / "examples" / "example_host_arrays",
    ROOT / "examples" / "example_host_dask",
    ROOT / "examples" / "example_host_numpy",
    ROOT / "examples" / "example_host_cupy",  # installed --no-deps: no CuPy; the demo says why
]


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Echo and run a command; stop on failure."""
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, check=True, env=env)


def python_in(env_dir: Path) -> Path:
    """Return the interpreter of a virtual environment."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def fresh_env(env_dir: Path) -> Path:
    """Create an empty virtual environment with an up-to-date pip."""
    if env_dir.exists():
        shutil.rmtree(env_dir)
    venv.EnvBuilder(with_pip=True).create(env_dir)
    return python_in(env_dir)


def install_project(python: Path, *, extra: tuple[Path, ...] = ()) -> None:
    """Install turnout (not editable: tests see what users get) and `extra`."""
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--force-reinstall",
        "--no-deps",
        ROOT,
        *EXAMPLES,
        *extra,
    )


def demo() -> None:
    """Install turnout and the examples into a fresh venv and run the walkthrough."""
    python = fresh_env(ROOT / ".venv" / f"demo-{TAG}")
    run(python, "-m", "pip", "install", "--quiet", "packaging")
    run(python, "-m", "pip", "install", "--quiet", "dask[distributed]")  # the Dask step
    run(python, "-m", "pip", "install", "--quiet", "numpy")  # the NumPy backend's step
    run(python, "-m", "pip", "install", "--quiet", "pytest")  # the compatibility matrix's step
    install_project(python)
    run(python, ROOT / "examples" / "demo.py")


def test_env() -> Path:
    """The test environment, rebuilt when requirements/dev.txt changes."""
    env_dir = ROOT / ".venv" / f"test-{TAG}"
    requirements = ROOT / "requirements" / "dev.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = env_dir / "requirements.sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        python = fresh_env(env_dir)
        run(python, "-m", "pip", "install", "--quiet", "-r", requirements)
        stamp.write_text(digest)
    return python_in(env_dir)


def test() -> None:
    """Lint, type-check and run every test against the installed package."""
    python = test_env()
    install_project(python)
    bin_dir = python.parent
    run(bin_dir / "ruff", "check", ".")
    run(bin_dir / "ruff", "format", "--check", ".")
    run(python, "-m", "mypy")
    # a typed host's `backend=` under mypy and pyright, through the stub-only package
    # turnout writes: made from the example host's checkout, as its stubs/ must be
    checkout = {**os.environ, "PYTHONPATH": str(ROOT / "examples" / "example_host" / "src")}
    run(python, "-m", "turnout", "stubs", "example_host", "--check", env=checkout)
    run(python, "-m", "mypy", "--config-file", "tests/typing/mypy.ini", "tests/typing")
    run(bin_dir / "basedpyright", "--project", "tests/typing", "--pythonpath", python)
    env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}
    run(python, "-m", "pytest", "-p", "no:cacheprovider", env=env)


def docs() -> None:
    """Build the HTML documentation, warnings as errors, into docs/_build/html."""
    python = test_env()
    install_project(python)
    out = ROOT / "docs" / "_build" / "html"
    run(python, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", ROOT / "docs", out)
    print(f"built: {out / 'index.html'}")


def fuzz() -> None:
    """Fuzz every reader of outside bytes far longer than the suite (TURNOUT_FUZZ_EXAMPLES each)."""
    python = test_env()
    install_project(python)
    examples = os.environ.get("TURNOUT_FUZZ_EXAMPLES", "10000")
    env = {**os.environ, "TURNOUT_FUZZ_EXAMPLES": examples}
    test = ROOT / "tests" / "property" / "test_readers_fuzz.py"
    options = ["-p", "no:cacheprovider", "-o", "timeout=0", "--hypothesis-show-statistics"]
    run(python, "-m", "pytest", *options, test, env=env)


def bench() -> None:
    """Install turnout and its peers into the benchmark venv and run the benchmark."""
    env_dir = ROOT / ".venv" / f"bench-{TAG}"
    python = python_in(env_dir) if env_dir.exists() else fresh_env(env_dir)
    run(python, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements" / "bench.txt")
    run(python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", ROOT)
    run(python, ROOT / "benchmarks" / "bench_dispatch.py")
    run(python, ROOT / "benchmarks" / "bench_startup.py")


def main() -> int:
    """Run the task named on the command line."""
    tasks = {"demo": demo, "test": test, "bench": bench, "docs": docs, "fuzz": fuzz}
    if len(sys.argv) != 2 or sys.argv[1] not in tasks:  # noqa: PLR2004 - one task name
        print(__doc__)
        return 2
    try:
        tasks[sys.argv[1]]()
    except subprocess.CalledProcessError as error:
        print(f"dev.py {sys.argv[1]}: failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
