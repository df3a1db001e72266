"""A walk through turnout as an end user sees it.

Run it with ``python3 dev.py demo``: that installs turnout, ``example_host`` and
its backend packages, ``example-host-accel``, ``example-host-arrays``,
``example-host-dask``, ``example-host-numpy`` (with NumPy from the package
index) and ``example-host-cupy`` (without CuPy, which is large: its step says
why it is skipped), into a fresh virtual environment, and runs this script
there, so the backends are found through their real entry points.
"""

from __future__ import annotations

import logging
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import example_host
from example_host import RunningStats, explain, mean, moving_average, settings, standardize
from example_host_arrays import ChunkedArray

import turnout

DATA = [1e16, 1.0, -1e16, 2.0, 3.0, 4.0]


def step(title: str) -> None:
    print(f"\n== {title}")


def by_name() -> None:
    """Select a backend by its name: per call, in a scope, process-wide."""
    step("Installed backends (entry point group 'example_host.backends')")
    print("labels:   ", example_host.available_backend_names())
    print("canonical:", settings.available_backends())
    backend = example_host.get_backend("accelerated")
    print("'accelerated' ->", type(backend).__module__, type(backend).__qualname__)

    step("Default: the host's own code ('cpu')")
    print(f"settings.backend = {settings.backend!r}")
    print("mean(DATA) =", mean(DATA), "  (plain float loop loses the small values)")

    step("Per call: backend='example_accel'")
    print("mean(DATA, backend='example_accel') =", mean(DATA, backend="example_accel"))
    print(
        "a backend-only keyword: mean(DATA, backend='accel', exact=False) =",
        mean(DATA, backend="accel", exact=False),
    )
    print(
        "moving_average([1, 2, 3, 4, 5], backend='accel') =",
        moving_average([1, 2, 3, 4, 5], backend="accel"),
    )

    step("Scoped: with settings.use_backend('accelerated')")
    with settings.use_backend("accelerated") as name:
        print("inside, settings.backend =", repr(name))
        print("mean(DATA) =", mean(DATA))
        stats = RunningStats([1.0, 2.0])
        stats.push(6.0)
        print("RunningStats ->", stats.implementation, "mean", stats.mean)
        seen: list[str] = []
        worker = threading.Thread(target=lambda: seen.append(settings.backend))
        worker.start()
        worker.join()
        print(
            "a thread started inside the scope sees:",
            seen[0],
            "(scopes are per thread)",
        )
    print("after the block, settings.backend =", repr(settings.backend))

    step("Global: settings.backend = 'example' (an alias)")
    settings.backend = "example"
    print("settings.backend =", repr(settings.backend), "(stored as the canonical name)")
    print("mean(DATA) =", mean(DATA))

    step("Fallback: the backend has no 'standardize', so the host's code runs")
    print("standardize([1, 2, 3]) =", standardize([1.0, 2.0, 3.0]))
    del settings.backend  # forget the choice ("cpu" would also turn type-based selection off)


def by_type() -> None:
    """Let the types of the arguments choose; a priority list; backends that decline."""
    step("Automatic: a ChunkedArray goes to the backend that owns its type, 'chunked'")
    chunks = ChunkedArray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], chunk_size=4)
    print("mean(chunks) =", mean(chunks), "  with nobody naming a backend")
    print(explain(mean, chunks))
    print("mean(DATA) =", mean(DATA), "  (a list: no backend owns it, the host's code runs)")

    step("Priorities: settings.backend = ['chunked', 'example_accel'], with turnout's DEBUG log")
    settings.backend = ["chunked", "example_accel"]
    print("mean(chunks) =", mean(chunks), "  (chunked)")
    log = logging.getLogger("turnout")
    log.setLevel(logging.DEBUG)
    result = mean(DATA)
    print("mean(DATA) =", result, "  (chunked declined a list: example_accel ran)")
    result = moving_average(chunks, window=6)
    print("moving_average(chunks, window=6) =", result, "  (chunked declined: example_accel ran)")
    log.setLevel(logging.WARNING)
    print(explain(mean, DATA))
    del settings.backend


def best_of(repeats: int, call: Callable[[], list[float]]) -> tuple[float, list[float]]:
    """Return the shortest time of `repeats` calls (time.perf_counter), and the result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return min(times), result


def why_not(label: str, package: str) -> str | None:
    """Return why a backend cannot be selected here (what a user is told), or None."""
    try:
        with settings.use_backend(label):  # entering the scope loads the backend
            return None
    except turnout.BackendLoadError as error:  # installed, but it raised while loading
        return error.error
    except turnout.UnknownBackendError:  # not installed, and the host does not know it
        return f"{package} is not installed: pip install {package}"
    except turnout.TurnoutError as error:  # e.g. one the host trusts, not installed
        return str(error)


def vectorized(size: int = 200_000, window: int = 300, repeats: int = 3) -> None:
    """Backends that are really faster: NumPy on the CPU, CuPy where there is a GPU."""
    step("Faster: backend='numpy' (whole arrays) against the host's own code")
    try:
        import example_host_numpy  # noqa: PLC0415, F401 - optional
    except ImportError:
        print("example-host-numpy is not installed: pip install example-host-numpy; step skipped")
        return
    draw = random.Random(0).uniform  # noqa: S311 - sample data, not a secret
    values = [draw(0.0, 1000.0) for _ in range(size)]
    calls = {  # name: (call, the size of the inputs in the result's units, for `agrees`)
        "moving_average": (partial(moving_average, values, window), max(map(abs, values))),
        "standardize": (partial(standardize, values), 1.0),
    }
    print(f"{size:,} values, window {window}; times are the best of {repeats} runs")
    on_cpu = {name: best_of(repeats, call) for name, (call, _) in calls.items()}
    race("numpy", "example-host-numpy", calls, on_cpu, repeats)
    step("On a GPU: backend='cupy' (alias 'gpu'), the same code on CuPy arrays")
    race("cupy", "example-host-cupy", calls, on_cpu, repeats)


def race(
    label: str,
    package: str,
    calls: dict[str, tuple[Callable[..., list[float]], float]],
    on_cpu: dict[str, tuple[float, list[float]]],
    repeats: int,
) -> None:
    """Time a backend on `calls` and compare it with the host's times and results."""
    from example_host_numpy import agrees  # noqa: PLC0415 - optional

    reason = why_not(label, package)
    if reason is not None:
        print(f"skipped: {reason}")
        return
    agree = True
    for name, (call, scale) in calls.items():
        cpu_time, expected = on_cpu[name]
        taken, result = best_of(repeats, partial(call, backend=label))
        agree = agree and agrees(result, expected, scale)
        worst = max(abs(a - b) / max(abs(b), scale) for a, b in zip(result, expected, strict=True))
        print(
            f"{name}: cpu {cpu_time:.4f} s, {label} {taken:.4f} s: "
            f"{cpu_time / taken:.1f}x faster; max relative difference {worst:.1e}"
        )
        print(f"  cpu   {preview(expected)}")
        print(f"  {label:<5} {preview(result)}")
    print(f"{label} agrees with cpu (example_host_numpy.agrees, rel_tol 1e-9): {agree}")


def preview(numbers: list[float]) -> str:
    """The first three numbers and how many there are."""
    return f"[{', '.join(f'{x:.6g}' for x in numbers[:3])}, ...] ({len(numbers):,} values)"


def on_a_cluster() -> None:
    """A distributed backend, and the choice carried to every worker of a Dask cluster."""
    step("Distributed: backend='dask' runs moving_average on a local Dask cluster")
    try:
        from dask.distributed import Client, LocalCluster  # noqa: PLC0415 - optional
    except ImportError:
        print('dask[distributed] is not installed: pip install "dask[distributed]"; step skipped')
        return
    import turnout.dask  # noqa: PLC0415 - needs dask

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        moving_average([1.0, 2.0, 3.0], 2, backend="dask")  # the workers import example_host
        for size, window in ((2_000, 10), (200_000, 300)):
            values = [float(i * 7919 % 1000) for i in range(size)]
            start = time.perf_counter()
            on_cpu = moving_average(values, window)
            middle = time.perf_counter()
            on_dask = moving_average(values, window, backend="dask")
            end = time.perf_counter()
            print(
                f"{size:>7,} values, window {window:>3}: cpu {middle - start:.3f} s, "
                f"dask {end - middle:.3f} s, same result: {on_cpu == on_dask}"
            )
        with settings.use_backend(["dask", "example_accel"]):
            print(explain(moving_average, [1.0, 2.0, 3.0], 2))

        print("a use_backend scope does not reach the workers' threads; the plugin does:")
        print("  on the workers, mean(DATA) =", client.submit(mean, DATA, pure=False).result())
        with settings.use_backend("example_accel"):
            turnout.dask.register(client)  # applies this scope's choice on every worker
        backends = set(client.run(lambda: example_host.settings.backend).values())
        print("  after turnout.dask.register, the workers' settings.backend:", backends)
        print("  on the workers, mean(DATA) =", client.submit(mean, DATA, pure=False).result())


def traced() -> None:
    """Record what each call did, and why."""
    step("Tracing: with settings.trace() as calls")
    chunks = ChunkedArray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], chunk_size=4)
    with settings.trace() as calls:
        mean(DATA, backend="example_accel")
        mean(chunks)
        with settings.use_backend(["chunked", "example_accel"]):
            mean(DATA)
        standardize([1.0, 2.0, 3.0], backend="accel")
    for call in calls:
        print(" ", call.line())


def compatibility_matrix() -> None:
    """Run the host's own tests on every installed backend, in one pytest session."""
    step("The host's tests on every backend: pytest --turnout-backend=all --turnout-matrix")
    suite = Path(__file__).parent / "example_host" / "tests" / "test_example_host.py"
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(suite, folder)  # run apart from any project's pytest configuration
        matrix = Path(folder) / "matrix.md"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--turnout-backend=all",
            "--turnout-allow-unused",
            f"--turnout-matrix={matrix}",
        ]
        sys.stdout.flush()  # what this process printed goes out before another one starts
        status = subprocess.run(command, cwd=folder, capture_output=True, check=False).returncode
        text = matrix.read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| function"))
    print("\n".join(lines[start : lines.index("", start)]))  # the function x backend table
    missing = text.partition("## Backends that did not run\n\n")[2].partition("\n\n")[0]
    if missing:
        print("did not run:", missing.removeprefix("- ")[:120] + "...")
    print(f"(pytest exit status {status}: 4 when a backend fails to load, as cupy does here)")


def errors_and_report() -> None:
    """What a mistake looks like, and the host's view of what is installed."""
    step("Errors say what is wrong and what to do")
    for label in ("acel", "cuda"):
        try:
            mean(DATA, backend=label)
        except turnout.TurnoutError as error:
            print(f"{type(error).__name__}: {error}")

    step("What is installed, as the host sees it: python -m turnout --host example_host")
    command = [sys.executable, "-m", "turnout", "--host", "example_host"]
    sys.stdout.flush()  # another process writes the table: what this one printed goes first
    status = subprocess.run(command, check=False).returncode
    if status:  # it exits 1 when a backend failed to load, as cupy does without CuPy or a GPU
        print(f"(exit status {status}: a backend above failed to load; its error says why)")


def main() -> None:
    # A backend the host trusts loads silently; an untrusted one would warn once.
    warnings.simplefilter("always", turnout.TurnoutWarning)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  turnout log: %(message)s"))
    logging.getLogger("turnout").addHandler(handler)
    by_name()
    by_type()
    traced()
    vectorized()
    on_a_cluster()
    compatibility_matrix()
    errors_and_report()


if __name__ == "__main__":
    main()
