"""example-host-accel: compensated sums and running windows instead of loops."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate


class AccelBackend:
    """The backend object the entry point names; turnout instantiates it once."""

    name = "example_accel"
    aliases = ("accel",)

    def mean(self, values: Sequence[float], *, exact: bool = True) -> float:
        """Return the arithmetic mean.

        Parameters
        ----------
        values
            The numbers to average.
        exact
            Sum with :func:`math.fsum`, exactly rounded; False uses the
            builtin :func:`sum`, faster but as lossy as a plain loop.
        """
        return (math.fsum(values) if exact else sum(values)) / len(values)

    def variance(self, values: Sequence[float], ddof: int = 0) -> float:
        """Return the variance from exactly rounded sums.

        Parameters
        ----------
        values
            The numbers.
        ddof
            Delta degrees of freedom.
        """
        centre = self.mean(values)
        return math.fsum((value - centre) ** 2 for value in values) / (len(values) - ddof)

    def moving_average(self, values: Sequence[float], window: int = 3) -> list[float]:
        """Return running means in one pass over cumulative sums."""
        sums = [0.0, *accumulate(values)]
        return [(sums[end] - sums[end - window]) / window for end in range(window, len(sums))]

    # No `standardize`: example_host's own code runs for it (the fallback).

    class RunningStats:
        """Keeps a running total instead of every value."""

        implementation = "example_accel"

        def __init__(self, start: Sequence[float] = ()) -> None:
            self.count = len(start)
            self.total = math.fsum(start)

        def push(self, value: float) -> None:
            """Add one value."""
            self.count += 1
            self.total += value

        @property
        def mean(self) -> float:
            """The mean of the values so far."""
            return self.total / self.count
