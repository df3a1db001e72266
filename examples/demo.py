"""A walk through turnout as an end user sees it.

Run it with ``python3 dev.py demo``: that installs turnout, ``example_host`` and
its backend ``example-host-accel`` into a fresh virtual environment, and runs
this script there, so the backend is found through its real entry point.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings

import example_host
from example_host import RunningStats, mean, moving_average, settings, standardize

import turnout

DATA = [1e16, 1.0, -1e16, 2.0, 3.0, 4.0]


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    # A backend the host trusts loads silently; an untrusted one would warn once.
    warnings.simplefilter("always", turnout.TurnoutWarning)

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
    settings.backend = "cpu"

    step("Errors say what is wrong and what to do")
    for label in ("acel", "cuda"):
        try:
            mean(DATA, backend=label)
        except turnout.TurnoutError as error:
            print(f"{type(error).__name__}: {error}")

    step("What is installed, as the host sees it: python -m turnout --host example_host")
    subprocess.run([sys.executable, "-m", "turnout", "--host", "example_host"], check=True)


if __name__ == "__main__":
    main()
