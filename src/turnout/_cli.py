"""``python -m turnout GROUP``: list the backends of an entry-point group, or a host's report."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

COLUMNS = (
    "name",
    "aliases",
    "trusted",
    "distribution",
    "version",
    "object_ref",
    "status",
    "error",
)
NO_HOST = "unknown (no host)"  # the trust column when no dispatcher owns the group
WRAPPED = ("error", "implements", "aliases")  # cells a narrow table wraps, at spaces only


def refusal(name: str, value: str, claimed: dict[str, str]) -> str | None:
    """Return why an entry point is refused before import, from its metadata alone.

    The checks every host applies: a valid label, not ``cpu`` or a look-alike of
    it, a valid object reference, and no earlier claim of the same (folded) name.
    """
    from turnout._names import CPU, entry_point_problem, fold_label, label_problem  # noqa: PLC0415

    problem = label_problem(name)
    if problem is not None:
        return f"its name is invalid: {problem}"
    if fold_label(name) == CPU:
        return f"{name!r} always means the host's own code ('cpu') and cannot be claimed"
    problem = entry_point_problem(value)
    if problem is not None:
        return f"its value is invalid: {problem}"
    if fold_label(name) in claimed:
        return f"name {name!r} is also claimed by {claimed[fold_label(name)]}"
    return None


def scan_group(group: str, *, load: bool = True) -> list[dict[str, Any]]:
    """Report each entry point of `group`; import (with `load`) only those the checks admit.

    One failure never stops the rest, and an entry point refused from its
    metadata is never imported. Without the host, trust cannot be checked:
    ``trusted`` is None, and an entry point that imports is ``loaded``, not
    ``ready``.
    """
    from turnout._entrypoints import entry_points, load_reference  # noqa: PLC0415
    from turnout._names import fold_label, label_problem  # noqa: PLC0415

    providers = sorted(entry_points(group), key=lambda p: (p.name, p.distribution))
    rows: list[dict[str, Any]] = []
    claimed: dict[str, str] = {}
    for provider in providers:
        row: dict[str, Any] = {
            "name": provider.name,
            "aliases": [],
            "distribution": provider.distribution,
            "version": provider.version,
            "object_ref": provider.value,
            "status": "loaded" if load else "not imported",  # "ready" needs the host's trust
            "error": None,
            "trusted": None,
        }
        rows.append(row)
        problem = refusal(provider.name, provider.value, claimed)
        if problem is not None:
            row.update(status="rejected", error=problem)
            continue
        claimed[fold_label(provider.name)] = provider.distribution
        if not load:
            continue
        try:
            target = load_reference(provider.value)
            backend = target() if isinstance(target, type) else target
            declared = getattr(backend, "name", None)
            aliases = getattr(backend, "aliases", ())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001 - reported, the scan goes on
            row.update(status="failed", error=f"{type(error).__name__}: {error}")
            continue
        if isinstance(declared, str) and label_problem(declared) is None:
            row["name"] = declared
        if isinstance(aliases, (list, tuple, set, frozenset)):
            row["aliases"] = sorted(str(alias) for alias in aliases)
    return rows


HOST_COLUMNS = (
    "name",
    "aliases",
    "trusted",
    "distribution",
    "version",
    "status",
    "implements",
    "error",
)


def find_dispatcher(module_name: str) -> Any:
    """Import a host module and return the first `BackendDispatcher` it or its submodules hold."""
    import importlib  # noqa: PLC0415

    from turnout._dispatcher import BackendDispatcher  # noqa: PLC0415

    module = importlib.import_module(module_name)
    found = [value for value in vars(module).values() if isinstance(value, BackendDispatcher)]
    for name, submodule in sorted(sys.modules.items()):
        if not found and name.startswith(f"{module_name}.") and submodule is not None:
            found = [v for v in vars(submodule).values() if isinstance(v, BackendDispatcher)]
    if not found:
        msg = f"no turnout.BackendDispatcher found in {module_name} or its imported submodules"
        raise LookupError(msg)
    return found[0]


def host_rows(dispatcher: Any, *, load: bool = True) -> tuple[list[dict[str, Any]], bool]:
    """Return a dispatcher's report as rows, and whether a backend failed or two claim a name."""
    infos = dispatcher.report(load=load)
    failed = any(info.status.value == "failed" or info.is_conflict for info in infos)
    return [info.as_dict() for info in infos], failed


def host_report(module_name: str, *, load: bool = True) -> tuple[list[dict[str, Any]], bool]:
    """Import a host module, find its dispatcher, and return its report rows and failure flag.

    Without `load`, backends not imported yet are reported from their
    metadata (status ``not loaded``) and none is imported.
    """
    return host_rows(find_dispatcher(module_name), load=load)


def group_owner(group: str) -> tuple[Any, list[str]]:
    """Return the dispatcher that owns entry-point `group` (None if none), and notes.

    A dispatcher alive in this process, else one created by importing the
    modules the group's name starts with (``example_host`` for
    ``example_host.backends``), longest first. Importing a host imports no
    backend; a host that fails to import is noted and skipped.
    """
    import importlib  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    from turnout._hosts import live  # noqa: PLC0415

    def owner() -> Any:
        owners = [d for d in list(live) if d.entrypoint_group == group]
        return max(owners, key=lambda d: d._serial, default=None)  # noqa: SLF001

    notes: list[str] = []
    parts = group.split(".")
    for end in range(len(parts) - 1, 0, -1):
        found = owner()
        if found is not None:
            return found, notes
        candidate = ".".join(parts[:end])
        try:
            if importlib.util.find_spec(candidate) is None:
                continue
        except (ImportError, ValueError):  # a parent package that is not there
            continue
        try:
            importlib.import_module(candidate)
        except Exception as error:  # noqa: BLE001 - a broken host is reported, not fatal
            notes.append(f"importing {candidate} failed ({type(error).__name__}: {error})")
    return owner(), notes


def group_rows(group: str, *, load: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the rows for `group` (its host's trust applied when a host owns it), and notes."""
    dispatcher, notes = group_owner(group)
    if dispatcher is None:
        tried = " or ".join(
            ".".join(group.split(".")[:end]) for end in range(group.count("."), 0, -1)
        )
        notes.append(
            f"no host's dispatcher owns {group!r} here"
            + (f" (tried {tried})" if tried else "")
            + ": trust is not checked, so nothing is 'ready'. "
            "`python -m turnout --host MODULE` shows a host's view"
        )
        return scan_group(group, load=load), notes
    rows, _ = host_rows(dispatcher, load=load)
    return [row for row in rows if row.get("object_ref") is not None], notes


def _cell(column: str, value: object, host: str | None) -> str:
    if column == "trusted":
        return NO_HOST if value is None else "yes" if value else "no"
    if column == "implements" and isinstance(value, list) and host is not None:
        prefix = f"{host}."
        value = [name.removeprefix(prefix) for name in value]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _wrap(text: str, width: int) -> list[str]:
    """Split `text` into lines of about `width` at spaces only: no word is ever broken."""
    import textwrap  # noqa: PLC0415 - only for a table wider than the terminal

    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] = COLUMNS,
    host: str | None = None,
    width: int | None = None,
) -> str:
    """Return the rows as an aligned text table (`host`: a prefix to drop from function names).

    With `width` (a terminal's), a wider table wraps its text columns (error,
    implements, aliases) at spaces, widest first, until it fits or no column can
    give more; names, distributions and object references are never broken.
    """
    cells = [list(columns)] + [[_cell(c, row.get(c), host) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    if width is not None:
        wrappable = [i for i, column in enumerate(columns) if column in WRAPPED]
        while sum(widths) + 2 * (len(widths) - 1) > width and wrappable:
            i = max(wrappable, key=lambda index: widths[index])
            excess = sum(widths) + 2 * (len(widths) - 1) - width
            target = max(widths[i] - excess, len(columns[i]), 12)
            lines = [_wrap(line[i], target) for line in cells]
            needed = max(len(part) for wrapped in lines for part in wrapped)
            if needed >= widths[i]:  # its longest word already sets its width
                wrappable.remove(i)
                continue
            widths[i] = needed
    table: list[str] = []
    for line in cells:
        parts = [
            _wrap(cell, widths[i]) if len(cell) > widths[i] else [cell]
            for i, cell in enumerate(line)
        ]
        for row in range(max(len(part) for part in parts)):
            texts = [part[row] if row < len(part) else "" for part in parts]
            table.append(
                "  ".join(text.ljust(w) for text, w in zip(texts, widths, strict=True)).rstrip()
            )
    return "\n".join(table)


def terminal_width() -> int | None:
    """Return the width to fit tables to: a terminal's, or ``COLUMNS``; None for a pipe."""
    import os  # noqa: PLC0415
    import shutil  # noqa: PLC0415

    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        return None
    return shutil.get_terminal_size().columns


def installed_groups() -> list[str]:
    """Return every entry-point group of the installed distributions (for did-you-mean)."""
    from importlib.metadata import distributions  # noqa: PLC0415 - an error path only

    groups: set[str] = set()
    for distribution in distributions():
        groups.update(entry_point.group for entry_point in distribution.entry_points)
    return sorted(groups)


def empty_group_message(group: str) -> str:
    """Say that `group` has no entry points, with the closest installed group names."""
    import difflib  # noqa: PLC0415 - an error path only

    groups = installed_groups()
    close = difflib.get_close_matches(group, groups, n=3, cutoff=0.6)
    prefix = group.split(".", 1)[0]
    close += [g for g in groups if g.split(".", 1)[0] == prefix and g not in close]
    message = f"no installed distribution declares an entry point in group {group!r}."
    if close:
        message += " Did you mean " + " or ".join(repr(g) for g in close[:3]) + "?"
    else:
        message += (
            " Check the spelling (a host's documentation names its group), or install a backend."
        )
    return message


class Progress:
    """Show a line on a terminal when the work in the ``with`` block takes over `delay` seconds."""

    def __init__(self, text: str, delay: float = 1.0) -> None:
        self.text = text
        self.delay = delay
        self.shown = False
        self._timer: Any = None

    def _show(self) -> None:
        sys.stderr.write(f"turnout: {self.text}...")
        sys.stderr.flush()
        self.shown = True

    def __enter__(self) -> None:
        if sys.stderr.isatty():
            import threading  # noqa: PLC0415 - only on a terminal

            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        if self.shown:
            sys.stderr.write("\r\x1b[K")  # erase the line
            sys.stderr.flush()


USAGE = """turnout [-h] [--version] [--json] [--no-import] GROUP
       turnout [--json] [--no-import] --host MODULE
       turnout stubs [-h] [-o DIR] [--check] HOST"""

DESCRIPTION = """\
List the backends an entry-point group offers: each entry point is loaded in
turn and reported, failures included. When a host's dispatcher owns the group
(found by importing the module the group's name starts with: example_host for
example_host.backends), its trust is applied; otherwise the trusted column says
"unknown (no host)" and nothing is "ready". With --host, the host's own view:
trust applied, and what each backend implements.

commands:
  stubs HOST   write HOST-stubs/, a stub-only package with which type checkers
               accept fn(x, backend=...) (turnout stubs --help)"""

EPILOG = """\
Exit code 1 if an entry point failed to load, was rejected, two claim one name,
or the group has no entry point at all (a misspelt group: the closest installed
groups are suggested); 2 for a usage error."""


def version() -> str:
    """Return what ``--version`` prints."""
    from importlib.metadata import PackageNotFoundError  # noqa: PLC0415

    import turnout  # noqa: PLC0415

    try:
        return f"turnout {turnout.__version__}"
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "turnout (version unknown: not installed)"


def parser() -> argparse.ArgumentParser:
    """Return the parser of ``turnout [GROUP | --host MODULE]``."""
    made = argparse.ArgumentParser(
        prog="turnout",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("group", nargs="?", help="entry-point group, e.g. example_host.backends")
    made.add_argument("--host", metavar="MODULE", help="report a host's own view (trust applied)")
    made.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    made.add_argument(
        "--no-import",
        action="store_true",
        help="list from metadata only: import no backend",
    )
    made.add_argument("--version", action="store_true", help="print turnout's version and exit")
    return made


def parse(arguments: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; exit with 2 and the usage on an error."""
    usage = parser()
    args = usage.parse_args(arguments)
    if args.version:
        return args
    if args.host is not None and args.group is not None:
        usage.error(
            f"give a GROUP or --host MODULE, not both: --host {args.host} lists the backends "
            f"of {args.host}'s dispatcher, so {args.group!r} would be ignored"
        )
    if args.host is None and args.group is None:
        usage.error("give an entry-point group, or --host MODULE")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    import warnings  # noqa: PLC0415

    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["stubs"]:
        from turnout._stubs import main as stubs  # noqa: PLC0415

        return stubs(arguments[1:])
    args = parse(arguments)
    if args.version:
        print(version())
        return 0
    columns: Sequence[str] = COLUMNS
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        if args.host is not None:
            columns = HOST_COLUMNS
            try:
                with Progress(f"loading the backends of {args.host}"):
                    rows, failed = host_report(args.host, load=not args.no_import)
            except (ImportError, LookupError) as error:
                print(f"turnout: {error}", file=sys.stderr)
                return 2
        else:
            with Progress(f"loading the entry points of {args.group}"):
                rows, notes = group_rows(args.group, load=not args.no_import)
            failed = any(row["status"] in ("failed", "rejected") for row in rows)
    for warning in caught:  # before the table, and not as if raised in this module
        print(f"turnout: {warning.category.__name__}: {warning.message}", file=sys.stderr)
    if not rows and args.host is None:
        print(f"turnout: {empty_group_message(args.group)}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"turnout: note: {note}", file=sys.stderr)
    sys.stderr.flush()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(render(rows, columns, args.host, terminal_width()))
    return 1 if failed else 0
