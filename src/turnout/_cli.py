"""``python -m turnout GROUP``: list the backends of an entry-point group, or a host's report."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

COLUMNS = ("name", "aliases", "distribution", "version", "object_ref", "status", "error")


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
    metadata is never imported.
    """
    from turnout._metadata import entry_points, load_reference  # noqa: PLC0415
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
            "status": "ready" if load else "not imported",
            "error": None,
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


def host_report(module_name: str, *, load: bool = True) -> tuple[list[dict[str, Any]], bool]:
    """Import a host module, find its dispatcher, and return its report rows and failure flag.

    Without `load`, backends not imported yet are reported from their
    metadata (status ``not loaded``) and none is imported.
    """
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
    infos = found[0].report(load=load)
    failed = any(info.status.value == "failed" or info.is_conflict for info in infos)
    return [info.as_dict() for info in infos], failed


def _cell(column: str, value: object, host: str | None) -> str:
    if column == "trusted":
        return "yes" if value else "no"
    if column == "implements" and isinstance(value, list) and host is not None:
        prefix = f"{host}."
        value = [name.removeprefix(prefix) for name in value]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def render(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] = COLUMNS, host: str | None = None
) -> str:
    """Return the rows as an aligned text table (`host`: a prefix to drop from function names)."""
    cells = [list(columns)] + [[_cell(c, row.get(c), host) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    import warnings  # noqa: PLC0415

    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["stubs"]:
        from turnout._stubs import main as stubs  # noqa: PLC0415

        return stubs(arguments[1:])

    parser = argparse.ArgumentParser(
        prog="turnout",
        description=(
            "List the backends an entry-point group offers: each entry point is "
            "loaded in turn and reported, failures included. With --host, the "
            "host's own view: trust applied, and what each backend implements."
        ),
        epilog=(
            "Exit code 1 if an entry point failed to load, two claim one name, or "
            "the group has no entry point at all (a misspelt group: the closest "
            "installed groups are suggested); 2 for a usage error. "
            "`turnout stubs HOST_PACKAGE` writes type stubs that show the selector "
            "keyword (see `turnout stubs --help`)."
        ),
    )
    parser.add_argument("group", nargs="?", help="entry-point group, e.g. example_host.backends")
    parser.add_argument("--host", metavar="MODULE", help="report a host's own view (trust applied)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.add_argument(
        "--no-import",
        action="store_true",
        help="list from metadata only: import no backend",
    )
    args = parser.parse_args(arguments)
    if args.host is None and args.group is None:
        parser.error("give an entry-point group, or --host MODULE")
    columns: Sequence[str] = COLUMNS
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
                rows = scan_group(args.group, load=not args.no_import)
            failed = any(row["status"] in ("failed", "rejected") for row in rows)
    for warning in caught:  # before the table, and not as if raised in this module
        print(f"turnout: {warning.category.__name__}: {warning.message}", file=sys.stderr)
    sys.stderr.flush()
    if not rows and args.host is None:
        print(f"turnout: {empty_group_message(args.group)}", file=sys.stderr)
        return 1
    print(json.dumps(rows, indent=2) if args.json else render(rows, columns, args.host))
    return 1 if failed else 0
