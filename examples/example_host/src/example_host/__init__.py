"""example_host: a tiny statistics library whose functions backends can replace."""

from example_host._backends import (
    available_backend_names,
    discover,
    get_backend,
    settings,
)
from example_host._stats import (
    RunningStats,
    mean,
    moving_average,
    standardize,
    variance,
)

__all__ = [
    "RunningStats",
    "available_backend_names",
    "discover",
    "get_backend",
    "mean",
    "moving_average",
    "settings",
    "standardize",
    "variance",
]
