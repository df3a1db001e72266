"""A compatibility matrix, function x backend, from a host's tests: data, JSON, Markdown, Sphinx.

``pytest --turnout-backend=all --turnout-matrix=PATH`` writes it; the
``turnout-compatibility`` directive renders its JSON in documentation. This
module is plain data and text: docutils is imported only by
`compatibility_directive`, and pytest never.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

FORMAT = "turnout-compatibility"  # the JSON's version field: {"turnout-compatibility": 1, ...}
VERSION = 1
CPU = "cpu"
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed")


class Cell:
    """What one backend did with one function while the host's tests ran.

    Attributes
    ----------
    implements
        Whether the backend has the function (always true for ``"cpu"``).
    ran
        Calls the backend ran; None for ``"cpu"``, whose calls are not counted.
    tests
        Tests that called the function while this backend was selected (for
        ``"cpu"``: tests that called it on any backend).
    fell_back
        ``{reason: calls}``: the host's code ran instead.
    declined
        ``{reason: calls}``: a hook or a ``NotImplementedError`` said no.
    failed
        Ids of the tests that failed while the backend ran the function (for
        ``"cpu"``: that failed on the host's code and call it).
    xfailed
        Ids of such tests that were expected failures.
    """

    __slots__ = ("declined", "failed", "fell_back", "implements", "ran", "tests", "xfailed")

    def __init__(
        self,
        *,
        implements: bool,
        ran: int | None = 0,
        tests: int = 0,
        fell_back: Mapping[str, int] | None = None,
        declined: Mapping[str, int] | None = None,
        failed: list[str] | None = None,
        xfailed: list[str] | None = None,
    ) -> None:
        self.implements = implements
        self.ran = ran
        self.tests = tests
        self.fell_back = dict(fell_back or {})
        self.declined = dict(declined or {})
        self.failed = list(failed or [])
        self.xfailed = list(xfailed or [])

    def as_dict(self) -> dict[str, Any]:
        """Return the cell as the JSON holds it."""
        return {name: getattr(self, name) for name in _CELL_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        """Read a cell of the JSON."""
        return cls(**{name: data[name] for name in _CELL_FIELDS if name in data})

    def parts(self, *, cpu: bool = False) -> list[tuple[str, bool]]:
        """Return the cell in a few words, each with whether it is a failure (shown strong)."""
        parts: list[tuple[str, bool]] = []
        if cpu:
            parts.append((f"{self.tests} test(s)" if self.tests else "not called", False))
        elif not self.implements:
            parts.append(("lacks it", False))
        for count, shown in (
            (self.ran, "ran"),
            (sum(self.declined.values()), "declined"),
            (sum(self.fell_back.values()), "fell back"),
        ):
            if count:
                parts.append((f"{shown} {count}", False))
        if self.failed:
            parts.append((f"failed {len(self.failed)}", True))
        if self.xfailed:
            parts.append((f"xfailed {len(self.xfailed)}", False))
        return parts or [("not called", False)]

    def text(self, *, cpu: bool = False) -> str:
        """Return the cell as Markdown: ``ran 3, fell back 1, **failed 1**``."""
        return ", ".join(f"**{t}**" if strong else t for t, strong in self.parts(cpu=cpu))


_CELL_FIELDS = ("implements", "ran", "tests", "fell_back", "declined", "failed", "xfailed")


class Backend:
    """A column: ``"cpu"`` (the host's code) or an installed backend.

    Attributes
    ----------
    name
        The label selected (a canonical name).
    distribution, version
        The distribution that provides it, when an entry point does.
    problem
        Why its tests did not run on it (it failed to load), or None.
    """

    __slots__ = ("distribution", "name", "problem", "version")

    def __init__(
        self,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
        problem: str | None = None,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.problem = problem

    def as_dict(self) -> dict[str, Any]:
        """Return the column as the JSON holds it."""
        return {
            name: getattr(self, name) for name in ("name", "distribution", "version", "problem")
        }

    def shown(self) -> str:
        """Return ``gpu 1.0 (plug-gpu)``, or ``cpu (the host's code)``."""
        if self.name == CPU:
            return "cpu (the host's code)"
        version = f" {self.version}" if self.version else ""
        source = f" ({self.distribution})" if self.distribution else ""
        return f"{self.name}{version}{source}"


class Matrix:
    """Which backend ran which function of the host's tests, and what failed.

    Attributes
    ----------
    hosts
        The hosts the tests imported.
    backends
        The columns: ``"cpu"`` first, then each installed backend.
    functions
        ``{public name: {backend name: Cell}}``, one row per dispatched
        function and class of the hosts.
    tests
        ``{test id: {backend name: outcome}}``: ``passed``, ``failed``,
        ``skipped``, ``xfailed`` or ``xpassed``.
    turnout_version
        The version of turnout that wrote it.
    """

    def __init__(
        self,
        hosts: list[str],
        backends: list[Backend],
        functions: dict[str, dict[str, Cell]],
        tests: dict[str, dict[str, str]],
        turnout_version: str | None = None,
    ) -> None:
        self.hosts = hosts
        self.backends = backends
        self.functions = functions
        self.tests = tests
        self.turnout_version = turnout_version

    # -- JSON -------------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        """Return the matrix as JSON-ready data, its format's version first."""
        return {
            FORMAT: VERSION,
            "turnout": self.turnout_version,
            "hosts": list(self.hosts),
            "backends": [backend.as_dict() for backend in self.backends],
            "functions": [
                {"name": name, "cells": {b: cell.as_dict() for b, cell in cells.items()}}
                for name, cells in self.functions.items()
            ],
            "tests": [{"id": test, "outcomes": dict(seen)} for test, seen in self.tests.items()],
        }

    @classmethod
    def from_json(cls, data: object) -> Matrix:
        """Read what `as_json` wrote.

        Raises
        ------
        ValueError
            It is not a compatibility matrix, or one of a later version.
        """
        if not isinstance(data, Mapping) or FORMAT not in data:
            msg = f"not a compatibility matrix: no {FORMAT!r} version field"
            raise ValueError(msg)
        if data[FORMAT] != VERSION:
            msg = (
                f"compatibility matrix version {data[FORMAT]!r}; this turnout reads "
                f"version {VERSION}: upgrade turnout"
            )
            raise ValueError(msg)
        try:
            return cls(
                hosts=list(data["hosts"]),
                backends=[Backend(**column) for column in data["backends"]],
                functions={
                    row["name"]: {b: Cell.from_dict(c) for b, c in row["cells"].items()}
                    for row in data["functions"]
                },
                tests={row["id"]: dict(row["outcomes"]) for row in data["tests"]},
                turnout_version=data.get("turnout"),
            )
        except (KeyError, TypeError) as error:
            msg = f"malformed compatibility matrix: {type(error).__name__}: {error}"
            raise ValueError(msg) from None

    @classmethod
    def read(cls, path: str | Path) -> Matrix:
        """Read a matrix from a JSON file."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def write(self, path: str | Path) -> None:
        """Write the matrix, as JSON (``.json``) or Markdown (``.md``), by the file's suffix."""
        path = Path(path)
        writer = WRITERS.get(path.suffix.lower())
        if writer is None:
            msg = f"{path}: write a matrix to a .json or a .md file"
            raise ValueError(msg)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(writer(self), encoding="utf-8")

    # -- what the text forms show --------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """The backend names, in column order."""
        return [backend.name for backend in self.backends]

    def rows(self) -> list[list[str]]:
        """Return the table as rows of Markdown cell text, the header first."""
        rows = [["function", *self.names]]
        for function, cells in self.functions.items():
            row = [function]
            for name in self.names:
                cell = cells.get(name)
                row.append("" if cell is None else cell.text(cpu=name == CPU))
            rows.append(row)
        return rows

    def cell_parts(self) -> list[list[list[tuple[str, bool]]]]:
        """Return the table as rows of cells, each cell its words (`Cell.parts`)."""
        rows = [[[(text, False)] for text in ("function", *self.names)]]
        for function, cells in self.functions.items():
            row = [[(function, False)]]
            for name in self.names:
                cell = cells.get(name)
                row.append([("", False)] if cell is None else cell.parts(cpu=name == CPU))
            rows.append(row)
        return rows

    def notes(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(function, backend, sentence)``: why the host's code ran, what failed."""
        for function, cells in self.functions.items():
            for name in self.names:
                cell = cells.get(name)
                if cell is None:
                    continue
                fell_back = dict(cell.fell_back)
                for reason, count in sorted(cell.declined.items()):
                    if fell_back.get(reason) == count:  # each declined call fell back: one line
                        del fell_back[reason]
                        yield function, name, f"declined {count} time(s), fell back: {reason}"
                    else:
                        yield function, name, f"declined {count} time(s): {reason}"
                for reason, count in sorted(fell_back.items()):
                    yield function, name, f"fell back {count} time(s): {reason}"
                for shown, tests in (("failed", cell.failed), ("expected to fail", cell.xfailed)):
                    if tests:
                        yield function, name, f"{shown}: {', '.join(tests)}"

    def uneven_tests(self) -> dict[str, dict[str, str]]:
        """Return the tests whose outcome is not the same on every backend."""
        return {test: seen for test, seen in self.tests.items() if len(set(seen.values())) > 1}

    def headline(self) -> str:
        """Return one sentence saying what ran: tests, hosts and backends."""
        backends = ", ".join(backend.shown() for backend in self.backends)
        hosts = ", ".join(self.hosts) or "no host"
        made = f"turnout {self.turnout_version}" if self.turnout_version else "turnout"
        return f"{len(self.tests)} test(s) of {hosts}, each on {backends} ({made})."


def markdown(matrix: Matrix) -> str:
    """Return the matrix as a Markdown page: the table, the reasons, the uneven tests."""
    lines = ["# Backend compatibility", "", matrix.headline(), ""]
    lines.extend(_table(matrix.rows(), code_first=True))
    lines.extend(["", _LEGEND])
    problems = [b for b in matrix.backends if b.problem]
    if problems:
        lines.extend(["", "## Backends that did not run", ""])
        lines.extend(f"- {b.name}: {_escape(b.problem or '')}" for b in problems)
    notes = list(matrix.notes())
    if notes:
        lines.extend(["", "## Why the host's code ran, and what failed", ""])
        lines.extend(f"- `{f}` on {b}: {_escape(text)}" for f, b, text in notes)
    uneven = matrix.uneven_tests()
    if uneven:
        lines.extend(["", "## Tests that did not pass alike on every backend", ""])
        rows = [["test", *matrix.names]]
        rows.extend(
            [test, *(seen.get(n, "") for n in matrix.names)] for test, seen in uneven.items()
        )
        lines.extend(_table(rows, code_first=True))
    return "\n".join(lines) + "\n"


_LEGEND = (
    "*ran*: calls the backend ran; *declined*: calls it refused (a hook or a "
    "NotImplementedError); *fell back*: calls the host's code ran instead, declined ones "
    "included (reasons below); *failed*: tests that failed while the backend ran the "
    "function; *lacks it*: the backend does not implement it. The cpu column is the "
    "suite with no backend selected: its calls are not counted, only its tests."
)


def _table(rows: list[list[str]], *, code_first: bool) -> Iterator[str]:
    header, *body = rows
    yield "| " + " | ".join(map(_escape, header)) + " |"
    yield "|" + "---|" * len(header)
    for row in body:
        first = f"`{_escape(row[0])}`" if code_first else _escape(row[0])
        yield "| " + " | ".join([first, *map(_escape, row[1:])]) + " |"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_json_text(matrix: Matrix) -> str:
    """Return the matrix as indented JSON text."""
    return json.dumps(matrix.as_json(), indent=2) + "\n"


WRITERS = {".json": as_json_text, ".md": markdown}


# -- Sphinx: ``.. turnout-compatibility:: matrix.json`` ----------------------------------------


def compatibility_directive() -> type:
    """Return the ``turnout-compatibility`` directive class (imports docutils).

    ``.. turnout-compatibility:: path/to/matrix.json`` renders the JSON that
    ``pytest --turnout-backend=all --turnout-matrix=...json`` wrote: the
    function x backend table, then why the host's code ran and what failed;
    with the ``:tests:`` flag, also the tests whose outcome differs between
    backends. A relative path is relative to the document; one starting with
    ``/``, to the documentation's source directory (as for ``literalinclude``).
    """
    from docutils.parsers.rst import Directive, directives  # noqa: PLC0415 - for docs builds only

    class CompatibilityMatrix(Directive):
        """The ``turnout-compatibility`` directive."""

        required_arguments = 1
        has_content = False
        option_spec: ClassVar = {"tests": directives.flag}

        def run(self) -> list[Any]:
            """Read the JSON and render it as tables and lists."""
            path = self._path()
            try:
                matrix = Matrix.read(path)
            except (OSError, ValueError) as error:
                raise self.error(f"turnout-compatibility: {path}: {error}") from error
            self.state.document.settings.record_dependencies.add(str(path))
            return doctree(matrix, tests="tests" in self.options)

        def _path(self) -> Path:
            argument = self.arguments[0]
            env = getattr(self.state.document.settings, "env", None)
            if env is not None:  # Sphinx: as literalinclude resolves it
                return Path(env.relfn2path(argument)[1])
            return Path(self.state.document.current_source or ".").parent / argument

    return CompatibilityMatrix


def doctree(matrix: Matrix, *, tests: bool = False) -> list[Any]:
    """Return the matrix as docutils nodes: the table, the problems and reasons, the tests."""
    from docutils import nodes  # noqa: PLC0415 - for docs builds only

    found: list[Any] = [_node_table(matrix.cell_parts()), nodes.paragraph("", matrix.headline())]
    problems = [
        [nodes.literal("", b.name), nodes.Text(f" did not run: {b.problem}")]
        for b in matrix.backends
        if b.problem
    ]
    if problems:
        found.append(_node_bullets(problems))
    notes = [
        [nodes.literal("", f), nodes.Text(" on "), nodes.literal("", b), nodes.Text(f": {text}")]
        for f, b, text in matrix.notes()
    ]
    if notes:
        found.append(nodes.paragraph("", "Why the host's code ran, and what failed:"))
        found.append(_node_bullets(notes))
    uneven = matrix.uneven_tests()
    if tests and uneven:
        rows = [[[(text, False)] for text in ("test", *matrix.names)]]
        rows.extend(
            [[(test, False)], *([(seen.get(n, ""), seen.get(n) == "failed")] for n in matrix.names)]
            for test, seen in uneven.items()
        )
        found.append(_node_table(rows))
    return found


def _node_table(rows: list[list[list[tuple[str, bool]]]]) -> Any:
    """Return a docutils table: the first row its header, the first column literal."""
    from docutils import nodes  # noqa: PLC0415 - for docs builds only

    group = nodes.tgroup(cols=len(rows[0]))
    group.extend(nodes.colspec(colwidth=1) for _ in rows[0])
    head, body = nodes.thead(), nodes.tbody()
    for index, row in enumerate(rows):
        line = nodes.row()
        for column, parts in enumerate(row):
            paragraph = nodes.paragraph()
            for number, (text, strong) in enumerate(parts):
                if number:
                    paragraph += nodes.Text(", ")
                if index and not column:
                    paragraph += nodes.literal(text, text)
                else:
                    paragraph += nodes.strong(text, text) if strong else nodes.Text(text)
            line += nodes.entry("", paragraph)
        (body if index else head).append(line)
    group += head
    group += body
    return nodes.table("", group, classes=["turnout-compatibility"])


def _node_bullets(items: list[list[Any]]) -> Any:
    from docutils import nodes  # noqa: PLC0415 - for docs builds only

    found = nodes.bullet_list()
    for children in items:
        found += nodes.list_item("", nodes.paragraph("", "", *children))
    return found
