"""Static backend metadata: what a backend declares about itself, read without importing it.

A backend distribution may ship ``turnout-backend.json`` in the directory of
the module its entry point names (its package). The file maps entry-point
groups to what the backend declares for that host::

    {
      "example_host.backends": {
        "name": "chunked",
        "aliases": ["chunks"],
        "functions": ["mean", "variance"],
        "types": ["example_host_arrays:ChunkedArray"],
        "host_versions": ">=0.1,<1",
        "priority": 10,
        "requires_opt_in": false
      }
    }

Every key is optional. The file is found with the import system's path finder
(which executes nothing) and read as JSON; a file that is missing, unreadable
or of the wrong shape is ignored (and said so at ``DEBUG``).
"""

from __future__ import annotations

import os
import sys

from turnout import _lazytyping as t
from turnout._trust import Provider

INFO_FILE = "turnout-backend.json"
_MAX_BYTES = 1 << 20


class StaticInfo:
    """What one backend declares in its distribution's ``turnout-backend.json``."""

    __slots__ = (
        "aliases",
        "functions",
        "host_versions",
        "name",
        "priority",
        "requires_opt_in",
        "source",
        "types",
    )

    def __init__(
        self,
        *,
        name: str | None = None,
        aliases: tuple[str, ...] = (),
        functions: tuple[str, ...] | None = None,
        types: tuple[str, ...] = (),
        host_versions: str | None = None,
        priority: int = 0,
        requires_opt_in: bool = False,
        source: str = "",
    ) -> None:
        self.name = name
        self.aliases = aliases
        self.functions = functions
        self.types = types
        self.host_versions = host_versions
        self.priority = priority
        self.requires_opt_in = requires_opt_in
        self.source = source

    @classmethod
    def of(cls, backend: object, source: str = "") -> StaticInfo:
        """Read the same declarations from a loaded backend's attributes."""
        types = getattr(backend, "types", ())
        versions = getattr(backend, "host_versions", None)
        priority = getattr(backend, "priority", 0)
        return cls(
            types=tuple(v for v in types if isinstance(v, str))
            if isinstance(types, (list, tuple, set, frozenset))
            else (),
            host_versions=versions if isinstance(versions, str) else None,
            priority=priority
            if isinstance(priority, int) and not isinstance(priority, bool)
            else 0,
            requires_opt_in=getattr(backend, "requires_opt_in", False) is True,
            source=source,
        )

    def __repr__(self) -> str:
        return f"StaticInfo(name={self.name!r}, types={self.types!r}, source={self.source!r})"


def module_directory(module: str) -> str | None:
    """Return the directory holding `module` (its package's), found without executing it."""
    from importlib.machinery import PathFinder  # noqa: PLC0415 - frozen: no cost

    parts = module.split(".")
    search: list[str] | None = None
    directory = None
    for index in range(len(parts)):
        try:
            spec = PathFinder.find_spec(".".join(parts[: index + 1]), search)
        except (ImportError, ValueError, AttributeError):
            return None
        if spec is None:
            return None
        locations = spec.submodule_search_locations
        if locations:
            search = list(locations)
            directory = search[0]
        elif spec.origin:
            return os.path.dirname(spec.origin)
        else:
            return None
    return directory


def read_info(provider: Provider, group: str) -> StaticInfo | None:
    """Return what `provider`'s distribution declares for `group`, None if nothing."""
    module = provider.module
    directory = module_directory(module) if module else None
    if directory is None:
        return None
    path = os.path.join(directory, INFO_FILE)
    try:
        with open(path, "rb") as handle:
            blob = handle.read(_MAX_BYTES + 1)
    except OSError:
        return None
    return parse_info(blob, group, path)


def parse_info(blob: bytes, group: str, source: str) -> StaticInfo | None:
    """Return the declarations for `group` in a ``turnout-backend.json``, None if unusable."""
    import json  # noqa: PLC0415 - only where a backend ships the file

    try:
        data = json.loads(blob.decode("utf-8")) if len(blob) <= _MAX_BYTES else None
    except (ValueError, RecursionError):
        data = None
    entry = data.get(group) if isinstance(data, dict) else None
    if not isinstance(entry, dict):
        if data is None:
            _debug("turnout: ignoring %s: not a JSON object of at most 1 MiB", source)
        return None
    problem = _problem(entry)
    if problem is not None:
        _debug("turnout: ignoring %s for %s: %s", source, group, problem)
        return None
    functions = entry.get("functions")
    return StaticInfo(
        name=entry.get("name"),
        aliases=tuple(entry.get("aliases", ())),
        functions=tuple(functions) if functions is not None else None,
        types=tuple(entry.get("types", ())),
        host_versions=entry.get("host_versions"),
        priority=entry.get("priority", 0),
        requires_opt_in=entry.get("requires_opt_in", False),
        source=source,
    )


def _problem(entry: dict[str, t.Any]) -> str | None:
    strings = ("aliases", "functions", "types")
    for key in strings:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key!r} must be a list of strings"
    for key in ("name", "host_versions"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return f"{key!r} must be a string"
    priority = entry.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        return "'priority' must be an integer"
    if not isinstance(entry.get("requires_opt_in", False), bool):
        return "'requires_opt_in' must be true or false"
    unknown = set(entry) - {*strings, "name", "host_versions", "priority", "requires_opt_in"}
    if unknown:
        return f"unknown keys {sorted(unknown)}"
    return None


def version_problem(spec: str, version: str | None, host_name: str) -> str | None:
    """Return why a backend that supports `spec` cannot run with `version` of the host."""
    if version is None:
        return None  # the host's version is unknown: nothing to check against
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # noqa: PLC0415
    from packaging.version import InvalidVersion  # noqa: PLC0415

    try:
        supported = SpecifierSet(spec)
        if supported.contains(version, prereleases=True):
            return None
    except (InvalidSpecifier, InvalidVersion):
        return f"it declares host_versions {spec!r}, which is not a version specifier"
    return (
        f"it supports {host_name} {spec}, but {host_name} {version} is installed; "
        "upgrade the backend (or the host) to versions that support each other"
    )


def _debug(message: str, *args: object) -> None:
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("turnout").debug(message, *args)
