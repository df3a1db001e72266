"""``python -m turnout GROUP``: list the backends of an entry-point group, or a host's report."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

COLUMNS = ("name", "aliases", "distribution", "version", "object_ref", "status", "error")


def scan_group(group: str) -> list[dict[str, Any]]:
    """Load each entry point of `group` in turn; one failure never stops the rest."""
    from turnout._metadata import load_reference, scan  # noqa: PLC0415
    from turnout._names import label_problem  # noqa: PLC0415

    providers = sorted(scan(group, sys.path), key=lambda p: (p.name, p.distribution))
    rows: list[dict[str, Any]] = []
    claimed: dict[str, str] = {}
    for provider in providers:
        row: dict[str, Any] = {
            "name": provider.name,
            "aliases": [],
            "distribution": provider.distribution,
            "version": provider.version,
            "object_ref": provider.value,
            "status": "ready",
            "error": None,
        }
        try:
            target = load_reference(provider.value)
            backend = target() if isinstance(target, type) else target
        except (Exception, SystemExit) as error:  # noqa: BLE001 - reported, the scan goes on
            row.update(status="failed", error=f"{type(error).__name__}: {error}")
        else:
            declared = getattr(backend, "name", None)
            if isinstance(declared, str) and label_problem(declared) is None:
                row["name"] = declared
            aliases = getattr(backend, "aliases", ())
            if isinstance(aliases, (list, tuple, set, frozenset)):
                row["aliases"] = sorted(str(alias) for alias in aliases)
        if row["name"] in claimed:
            row.update(
                status="rejected",
                error=f"name {row['name']!r} is also claimed by {claimed[row['name']]}",
            )
        else:
            claimed[row["name"]] = provider.distribution
        rows.append(row)
    return rows


def host_report(module_name: str) -> tuple[list[dict[str, Any]], bool]:
    """Import a host module, find its dispatcher, and return its report rows and failure flag."""
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
    infos = found[0].report()
    failed = any(info.status.value == "failed" or info.is_conflict for info in infos)
    return [info.as_dict() for info in infos], failed


def render(rows: Sequence[dict[str, Any]]) -> str:
    """Return the rows as an aligned text table."""
    cells = [list(COLUMNS)] + [
        [
            ", ".join(v) if isinstance(v, list) else ("" if v is None else str(v))
            for v in (row[column] for column in COLUMNS)
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="turnout",
        description=(
            "List the backends an entry-point group offers: each entry point is "
            "loaded in turn and reported, failures included."
        ),
        epilog="Exit code 1 if an entry point failed to load or two claim one name.",
    )
    parser.add_argument("group", nargs="?", help="entry-point group, e.g. example_host.backends")
    parser.add_argument("--host", metavar="MODULE", help="report a host's own view (trust applied)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    args = parser.parse_args(argv)
    if args.host is None and args.group is None:
        parser.error("give an entry-point group, or --host MODULE")
    if args.host is not None:
        try:
            rows, failed = host_report(args.host)
        except (ImportError, LookupError) as error:
            print(f"turnout: {error}", file=sys.stderr)
            return 2
    else:
        rows = scan_group(args.group)
        failed = any(row["status"] != "ready" for row in rows)
    print(json.dumps(rows, indent=2) if args.json else render(rows))
    return 1 if failed else 0
