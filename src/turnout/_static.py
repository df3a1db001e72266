"""Static backend metadata: ``turnout-backend.json``, read without importing the backend."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from turnout import _lazytyping as t
from turnout._decision import Owner
from turnout._log import debug
from turnout._names import label_problem
from turnout._registry import BackendStatus, Entry
from turnout._trust import Provider, TrustRule

INFO_FILE = "turnout-backend.json"
SCHEMA_KEY = "turnout-backend"
SCHEMA = 1
"""The schema version of ``turnout-backend.json`` this turnout knows (docs: static-metadata)."""
_MAX_BYTES = 1 << 20
_MAX_URL = 2048
_MAX_SUMMARY = 200


class FunctionInfo:
    """What a backend says about one function it implements (``functions`` as an object)."""

    __slots__ = ("additional_parameters", "extra_docstring")

    def __init__(
        self,
        extra_docstring: str | None = None,
        additional_parameters: dict[str, str] | None = None,
    ) -> None:
        self.extra_docstring = extra_docstring
        self.additional_parameters = additional_parameters or {}

    def __repr__(self) -> str:
        return (
            f"FunctionInfo(extra_docstring={self.extra_docstring!r}, "
            f"additional_parameters={self.additional_parameters!r})"
        )


class StaticInfo:
    """What one backend declares in its distribution's ``turnout-backend.json``."""

    __slots__ = (
        "aliases",
        "default_config",
        "function_info",
        "functions",
        "host_versions",
        "name",
        "priority",
        "requires_opt_in",
        "secondary_types",
        "short_summary",
        "source",
        "types",
        "url",
    )

    def __init__(
        self,
        *,
        name: str | None = None,
        aliases: tuple[str, ...] = (),
        functions: tuple[str, ...] | None = None,
        function_info: dict[str, FunctionInfo] | None = None,
        types: tuple[str, ...] = (),
        secondary_types: tuple[str, ...] = (),
        host_versions: str | None = None,
        priority: int = 0,
        requires_opt_in: bool = False,
        default_config: dict[str, t.Any] | None = None,
        url: str | None = None,
        short_summary: str | None = None,
        source: str = "",
    ) -> None:
        self.name = name
        self.aliases = aliases
        self.functions = functions
        self.function_info = function_info or {}
        self.types = types
        self.secondary_types = secondary_types
        self.host_versions = host_versions
        self.priority = priority
        self.requires_opt_in = requires_opt_in
        self.default_config = default_config
        self.url = url
        self.short_summary = short_summary
        self.source = source

    @classmethod
    def of(cls, backend: object, source: str = "") -> StaticInfo:
        """Read the same declarations from a loaded backend's attributes.

        Every key of the file except ``name``, ``aliases`` and ``functions``
        (a loaded backend has those as attributes of their own), checked as in
        the file. An attribute of the wrong kind counts as absent, not as a
        malformed declaration: a backend whose ``__getattr__`` answers every
        name must not be refused for it.
        """
        found: dict[str, t.Any] = {}
        for key in _ATTRIBUTES:
            value = getattr(backend, key, None)
            if value is None:
                continue
            try:
                found[key] = _READERS[key](value)
            except Malformed:
                continue
        return cls(source=source, **found)

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
    """Return the declarations for `group` in a ``turnout-backend.json``, None if it has none.

    Forward-compatible: keys this turnout does not know (of any schema
    version) are ignored, a known key of the wrong kind is ignored alone, each
    said at ``DEBUG``, and the other keys still apply. Two keys fail safe
    instead: a malformed ``host_versions`` is kept, so that the backend is
    refused as declaring no valid specifier, and a malformed
    ``requires_opt_in`` counts as true.
    """
    import json  # noqa: PLC0415 - only where a backend ships the file

    try:
        data = json.loads(blob.decode("utf-8")) if len(blob) <= _MAX_BYTES else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        debug("turnout: ignoring %s: not a JSON object of at most 1 MiB", source)
        return None
    _check_schema(data.get(SCHEMA_KEY, SCHEMA), source)
    entry = data.get(group)
    if not isinstance(entry, dict):
        if entry is not None:
            debug("turnout: ignoring %s for %s: not a JSON object", source, group)
        return None
    return StaticInfo(source=source, **_read_entry(entry, f"{source} for {group}"))


def _read_entry(entry: dict[str, object], where: str) -> dict[str, t.Any]:
    """Return `StaticInfo`'s arguments from one group's object, saying what was ignored."""
    found: dict[str, t.Any] = {}
    for key, value in entry.items():
        reader = _READERS.get(key)
        if reader is None:
            debug("turnout: %s: ignoring unknown key %r", where, key)
            continue
        if value is None:
            continue  # null: as if absent
        try:
            found[key] = reader(value)
        except Malformed as error:
            debug("turnout: %s: ignoring %r: %s", where, key, error)
            if key in _FAIL_SAFE:
                found[key] = _FAIL_SAFE[key](value)
    functions = found.pop("functions", None)
    if functions is not None:
        found["functions"], found["function_info"], dropped = functions
        for part in dropped:
            debug("turnout: %s: ignoring %s", where, part)
    return found


def _check_schema(version: object, source: str) -> None:
    """Say at DEBUG when a file declares a schema this turnout does not know."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        debug("turnout: %s: %r is not a schema version; read as %d", source, version, SCHEMA)
    elif version > SCHEMA:
        debug(
            "turnout: %s: schema %d is newer than %d; reading the keys this turnout knows",
            source,
            version,
            SCHEMA,
        )


# -- one reader per key: the value as StaticInfo keeps it, or Malformed(why not) -----------


class Malformed(Exception):  # noqa: N818 - an outcome, not an error users see
    """A key's value is not of the kind its reader expects."""


def _label(value: object) -> str:
    problem = label_problem(value)
    if problem is not None or not isinstance(value, str):
        raise Malformed(problem)
    return value


def _labels(value: object) -> tuple[str, ...]:
    return tuple(_label(item) for item in _list(value))


def _type_refs(value: object) -> tuple[str, ...]:
    """Read ``"module:qualname"`` strings, as type matching spells a type."""
    refs = _list(value)
    for ref in refs:
        module, colon, qualname = ref.partition(":") if isinstance(ref, str) else ("", "", "")
        if not (colon and _dotted(module) and _dotted(qualname, "<locals>")):
            raise Malformed(f"{ref!r} is not 'module:qualname'")
    return tuple(refs)


def _dotted(text: str, *extra: str) -> bool:
    return all(part.isidentifier() or part in extra for part in text.split("."))


def _functions(value: object) -> tuple[tuple[str, ...], dict[str, FunctionInfo], list[str]]:
    """Return the names, their details, and the details dropped (list form: no details)."""
    if not isinstance(value, dict):
        names = _list(value)
        if not all(isinstance(name, str) and name.isidentifier() for name in names):
            raise Malformed("each function must be the name of one")
        return tuple(names), {}, []
    details: dict[str, FunctionInfo] = {}
    dropped: list[str] = []
    for name, about in value.items():
        if not name.isidentifier():
            raise Malformed(f"{name!r} is not the name of a function")
        details[name] = _function_info(name, about if about is not None else {}, dropped)
    return tuple(details), details, dropped


def _function_info(name: str, about: object, dropped: list[str]) -> FunctionInfo:
    """Read one function's details; a bad or unknown part is dropped alone."""
    info = FunctionInfo()
    if not isinstance(about, dict):
        dropped.append(f"the details of {name!r}: not a JSON object")
        return info
    for key, value in about.items():
        where = f"functions.{name}.{key}"
        if key == "extra_docstring":
            if isinstance(value, str):
                info.extra_docstring = value
            else:
                dropped.append(f"{where}: not a string")
        elif key == "additional_parameters":
            if _is_descriptions(value):
                info.additional_parameters = dict(value)
            else:
                dropped.append(f"{where}: not an object of parameter names to descriptions")
        else:
            dropped.append(f"unknown key {where!r}")
    return info


def _is_descriptions(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and key.isidentifier() and isinstance(text, str)
        for key, text in value.items()
    )


def _specifier(value: object) -> str:
    """Keep a version specifier as text: `version_problem` says whether it parses."""
    if not isinstance(value, str):
        raise Malformed("not a string")
    return value


def _priority(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed("not an integer")
    return value


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise Malformed("not true or false")
    return value


def _config(value: object) -> dict[str, t.Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise Malformed("not a JSON object")
    return dict(value)


def _url(value: object) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith(("https://", "http://"))
        or len(value) > _MAX_URL
        or not value.isprintable()
        or " " in value
    ):
        raise Malformed("not an http(s) URL")
    return value


def _summary(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise Malformed("not one line of text")
    if len(value) > _MAX_SUMMARY:
        raise Malformed(f"longer than {_MAX_SUMMARY} characters")
    return value.strip()


def _list(value: object) -> list[t.Any]:
    if isinstance(value, (set, frozenset)):  # from a loaded backend's attribute
        return sorted(value, key=str)
    if not isinstance(value, (list, tuple)):
        raise Malformed("not a list")
    return list(value)


_READERS: dict[str, Callable[[object], t.Any]] = {
    "name": _label,
    "aliases": _labels,
    "functions": _functions,
    "types": _type_refs,
    "secondary_types": _type_refs,
    "host_versions": _specifier,
    "priority": _priority,
    "requires_opt_in": _flag,
    "default_config": _config,
    "url": _url,
    "short_summary": _summary,
}
_ATTRIBUTES = tuple(key for key in _READERS if key not in ("name", "aliases", "functions"))
# What a malformed value of a key that keeps users safe stands for: the safe reading.
_FAIL_SAFE: dict[str, Callable[[object], t.Any]] = {
    "host_versions": repr,  # never a specifier (it starts with no operator): refused
    "requires_opt_in": lambda _value: True,
}


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


def host_version(package: str) -> str | None:
    """Return the version of the host whose dispatcher a module of `package` created.

    The package's ``__version__``, else the installed version of the
    distribution of that name (never the dispatcher's ``host_name``, which is
    only a name shown to users).
    """
    version = getattr(sys.modules.get(package), "__version__", None)
    if isinstance(version, str):
        return version
    import importlib.metadata  # noqa: PLC0415 - only when a backend declares host versions

    try:
        return importlib.metadata.version(package)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


class Declared:
    """What one backend declares about itself, loaded or not: an `Entry` and its metadata."""

    __slots__ = ("entry", "info")

    def __init__(self, entry: Entry, info: StaticInfo) -> None:
        self.entry = entry
        self.info = info

    @classmethod
    def loaded(cls, entry: Entry, own: StaticInfo, static: StaticInfo | None) -> Declared:
        """Describe a loaded backend: what it says itself, its distribution's file filling gaps."""
        if static is not None and not own.types:
            own = static
        return cls(entry, own)

    @classmethod
    def unloaded(
        cls, provider: Provider, rule: TrustRule | None, info: StaticInfo | None
    ) -> Declared:
        """Describe an entry point not imported yet: a ``NOT_LOADED`` entry named as it will be."""
        name = rule.canonical if rule is not None else None
        name = name or (info.name if info is not None and info.name else None)
        name = name or provider.name
        labels = (
            name,
            *(rule.labels[1:] if rule is not None else ()),
            *(info.aliases if info is not None else ()),
        )
        entry = Entry(
            name,
            labels=tuple(dict.fromkeys(labels)),
            provider=provider,
            trusted=rule is not None,
            status=BackendStatus.NOT_LOADED,
        )
        return cls(entry, info if info is not None else StaticInfo())

    def owner(self) -> Owner | None:
        """Return it as an owner of types for automatic selection, if it owns types.

        The types it accepts (``secondary_types``) count only with one it owns.
        """
        if not self.info.types:
            return None
        return Owner(
            self.entry.name,
            self.info.types,
            secondary=self.info.secondary_types,
            priority=self.info.priority,
            trusted=self.entry.trusted,
            requires_opt_in=self.info.requires_opt_in,
        )
