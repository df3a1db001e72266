"""example-host-numpy: example_host's statistics as whole-array NumPy operations.

The ``numpy`` backend (alias ``vectorized``) converts the values to one float64
array, computes there, and returns what example_host returns: a Python `float`,
or a `list` of them.

Accuracy: results agree with example_host's own, element by element, within
``REL_TOL = 1e-9``, as `agrees` checks: ``math.isclose(ours, host,
rel_tol=1e-9, abs_tol=1e-9 * scale)``. `scale` is the size of the inputs in
the result's units: ``max(abs(values))`` for `mean` and `moving_average`, 1 for
`standardize` (its results are in standard deviations), 0 for `variance`
(squares do not cancel). So a result that cancels to near zero (a window of
values of both signs, a value next to the mean), where two sums of the same
numbers in different orders differ in the last digits of the inputs, not of
the result, is compared in the inputs' units. The host's plain loop keeps these
nine digits for sums of up to millions of values and, in `standardize`, for a
mean up to about a million standard deviations from zero; beyond that neither
result has them (example-host-accel's `math.fsum` does).

Sums here are NumPy's pairwise sums (squares: one dot product), at least as
accurate as the host's loop. `moving_average` takes each window's sum from
cumulative sums restarted every `window` values, so its rounding error stays
that of a `window`-long sum instead of growing with the position in the data,
as it would with one running total over all of it (2,000,000 values near 1e6,
window 3: 2e-16 relative, as the host's loop; one running total: 1e-10).

The ``cupy`` backend (package example-host-cupy) runs this same code on a
CUDA GPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["REL_TOL", "NumpyBackend", "agrees"]

REL_TOL = 1e-9
"""The relative tolerance within which results agree with example_host's own."""


def agrees(
    ours: float | Sequence[float], host: float | Sequence[float], scale: float = 0.0
) -> bool:
    """Return whether a result agrees with the host's within the documented tolerance.

    Parameters
    ----------
    ours, host
        The two results: floats, or sequences of floats.
    scale
        The size of the inputs in the results' units (see the module's docstring).
    """

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL * scale)

    if isinstance(ours, Sequence) and isinstance(host, Sequence):
        return len(ours) == len(host) and all(map(close, ours, host))
    if isinstance(ours, Sequence) or isinstance(host, Sequence):
        return False
    return close(ours, host)


class NumpyBackend:
    """The backend object the ``numpy`` entry point names; turnout instantiates it once.

    Every method works on any array module with NumPy's interface: the ``cupy``
    backend is this class with `cupy` in place of `numpy`.
    """

    name = "numpy"
    aliases = ("vectorized",)
    host_versions = ">=0.1,<1"

    _xp: Any = np  # the array module the methods compute with

    def _array(self, values: Sequence[float]) -> Any:
        return self._xp.asarray(values, dtype=self._xp.float64)

    def mean(self, values: Sequence[float]) -> float:
        """Return the arithmetic mean (pairwise sum)."""
        data = self._array(values)
        return float(data.sum()) / len(data)  # ZeroDivisionError when empty, as the host's

    def variance(self, values: Sequence[float], ddof: int = 0) -> float:
        """Return the variance: the mean's squared deviations, summed in one dot product."""
        data = self._array(values)
        deviations = data - float(data.sum()) / len(data)
        return float(deviations @ deviations) / (len(data) - ddof)

    def moving_average(self, values: Sequence[float], window: int = 3) -> list[float]:
        """Return the mean of each run of `window` consecutive values, in O(len(values)).

        The values are laid out in rows of `window` (the last padded with
        zeros). The window starting at column ``j`` of row ``k`` holds the end of
        row ``k`` from ``j`` on and the start of row ``k + 1`` before ``j``: the
        row's total minus its prefix sum at ``j``, plus the next row's prefix sum
        at ``j``. No sum runs longer than a row, so each window's rounding
        error stays that of a few `window`-long sums, wherever it lies.

        Raises
        ------
        NotImplementedError
            When `window` is below 1: turnout then runs the host's code, which
            decides what that means.
        """
        if window < 1:
            raise NotImplementedError(f"window must be at least 1, got {window}")
        xp = self._xp
        data = self._array(values)
        size = len(data)
        count = size - window + 1
        if count <= 0:
            return []
        rows = size // window + 1
        grid = xp.zeros(rows * window, dtype=xp.float64)
        grid[:size] = data
        grid = grid.reshape(rows, window)
        inclusive = xp.cumsum(grid, axis=1)
        before = xp.zeros_like(grid)  # the sum of the values before each column, per row
        before[:, 1:] = inclusive[:, :-1]
        sums = (inclusive[:-1, -1:] - before[:-1]) + before[1:]
        means: list[float] = (sums.reshape(-1)[:count] / window).tolist()
        return means

    def standardize(self, values: Sequence[float]) -> list[float]:
        """Return the values shifted to mean 0 and scaled to variance 1."""
        data = self._array(values)
        deviations = data - float(data.sum()) / len(data)
        spread = (float(deviations @ deviations) / len(data)) ** 0.5
        if spread == 0.0:
            raise ZeroDivisionError("float division by zero: all values are equal")
        standardized: list[float] = (deviations / spread).tolist()
        return standardized
