"""Sphinx extension: ``.. turnout-support-matrix::`` renders which backend implements what.

Add ``"turnout.sphinxext"`` to ``extensions`` in ``conf.py``, then write::

    .. turnout-support-matrix:: example_host

The argument is the host's module, whose import creates its dispatcher (as for
`turnout.processes.dispatcher_for`), or the dispatcher itself as
``module:attribute``. Rows are the host's dispatched functions and classes,
columns the installed backends; a cell lists the backend-only parameters that
backend adds and its note. The directive imports every backend; with the
``:no-import:`` flag it imports none, and a backend not imported is shown as its
``turnout-backend.json`` declares it.

``.. turnout-compatibility:: data/matrix.json`` renders what the host's own
tests found on each backend (ran, fell back, declined, failed), from the JSON
``pytest --turnout-backend=all --turnout-matrix=docs/data/matrix.json`` writes;
the ``:tests:`` flag adds a table of the tests whose outcome differs between backends.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

from turnout._dispatcher import BackendDispatcher
from turnout._errors import HostNotFoundError
from turnout.processes import dispatcher_for


def load_dispatcher(reference: str) -> BackendDispatcher:
    """Return the dispatcher of a host module, or import ``module:attribute`` and check it."""
    module_name, sep, attribute = reference.partition(":")
    if not sep:
        try:
            return dispatcher_for(reference)
        except HostNotFoundError:  # ``module.attribute``, as before
            module_name, _, attribute = reference.rpartition(".")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not isinstance(target, BackendDispatcher):
        msg = f"{reference} is a {type(target).__name__}, not a turnout.BackendDispatcher"
        raise TypeError(msg)
    return target


def matrix_rows(dispatcher: BackendDispatcher, *, load: bool = True) -> list[list[str]]:
    """Return the table as rows of cell text (reST), header first.

    With `load` false nothing is imported: a backend not imported yet is
    described by its ``turnout-backend.json``. A cell lists the parameters the
    backend adds, then its note (``extra_docstring``) on the lines below.
    """
    if not load:
        dispatcher.discover(import_backends=False)
    support = dispatcher.support(load=load)
    notes = dispatcher._support_notes(load=load)  # noqa: SLF001 - turnout's own extension
    backends = sorted({name for cells in support.values() for name in cells})
    rows = [["", *(f"``{name}``" for name in backends)]]
    for qualified, cells in support.items():
        row = [f"``{qualified}``"]
        for name in backends:
            added = cells.get(name)
            if added is None:
                row.append("host's code")
                continue
            cell = "yes, adds " + ", ".join(f"``{param}``" for param in added) if added else "yes"
            note = notes.get(qualified, {}).get(name)
            if note:
                cell += "\n\n" + inspect.cleandoc(note)
            row.append(cell)
        rows.append(row)
    return rows


class SupportMatrix(Directive):
    """The ``turnout-support-matrix`` directive (``:no-import:`` imports no backend)."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"no-import": directives.flag}

    def run(self) -> list[nodes.Node]:
        """Build the table from the named dispatcher."""
        load = "no-import" not in self.options
        try:
            rows = matrix_rows(load_dispatcher(self.arguments[0]), load=load)
        except (ImportError, AttributeError, TypeError) as error:
            raise self.error(f"turnout-support-matrix: {error}") from error
        lines = [".. list-table::", "   :header-rows: 1", ""]
        for row in rows:
            lines.append(f"   * - {row[0] or ' '}")
            for cell in row[1:]:
                first, *rest = cell.splitlines()
                lines.append(f"     - {first}")
                lines.extend(f"       {line}" if line else "" for line in rest)
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="turnout-support-matrix"), 0, container)
        return list(container.children)


def setup(app: Any) -> dict[str, Any]:
    """Register the directives with Sphinx.

    ``turnout-support-matrix`` (which backend implements what, from the
    host) and ``turnout-compatibility`` (what the host's tests found, from the
    JSON ``pytest --turnout-backend=all --turnout-matrix=PATH.json`` writes).
    """
    from turnout._compatibility import compatibility_directive  # noqa: PLC0415 - docutils

    app.add_directive("turnout-support-matrix", SupportMatrix)
    app.add_directive("turnout-compatibility", compatibility_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "0.1"}
