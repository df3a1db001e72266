"""Startup at scale: the entry-point scan and a first backend call among many distributions.

For 1, 500 and 5,000 installed distributions (100 of them, or all if fewer,
providing the group; every third of the others has a ``console_scripts``
entry point), each figure is the minimum over fresh processes of:

- ``importlib.metadata``: ``entry_points(group=...)``, without and with the
  import of `importlib.metadata` itself;
- ``turnout scan``: ``turnout._entrypoints.entry_points(group)``, cold (no cache
  file) and warm (the cache filled by an earlier process);
- ``first call``: a dispatched function's first call with ``backend=``, cold
  and warm (discovery, trust, the selected backend's import, the plan).

Run it with turnout importable (``PYTHONPATH=src python benchmarks/bench_startup.py``);
``--sizes 500`` limits the sizes, ``--runs`` sets the number of processes per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import turnout

GROUP = "bench_startup.backends"

SCAN = """
import json, time
import turnout._entrypoints as m
t0 = time.perf_counter()
found = m.entry_points({group!r})
t1 = time.perf_counter()
print(json.dumps({{"ms": 1e3 * (t1 - t0), "found": len(found)}}))
"""

IMPORTLIB = """
import json, time
t0 = time.perf_counter()
import importlib.metadata
t1 = time.perf_counter()
found = importlib.metadata.entry_points(group={group!r})
t2 = time.perf_counter()
print(json.dumps({{"ms": 1e3 * (t2 - {start}), "found": len(found)}}))
"""

FIRST_CALL = """
import json, time
import turnout
d = turnout.BackendDispatcher(
    entrypoint_group={group!r},
    host_name="bench_host",
    trusted_backends={{"b{pick}": {{"package": "bench-backend-{pick}"}}}},
)
@d.backend_dispatch
def add(a, b):
    return a + b
t0 = time.perf_counter()
assert add(1, 2, backend="b{pick}") == ("b{pick}", 3)
t1 = time.perf_counter()
print(json.dumps({{"ms": 1e3 * (t1 - t0), "found": 1}}))
"""


def build(root: Path, total: int, providers: int) -> None:
    """Write `total` distributions into `root`, `providers` of them in `GROUP`."""
    root.mkdir(parents=True)
    for i in range(total):
        provides = i < providers
        name = f"bench_backend_{i}" if provides else f"unrelated_{i}"
        info = root / f"{name}-1.0.dist-info"
        info.mkdir()
        dist = name.replace("_", "-")
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        if provides:
            (info / "entry_points.txt").write_text(f"[{GROUP}]\nb{i} = {name}:Backend\n")
            (root / f"{name}.py").write_text(
                f"class Backend:\n    name = 'b{i}'\n"
                f"    def add(self, a, b):\n        return ('b{i}', a + b)\n"
            )
        elif i % 3 == 0:
            (info / "entry_points.txt").write_text(f"[console_scripts]\nt{i} = {name}:main\n")
        (info / "RECORD").write_text("")


def measure(code: str, env: dict[str, str], runs: int, *, cold: Path | None = None) -> float:
    """Return the best of `runs` fresh processes (ms).

    `cold` is the cache folder, emptied before each process; otherwise one
    process runs first, unmeasured, to fill it.
    """
    best = float("inf")
    if cold is None:
        subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)
    for _ in range(runs):
        if cold is not None:
            shutil.rmtree(cold, ignore_errors=True)
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        best = min(best, json.loads(result.stdout)["ms"])
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 500, 5000])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    source = str(Path(turnout.__file__).resolve().parent.parent)
    print(f"Python {platform.python_version()} on {platform.machine()} {platform.system()}")
    print(f"turnout from {source}; best of {options.runs} fresh processes, ms")
    columns = ["dists", "importlib", "+ import", "scan cold", "scan warm", "call cold", "call warm"]
    print("".join(f"{c:>11}" for c in columns))
    warm: dict[int, float] = {}
    for total in options.sizes:
        providers = min(total, 100)
        with tempfile.TemporaryDirectory() as tmp:
            site, cache = Path(tmp) / "site", Path(tmp) / "cache"
            build(site, total, providers)
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(site), source]),
                "TURNOUT_CACHE_DIR": str(cache),
            }
            env.pop("TURNOUT_NO_CACHE", None)
            scan = SCAN.format(group=GROUP)
            call = FIRST_CALL.format(group=GROUP, pick=providers // 2)
            figures = [
                measure(IMPORTLIB.format(group=GROUP, start="t1"), env, options.runs),
                measure(IMPORTLIB.format(group=GROUP, start="t0"), env, options.runs),
                measure(scan, env, options.runs, cold=cache),
                measure(scan, env, options.runs),
                measure(call, env, options.runs, cold=cache),
                measure(call, env, options.runs),
            ]
        print(f"{total:>11}" + "".join(f"{f:>11.2f}" for f in figures), flush=True)
        warm[total] = figures[-1]
    if 5000 in warm:
        mark = "met" if warm[5000] < 10.0 else "MISSED"
        print(f"target: first call, 5,000 distributions, warm {warm[5000]:.2f} ms < 10 ms {mark}")


if __name__ == "__main__":
    main()
