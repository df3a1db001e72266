"""Tests of ``--turnout-backend=all``: each one once per backend, known by its own id too.

Each test function is parametrized over the backends with the autouse fixture
`FIXTURE` (id ``turnout:NAME``), so ``test_mean`` runs as
``test_mean[turnout:cpu]``, ``test_mean[turnout:gpu]``, ... and
``test_mean[int]`` as ``test_mean[int-turnout:gpu]``. The matrix and a
backend's known failures speak of the test by its own id, without that part.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pytest only under the plugin: `turnout.testing` works without it
    import pytest

FIXTURE = "turnout_backend"  # the autouse fixture parametrized over the backends
TAG = "turnout:"


def column_of(item: pytest.Item) -> str | None:
    """Return the backend a test runs on under ``--turnout-backend=all`` (None: not repeated)."""
    callspec = getattr(item, "callspec", None)
    column = None if callspec is None else callspec.params.get(FIXTURE)
    return column if isinstance(column, str) else None


def without_column(text: str, column: str | None) -> str:
    """Return a test's id or name without its ``turnout:NAME`` parameter id."""
    if column is None or not text.endswith("]"):
        return text
    tag = TAG + column
    for old, new in ((f"[{tag}]", ""), (f"-{tag}]", "]"), (f"[{tag}-", "["), (f"-{tag}-", "-")):
        at = text.rfind(old)
        if at != -1:
            return text[:at] + new + text[at + len(old) :]
    return text


def own_id(item: pytest.Item) -> str:
    """Return the test's node id without its backend: the same for every backend it runs on."""
    return without_column(item.nodeid, column_of(item))


def own_name(item: pytest.Item) -> str:
    """Return the test's name without its backend (``test_mean[int]``)."""
    return without_column(item.name, column_of(item))


@contextmanager
def own_names(items: Iterable[pytest.Item]) -> Iterator[None]:
    """Give each test its own name for a while (node ids keep the backend).

    A backend's ``on_start_tests(items)`` often compares ``item.name`` with
    the names of tests it knows (as for NetworkX), written for a run on one
    backend; under ``--turnout-backend=all`` it gets the tests of its own
    column under those names, and the marks it adds stay on them.
    """
    renamed = [(item, item.name) for item in items if column_of(item) is not None]
    for item, _ in renamed:
        item.name = own_name(item)
    try:
        yield
    finally:
        for item, name in renamed:
            item.name = name
