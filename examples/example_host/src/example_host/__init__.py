"""example_host: a tiny statistics library whose functions backends can replace."""

from example_host._backends import (
    available_backend_names,
    bind,
    discover,
    explain,
    get_backend,
    report,
    settings,
)
from example_host._stats import (
    RunningStats,
    mean,
    moving_average,
    standardize,
    variance,
)

__version__ = "0.1.0"
__all__ = [
    "RunningStats",
    "available_backend_names",
    "bind",
    "discover",
    "explain",
    "get_backend",
    "mean",
    "moving_average",
    "report",
    "settings",
    "standardize",
    "variance",
]
