"""Checked by mypy and pyright, never run: a typed host's functions take `backend=`.

`example_host`'s wheel ships `example_host-stubs/`, the stub-only package
`python -m turnout stubs example_host` writes, so the selector type-checks and
every host parameter keeps its type.
"""

from __future__ import annotations

from example_host import RunningStats, mean, moving_average, variance
from typing_extensions import assert_type

values = [1.0, 2.0, 3.0]
assert_type(mean(values), float)
assert_type(mean(values, backend="example_accel"), float)
assert_type(variance(values, ddof=1, backend="cpu"), float)
assert_type(moving_average(values, 2, backend=["chunked", "example_accel"]), list[float])
assert_type(moving_average(values, backend=("dask", "cpu")), list[float])
assert_type(RunningStats(values, backend="accel"), RunningStats)
assert_type(RunningStats(values).values, list[float])

mean(values, backend=3)  # type: ignore[arg-type]
mean(["text"])  # type: ignore[list-item]
moving_average(values, window="2")  # type: ignore[arg-type]
RunningStats(values, backend=object())  # type: ignore[arg-type]
mean(values, backnd="cpu")  # type: ignore[call-arg]
