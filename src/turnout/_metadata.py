"""Installed entry-point metadata: a direct scan of ``sys.path``, cached on disk.

Reading a group's entry points through `importlib.metadata` costs its import
(tens of milliseconds) plus a parse of every distribution. This module reads
the same files directly: for each directory on ``sys.path``, every
``*.dist-info`` / ``*.egg-info`` folder's ``entry_points.txt``, keeping the
first distribution of each name, as `importlib.metadata` does. Other entries
(zip files) go through `importlib.metadata`. The result is cached on disk,
keyed by ``sys.path`` and each entry's modification time, so any install or
uninstall invalidates it; a missing, corrupt or unwritable cache only costs
speed. ``TURNOUT_NO_CACHE=1`` disables it, ``TURNOUT_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

from turnout import _lazytyping as t
from turnout._names import normalize_distribution
from turnout._trust import Provider

CACHE_FORMAT = 1
_SUFFIXES = (".dist-info", ".egg-info")


def entry_points(group: str) -> list[Provider]:
    """Return the providers of `group` on the current ``sys.path`` (cached)."""
    paths = list(sys.path)
    cache = _cache_file(group, paths)
    state = _path_state(paths)
    if cache is not None:
        cached = _read_cache(cache, state, group)
        if cached is not None:
            return cached
    providers = scan(group, paths)
    if cache is not None:
        _write_cache(cache, state, group, providers)
    return providers


def scan(group: str, paths: Sequence[str]) -> list[Provider]:
    """Read `group`'s entry points from every distribution found on `paths`."""
    providers: list[Provider] = []
    seen: set[str] = set()
    for path in paths:
        directory = path or "."
        if os.path.isdir(directory):
            providers.extend(_scan_directory(group, directory, seen))
        elif os.path.exists(directory):
            providers.extend(_scan_other(group, path, seen))
    return providers


def _scan_directory(group: str, directory: str, seen: set[str]) -> Iterable[Provider]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    header = f"[{group}]"
    for folder in names:
        if not folder.endswith(_SUFFIXES):
            continue
        stem = folder.rsplit(".", 1)[0]
        raw_name, _, version = stem.partition("-")
        key = normalize_distribution(raw_name)
        if key in seen:
            continue  # an earlier sys.path entry provides this distribution
        seen.add(key)
        text = _read(os.path.join(directory, folder, "entry_points.txt"))
        if text is None or header not in text:
            continue
        name, version = _name_and_version(os.path.join(directory, folder), raw_name, version)
        for entry_name, value in parse_section(text, group):
            yield Provider(entry_name, value, name, version)


def _name_and_version(folder: str, raw_name: str, version: str) -> tuple[str, str]:
    """Read ``Name`` and ``Version`` from the metadata headers (no email parser)."""
    for filename in ("METADATA", "PKG-INFO"):
        text = _read(os.path.join(folder, filename))
        if text is None:
            continue
        name = raw_name
        for line in text.splitlines():
            if not line.strip():
                break  # end of the headers
            key, _, value = line.partition(":")
            if key == "Name":
                name = value.strip()
            elif key == "Version":
                version = value.strip()
        return name, version
    return raw_name, version


def _scan_other(group: str, path: str, seen: set[str]) -> Iterable[Provider]:
    """Read a sys.path entry that is not a directory (a zip) through importlib.metadata."""
    import importlib.metadata  # noqa: PLC0415 - rare: only for zipped distributions

    for dist in importlib.metadata.distributions(path=[path]):
        name = dist.metadata["Name"] or ""
        if not name or normalize_distribution(name) in seen:
            continue
        seen.add(normalize_distribution(name))
        for ep in dist.entry_points:
            if ep.group == group:
                yield Provider(ep.name, ep.value, name, dist.version or "")


def parse_section(text: str, group: str) -> list[tuple[str, str]]:
    """Return ``(name, value)`` pairs of one section of an ``entry_points.txt``."""
    pairs: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def load_reference(value: str) -> t.Any:
    """Import what an entry-point value names: ``module``, ``module:attr.attr``."""
    import importlib  # noqa: PLC0415

    reference = value.split("[", 1)[0].strip()  # drop extras
    module_name, _, attributes = reference.partition(":")
    target: t.Any = importlib.import_module(module_name.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        target = getattr(target, attribute)
    return target


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


# -- the cache -------------------------------------------------------------------------


def _path_state(paths: Sequence[str]) -> list[list[t.Any]]:
    state: list[list[t.Any]] = []
    for path in paths:
        try:
            state.append([path, os.stat(path or ".").st_mtime_ns])
        except OSError:  # noqa: PERF203 - a missing entry is part of the state
            state.append([path, None])
    return state


def cache_directory() -> str | None:
    """Return where the cache lives, or None when ``TURNOUT_NO_CACHE`` is set."""
    if os.environ.get("TURNOUT_NO_CACHE", "").strip() not in ("", "0"):
        return None
    configured = os.environ.get("TURNOUT_CACHE_DIR")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "turnout")


def _cache_file(group: str, paths: Sequence[str]) -> str | None:
    directory = cache_directory()
    if directory is None:
        return None
    import zlib  # noqa: PLC0415 - cheaper than hashlib; the file itself holds the full key

    key = "\0".join([str(CACHE_FORMAT), sys.executable, group, *paths]).encode(
        "utf-8", "surrogatepass"
    )
    digest = f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}"
    return os.path.join(directory, f"entry-points-{digest}.json")


def _read_cache(path: str, state: list[list[t.Any]], group: str) -> list[Provider] | None:
    import json  # noqa: PLC0415

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if (data["format"], data["group"], data["state"]) != (CACHE_FORMAT, group, state):
            return None
        return [Provider(*map(str, row)) for row in data["entry_points"] if len(row) == 4]  # noqa: PLR2004
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: rescan


def _write_cache(
    path: str, state: list[list[t.Any]], group: str, providers: Sequence[Provider]
) -> None:
    import json  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    rows = [[p.name, p.value, p.distribution, p.version] for p in providers]
    data = {"format": CACHE_FORMAT, "group": group, "state": state, "entry_points": rows}
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    except OSError:
        return  # an unwritable cache only costs speed
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream)
        os.replace(temporary, path)  # atomic: readers see the old file or the new one
    except OSError:
        try:  # noqa: SIM105 - contextlib would cost import time
            os.remove(temporary)
        except OSError:
            pass
