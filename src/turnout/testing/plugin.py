"""turnout's pytest plugin: inert unless asked for.

Installed with turnout (entry point ``pytest11``, name ``turnout``). In a session
that passes none of its options it registers nothing but the options:

``--turnout-backend=NAME``
    Run the whole suite with backend ``NAME`` selected in every host that has it
    (as ``<HOST>_BACKEND=NAME`` would; a host without it runs its own code), and
    report at the end which dispatched functions ran on it, fell back to the
    host's code, or were declined, and why.
``--turnout-fixtures``
    Provide the ``turnout_conformance`` fixture (also: ``-p turnout.testing.fixtures``).

.. versionadded:: 0.1
"""

from __future__ import annotations

import pytest  # noqa: TC002 - pytest resolves the hooks' annotations


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the plugin's options (the only thing it does unless one is given)."""
    group = parser.getgroup("turnout", "turnout backends")
    group.addoption(
        "--turnout-backend",
        metavar="NAME",
        default=None,
        help="run the suite with this backend selected in every host that has it, and "
        "report which functions ran on it, fell back or were declined",
    )
    group.addoption(
        "--turnout-fixtures",
        action="store_true",
        default=False,
        help="provide the turnout_conformance fixture",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Activate what the options ask for, and nothing else."""
    if config.getoption("turnout_fixtures"):
        config.pluginmanager.import_plugin("turnout.testing.fixtures")
    name = config.getoption("turnout_backend")
    if name:
        from turnout.testing._session import BackendSession  # noqa: PLC0415 - only when asked

        config.pluginmanager.register(BackendSession(name), "turnout-backend-session")
