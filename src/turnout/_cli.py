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
    parser.add_argument(
        "--no-import",
        action="store_true",
        help="list from metadata only: import no backend (group mode)",
    )
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
        rows = scan_group(args.group, load=not args.no_import)
        failed = any(row["status"] in ("failed", "rejected") for row in rows)
    print(json.dumps(rows, indent=2) if args.json else render(rows))
    return 1 if failed else 0
