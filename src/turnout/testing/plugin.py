"""turnout's pytest plugin: inert unless asked for.

Installed with turnout (entry point ``pytest11``, name ``turnout``). In a session
that passes none of its options it registers nothing but the options and the
``pytest_turnout_compare`` hook:

``--turnout-backend=NAME``
    Run the whole suite with backend ``NAME`` selected in every host that has it
    (as ``<HOST>_BACKEND=NAME`` would; a host without it runs its own code), and
    report at the end which dispatched functions ran on it, fell back to the
    host's code, or were declined, and why. The session fails when ``NAME``
    cannot be selected in the hosts the suite imports, or fails to load in one
    of them (exit status 4, a usage error), and when it ran no call at all
    (exit status 1).
``--turnout-backend=all``
    Run each test once with no backend selected (``cpu``) and once per backend
    installed for the hosts the suite imports, ids ``test_x[turnout:NAME]``,
    and report which backend ran which function, and what failed. A suite
    whose hosts have no backend is a usage error (4); a backend that failed
    to load has its tests skipped and fails the session (4).
``--turnout-matrix=PATH``
    With ``--turnout-backend=all``: write the compatibility matrix, as JSON
    (``.json``) or Markdown (``.md``); give it twice for both. A file that
    cannot be written is a usage error (4).
``--turnout-allow-unused``
    A backend that ran no call does not fail the session.
``--turnout-xfail-missing``
    A test that calls a dispatched function the backend does not implement
    ends there, as an expected failure, instead of passing on the host's code.
``--turnout-compare``
    Run the host's code again for each call the backend ran; a result that
    disagrees fails the test that made the call.
``--turnout-fixtures``
    Provide the ``turnout_conformance`` fixture (also: ``-p turnout.testing.fixtures``).

A backend may declare ``known_failures`` (test-id patterns) and
``on_start_tests(items)``, applied after collection; see :doc:`/backend-ci`.
"""

from __future__ import annotations

import pytest

_NEED_BACKEND = ("turnout_allow_unused", "turnout_xfail_missing", "turnout_compare")
_ALL = "all"  # every backend installed: --turnout-backend=all
_MATRIX_SUFFIXES = (".json", ".md")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the plugin's options (the only thing it does unless one is given)."""
    group = parser.getgroup("turnout", "turnout backends")
    group.addoption(
        "--turnout-backend",
        metavar="NAME",
        default=None,
        help="run the suite with this backend selected in every host that has it, and "
        "report which functions ran on it, fell back or were declined; 'all': run each "
        "test on the host's code and on every installed backend",
    )
    group.addoption(
        "--turnout-matrix",
        metavar="PATH",
        action="append",
        default=[],
        help="with --turnout-backend=all: write the compatibility matrix to PATH, as JSON "
        "(.json) or Markdown (.md); may be given twice",
    )
    group.addoption(
        "--turnout-allow-unused",
        action="store_true",
        default=False,
        help="with --turnout-backend: do not fail the session when the backend ran no call",
    )
    group.addoption(
        "--turnout-xfail-missing",
        action="store_true",
        default=False,
        help="with --turnout-backend: end a test that calls a function the backend does "
        "not implement as an expected failure",
    )
    group.addoption(
        "--turnout-compare",
        action="store_true",
        default=False,
        help="with --turnout-backend: run the host's code again for each call the backend "
        "ran, and fail the test when the results disagree",
    )
    group.addoption(
        "--turnout-fixtures",
        action="store_true",
        default=False,
        help="provide the turnout_conformance fixture",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Declare ``pytest_turnout_compare``, which a suite's conftest may implement."""
    from turnout.testing import _hookspec  # noqa: PLC0415 - pytest asks once

    pluginmanager.add_hookspecs(_hookspec)


def pytest_configure(config: pytest.Config) -> None:
    """Activate what the options ask for, and nothing else."""
    if config.getoption("turnout_fixtures"):
        config.pluginmanager.import_plugin("turnout.testing.fixtures")
    name = config.getoption("turnout_backend")
    paths = config.getoption("turnout_matrix")
    if paths and name != _ALL:
        raise pytest.UsageError("--turnout-matrix: give --turnout-backend=all too")
    wrong = [path for path in paths if not path.lower().endswith(_MATRIX_SUFFIXES)]
    if wrong:
        shown = ", ".join(wrong)
        raise pytest.UsageError(f"--turnout-matrix={shown}: name a .json or a .md file")
    if name == _ALL:
        from turnout.testing._matrix import MatrixSession  # noqa: PLC0415 - only when asked

        config.pluginmanager.register(MatrixSession(config), "turnout-backend-session")
        return
    if name:
        from turnout.testing._session import BackendSession  # noqa: PLC0415 - only when asked

        config.pluginmanager.register(BackendSession(config, name), "turnout-backend-session")
        return
    given = [option for option in _NEED_BACKEND if config.getoption(option)]
    if given:
        shown = ", ".join("--" + option.replace("_", "-") for option in given)
        raise pytest.UsageError(f"{shown}: give the backend too, with --turnout-backend=NAME")
