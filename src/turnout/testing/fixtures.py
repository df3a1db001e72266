"""The ``turnout_conformance`` fixture for a backend's test suite.

Enable it with ``pytest --turnout-fixtures``, ``-p turnout.testing.fixtures``, or
``pytest_plugins = ["turnout.testing.fixtures"]`` in a ``conftest.py``::

    import turnout.processes

    def test_my_backend_conforms(turnout_conformance):
        from example_host_accel import AccelBackend

        host = turnout.processes.dispatcher_for("example_host")
        turnout_conformance(host, AccelBackend)  # the class, as your entry point names it
        turnout_conformance(host, "example_accel")  # what users install, by its name
"""

from __future__ import annotations

import pytest

from turnout.testing._check import Checker, assert_conformance


@pytest.fixture
def turnout_conformance() -> Checker:
    """Return `turnout.testing.assert_conformance`: fails listing every problem."""
    return assert_conformance
