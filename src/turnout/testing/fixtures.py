"""The ``turnout_conformance`` fixture for a backend's test suite.

Enable it with ``pytest --turnout-fixtures``, ``-p turnout.testing.fixtures``, or
``pytest_plugins = ["turnout.testing.fixtures"]`` in a ``conftest.py``::

    def test_my_backend_conforms(turnout_conformance):
        import example_host
        from example_host_accel import AccelBackend

        turnout_conformance(example_host._backends._dispatcher, AccelBackend)

.. versionadded:: 0.1
"""

from __future__ import annotations

import pytest

from turnout.testing._check import Checker, assert_conformance


@pytest.fixture
def turnout_conformance() -> Checker:
    """Return `turnout.testing.assert_conformance`: fails listing every finding."""
    return assert_conformance
