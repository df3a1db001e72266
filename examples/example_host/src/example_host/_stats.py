"""Plain-Python statistics: the host's own ("cpu") implementations."""

from __future__ import annotations

from collections.abc import Sequence

from example_host._backends import backend_class, backend_dispatch


def _mean(values: Sequence[float]) -> float:
    # The host's own mean, for its other functions: the code `mean` runs on "cpu".
    # (Calling `mean(values, backend="cpu")` here works too, but this package's own
    # type check reads this module, not the stubs that add `backend=`.)
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


@backend_dispatch
def mean(values: Sequence[float]) -> float:
    """Return the arithmetic mean.

    Parameters
    ----------
    values
        The numbers to average; at least one.

    Returns
    -------
    float
        Their mean.
    """
    return _mean(values)


@backend_dispatch
def variance(values: Sequence[float], ddof: int = 0) -> float:
    """Return the variance.

    Parameters
    ----------
    values
        The numbers.
    ddof
        Delta degrees of freedom: the divisor is ``len(values) - ddof``.

    Returns
    -------
    float
        Their variance.
    """
    centre = _mean(values)
    total = 0.0
    for value in values:
        total += (value - centre) ** 2
    return total / (len(values) - ddof)


@backend_dispatch
def moving_average(values: Sequence[float], window: int = 3) -> list[float]:
    """Return the mean of each run of `window` consecutive values.

    Parameters
    ----------
    values
        The numbers.
    window
        How many values each mean covers.

    Returns
    -------
    list of float
        ``len(values) - window + 1`` means.
    """
    return [_mean(values[start : start + window]) for start in range(len(values) - window + 1)]


@backend_dispatch
def standardize(values: Sequence[float]) -> list[float]:
    """Return the values shifted to mean 0 and scaled to variance 1.

    Parameters
    ----------
    values
        The numbers; not all equal.

    Returns
    -------
    list of float
        The standardized values.
    """
    centre = mean(values)
    spread = variance(values) ** 0.5
    return [(value - centre) / spread for value in values]


@backend_class
class RunningStats:
    """Accumulate values and report their count and mean.

    Parameters
    ----------
    start
        Values to begin with.
    """

    implementation = "cpu"

    def __init__(self, start: Sequence[float] = ()) -> None:
        self.values: list[float] = list(start)

    def push(self, value: float) -> None:
        """Add one value."""
        self.values.append(value)

    @property
    def mean(self) -> float:
        """The mean of the values so far."""
        return _mean(self.values)
