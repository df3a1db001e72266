"""The pytest hook turnout's plugin adds: a suite's own judge of agreeing results."""

from __future__ import annotations

import pytest


@pytest.hookspec(firstresult=True)
def pytest_turnout_compare(
    function: str, backend: str, result: object, expected: object
) -> bool | str | None:
    """Say whether a backend's result agrees with the host's (``--turnout-compare``).

    Define it in a ``conftest.py`` (or a plugin) of the suite. The first
    implementation that answers something other than None decides; None
    leaves it to the backend's ``turnout_compare``, then to
    `turnout.testing.compare_results`.

    Parameters
    ----------
    function
        The public name of the dispatched function (``example_host.mean``).
    backend
        The canonical name of the backend that ran it.
    result
        What the backend returned.
    expected
        What the host's code returned for the same call.

    Returns
    -------
    bool or str or None
        True: they agree. False, or a sentence saying where they differ: the
        test that made the call fails. None: no opinion.
    """
