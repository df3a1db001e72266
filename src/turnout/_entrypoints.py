"""Installed entry-point metadata, read as `importlib.metadata` reads it, cached on disk."""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterable, Sequence

from turnout import _lazytyping as t
from turnout._log import debug
from turnout._names import normalize_distribution
from turnout._trust import Provider

CACHE_FORMAT = 3
MAX_CACHE_FILES = 64
MAX_CACHE_BYTES = 1 << 20
"""The cache folder's bound, with `MAX_CACHE_FILES`; so also the largest file read as ours."""
SETTLE_NS = 2_000_000_000
"""How long after a change a directory's mtime may still hide another (FAT counts in 2 s)."""
_SUFFIXES = (".dist-info", ".egg-info")
_METADATA_FILES = ("METADATA", "PKG-INFO")
_PREFIX = "entry-points-"
_SEP = "\x1f"  # between the items of a list field; `_escape` keeps it out of items
_WRITTEN_ESCAPES = frozenset("\\tnrxuU")  # what follows a backslash in ``unicode_escape``
_CRASHED_NS = 600_000_000_000  # a temporary this old was left by a writer that crashed


def search_path(paths: Iterable[object] | None = None) -> list[str]:
    """Return ``sys.path`` as directories to read: strings, ``''`` as the current directory.

    `pathlib.Path` and ``bytes`` entries are converted as the import system
    converts them; anything else is skipped.
    """
    result: list[str] = []
    for entry in sys.path if paths is None else paths:
        path = _as_text(entry)
        if path is not None:
            result.append(os.path.abspath(path) if path in ("", ".") else path)
    return result


def _as_text(entry: object) -> str | None:
    if isinstance(entry, str):
        return entry
    try:
        path = os.fspath(entry)  # type: ignore[call-overload]
    except TypeError:
        return None
    return os.fsdecode(path) if isinstance(path, bytes) else path


# Finders that read the same metadata folders on sys.path as the stdlib's: the
# `importlib_metadata` backport installs its own when imported (Python < 3.12 needs
# it often), and turnout's scan still sees exactly what it sees.
_PATH_FINDERS = {
    ("_frozen_importlib_external", "PathFinder"),
    ("importlib._bootstrap_external", "PathFinder"),
    ("importlib_metadata", "MetadataPathFinder"),
}


def standard_finders_only() -> bool:
    """Whether every finder on ``sys.meta_path`` that yields distributions reads ``sys.path``."""
    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is None:
            continue
        kind = finder if isinstance(finder, type) else type(finder)
        if (getattr(kind, "__module__", ""), getattr(kind, "__name__", "")) in _PATH_FINDERS:
            continue
        return False
    return True


def entry_points(
    group: str, *, fresh: bool = False, stats: dict[str, t.Any] | None = None
) -> list[Provider]:
    """Return the providers of `group` on the current ``sys.path``.

    With `fresh`, the disk cache is not read (but is rewritten). `stats`, if
    given, receives what the scan looked at (for the DEBUG log): the number of
    ``sys.path`` entries, of distributions, of metadata folders read from disk
    (the rest came from the cache), and where the answer came from.
    """
    if not standard_finders_only():
        if stats is not None:
            stats["source"] = "importlib.metadata (a custom finder is on sys.meta_path)"
        return _from_importlib(group)
    paths = search_path()
    cache = Cache.open(group, paths)
    previous = None if cache is None or fresh else cache.read()
    reader = Reader(group, previous)
    providers = reader.scan(paths)
    if cache is not None and reader.changed:
        cache.write(reader.state)
    if stats is not None:
        stats.update(
            paths=len(paths),
            distributions=sum(entry["count"] for entry in reader.state.values()),
            read=reader.read,
            source="the disk cache"
            if previous is not None
            else ("disk (cache off)" if cache is None else "disk"),
        )
    return providers


def scan(group: str, paths: Sequence[object]) -> list[Provider]:
    """Read `group`'s entry points from every distribution found on `paths` (no cache)."""
    return Reader(group, None).scan(search_path(paths))


def _from_importlib(group: str) -> list[Provider]:
    """Ask `importlib.metadata` (for distributions a custom finder provides).

    Each distribution's ``entry_points.txt`` is read with the same rules as the
    scan (so an entry point importlib would reject on loading is still reported,
    and refused by the checks that follow, instead of failing the whole group),
    and its name and version with ``.get`` (a missing header is no error).
    """
    import importlib.metadata  # noqa: PLC0415 - only with a non-standard finder

    providers: list[Provider] = []
    seen: set[str] = set()
    header = f"[{group}]"
    for dist in importlib.metadata.distributions():
        meta = dist.metadata
        name = _first(meta, "Name")
        key = normalize_distribution(name) if name else ""
        if key:
            if key in seen:
                continue  # an earlier finder or path entry provides it (importlib's rule)
            seen.add(key)
        try:
            text = dist.read_text("entry_points.txt")
        except (OSError, UnicodeDecodeError) as error:
            debug("turnout: cannot read the entry points of %s: %s", name or dist, error)
            continue
        if not text or header not in text:
            continue
        version = _first(meta, "Version")
        providers.extend(
            Provider(entry_name, value, name, version)
            for entry_name, value in parse_section(text, group)
        )
    return providers


def _first(meta: t.Any, header: str) -> str:
    """Return the first `header` of importlib metadata, or "" (never a missing-key warning)."""
    values = meta.get_all(header) if meta is not None else None
    return str(values[0]) if values else ""


# What a scan with a cache checks, and why that is enough (docs: entry-points):
#
# - each directory's mtime_ns: an install or an uninstall adds or removes a
#   metadata folder, which changes it; a directory listed less than SETTLE_NS
#   after its mtime is listed again next time, since a second change within
#   the same timestamp would not show;
# - the files of the folders that provide the group, and of every *.egg-info
#   (setuptools rewrites those in place): size, mtime_ns and inode of
#   entry_points.txt and METADATA. A provider's folder that vanished (an upgrade
#   within one timestamp) lists the directory again;
# - nothing of the other folders: a *.dist-info is written whole by its
#   installer and removed whole by an uninstall, so a new entry point arrives
#   with a new listing. A new listing compares every entry_points.txt with its
#   signature (a reinstall of the same version keeps the folder's name).
#
# A cached row is still only a hint: before a backend is imported, `verify`
# reads its row again from its own files.


class Reader:
    """One scan of ``sys.path`` for one group, reusing what a previous scan found.

    `state` is what the cache stores, per directory: ``mtime`` (None while a
    change may hide in the same timestamp), ``count`` metadata folders, their
    dedupe ``keys``, their names (``folders``) and the signatures of their
    ``entry_points.txt`` (``points``; these two are read only to list the
    directory again), each joined by `_SEP`; and ``dists``: the record of each
    folder checked on every scan (providers of the group, ``*.egg-info``), with
    its rows and where its name came from.
    """

    def __init__(self, group: str, previous: dict[str, t.Any] | None) -> None:
        self.group = group
        self._header = f"[{group}]"
        self._previous: dict[str, t.Any] = previous or {}
        self.state: dict[str, t.Any] = {}
        self.changed = previous is None
        self.read = 0  # metadata folders read from disk (not from the cache)

    def scan(self, paths: Sequence[str]) -> list[Provider]:
        """Return the providers found on `paths`, first distribution of each name winning."""
        providers: list[Provider] = []
        seen = _Seen()
        for path in paths:
            try:
                info = os.stat(path)
            except (OSError, ValueError):
                continue
            if stat.S_ISDIR(info.st_mode):
                providers.extend(self._directory(path, info.st_mtime_ns, seen))
            else:
                providers.extend(_other(self.group, path, seen.as_set()))
        if set(self.state) != set(self._previous):
            self.changed = True
        return providers

    def _directory(self, path: str, mtime: int, seen: _Seen) -> list[Provider]:
        old = self._previous.get(path)
        entry: dict[str, t.Any] | None = self.state.get(path)  # twice on sys.path: read once
        if entry is None:
            holds = old is not None and self._holds(path, mtime, old)
            entry = old if old is not None and holds else self._list(path, mtime, old)
            self.state[path] = entry
        providers: list[Provider] = []
        prefix = path if path.endswith(os.sep) else path + os.sep
        for folder, record in entry["dists"].items():
            if not record["rows"] or (record["key"] and record["key"] in seen.as_set()):
                continue  # provides nothing, or an earlier entry of sys.path has it
            name = record["name"] if record["name"] is not None else fallback_name(folder)
            cached = old is not None and old["dists"].get(folder) is record
            providers.extend(
                Provider(n, value, name, record["version"], path=prefix + folder, cached=cached)
                for n, value in record["rows"]
            )
        seen.add(entry["keys"])
        return providers

    def _holds(self, path: str, mtime: int, old: dict[str, t.Any]) -> bool:
        """Whether a cached directory still holds: its mtime, and its watched folders' files."""
        if old["mtime"] != mtime:
            return False
        prefix = path if path.endswith(os.sep) else path + os.sep
        return all(
            file_signature(prefix + folder + os.sep + "entry_points.txt") == record["points"]
            and metadata_signature(prefix + folder) == record["meta"]
            for folder, record in old["dists"].items()
        )

    def _list(self, path: str, mtime: int, old: dict[str, t.Any] | None) -> dict[str, t.Any]:
        """List a directory, reading only the folders whose ``entry_points.txt`` changed."""
        self.changed = True
        listed_at = time.time_ns()
        before = _unpack(old)
        old_dists: dict[str, t.Any] = old["dists"] if old is not None else {}
        prefix = path if path.endswith(os.sep) else path + os.sep
        folders: list[str] = []
        keys: list[str] = []
        points: list[str] = []
        dists: dict[str, t.Any] = {}
        first: set[str] = set()
        for child, named, watched in _metadata_folders(path):
            key, signature = named, ""
            if key is None or key not in first:  # importlib reads the first of a name only
                signature = file_signature(prefix + child + os.sep + "entry_points.txt")
                key, record = self._folder(
                    prefix + child,
                    named,
                    signature,
                    watched,
                    before=before.get(child),
                    old=old_dists.get(child),
                )
                if record is not None and not (key and key in first):
                    dists[child] = record
                if key:
                    first.add(key)
            folders.append(child)
            keys.append(key)
            points.append(signature)
        settled = listed_at - mtime >= SETTLE_NS
        return {
            "mtime": mtime if settled else None,
            "count": len(folders),
            "keys": _SEP.join(keys),
            "folders": _SEP.join(map(_escape, folders)),
            "points": _SEP.join(points),
            "dists": dists,
        }

    def _folder(
        self,
        folder: str,
        key: str | None,
        signature: str,
        watched: bool,
        *,
        before: tuple[str, str] | None,
        old: dict[str, t.Any] | None,
    ) -> tuple[str, dict[str, t.Any] | None]:
        """Return a folder's dedupe key and its record (None: not a provider, not watched).

        Its files are read again only if their signatures changed; its metadata
        is read when it provides the group, is watched, or its name must come
        from it (the key is then its normalised ``Name``, "" for none).
        """
        if before is not None and before[1] == signature:
            if old is None and not watched:
                return before[0], None
            if old is not None and old["meta"] == metadata_signature(folder):
                return old["key"], old
        self.read += 1
        text = _read(folder + os.sep + "entry_points.txt") if signature else None
        rows = parse_section(text, self.group) if text and self._header in text else []
        name, version, meta = None, "", ""
        if rows or watched or key is None:
            meta = metadata_signature(folder)
            name, version = read_name_and_version(folder)
        if key is None:
            key = _escape(normalize_distribution(name or ""))
        if not rows and not watched:
            return key, None
        record = {
            "key": key,
            "points": signature,
            "meta": meta,
            "rows": rows,
            "name": name,
            "version": version,
        }
        return key, record


class _Seen:
    """The dedupe keys of the directories scanned so far, made a set when first asked.

    Providers usually sit in the last directory that has any, so the set of
    the keys before it (0.3 ms for 5,000) is seldom built.
    """

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._pending: list[str] = []

    def add(self, keys: str) -> None:
        self._pending.append(keys)

    def as_set(self) -> set[str]:
        if self._pending:
            for keys in self._pending:
                self._keys.update(keys.split(_SEP))
            self._pending.clear()
            self._keys.discard("")  # a folder with no name is never a duplicate
        return self._keys


def _metadata_folders(path: str) -> list[tuple[str, str | None, bool]]:
    """Return ``(folder, dedupe key, watched)`` of each metadata folder, in importlib's order.

    As `importlib.metadata`: ``*.dist-info``/``*.egg-info`` in any case, grouped
    by the name their folder's name gives, groups in the directory's listing
    order; then ``EGG-INFO`` when the directory is an ``.egg``. The key is the
    normalised name from the folder's name as ``os.path.splitext`` splits it, or
    None when that gives none (a suffix not in lower case, ``EGG-INFO``, no name
    before the ``-``): the metadata's ``Name`` then. ``*.egg-info`` folders are
    watched, since setuptools rewrites them in place.
    """
    try:
        children = os.listdir(path)
    except (OSError, ValueError):
        return []
    groups: dict[str, list[tuple[str, str | None, bool]]] = {}
    eggs: list[tuple[str, str | None, bool]] = []
    is_egg = os.path.basename(path).lower().endswith(".egg")
    for child in children:
        low = child.lower()
        if low.endswith(_SUFFIXES):
            root = child.rpartition(".")[0]
            name = root.partition("-")[0] if child.endswith(_SUFFIXES) and root.strip(".") else ""
            plain = normalize_distribution(name or low.rpartition(".")[0].partition("-")[0])
            key = _escape(plain) if name else None
            groups.setdefault(plain, []).append((child, key, low.endswith(".egg-info")))
        elif is_egg and low == "egg-info":
            eggs.append((child, None, True))
    return [folder for group in groups.values() for folder in group] + eggs


def _unpack(old: dict[str, t.Any] | None) -> dict[str, tuple[str, str]]:
    """Return ``{folder: (dedupe key, entry_points.txt signature)}`` of a cached listing.

    Empty when there is none or it is damaged: then every folder is read.
    """
    if old is None or not old["count"]:
        return {}
    try:
        folders = [_unescape(folder) for folder in old["folders"].split(_SEP)]
    except (ValueError, UnicodeError):
        return {}
    keys, points = old["keys"].split(_SEP), old["points"].split(_SEP)
    return {folder: (key, point) for folder, key, point in zip(folders, keys, points, strict=True)}


def fallback_name(folder: str) -> str:
    """Return the name a metadata folder's own name gives (``foo-1.0.dist-info``: ``foo``)."""
    base = os.path.basename(folder)
    return base.rpartition(".")[0].partition("-")[0] or base


def _other(group: str, path: str, seen: set[str]) -> Iterable[Provider]:
    """Read a sys.path entry that is not a directory (a zip) through importlib.metadata."""
    import importlib.metadata  # noqa: PLC0415 - rare: only for zipped distributions

    for dist in importlib.metadata.distributions(path=[path]):
        name = dist.metadata["Name"] or ""
        key = _escape(normalize_distribution(name))
        if not name or key in seen:
            continue
        seen.add(key)
        for point in dist.entry_points:
            if point.group == group:
                yield Provider(point.name, point.value, name, dist.version or "")


def parse_section(text: str, group: str) -> list[list[str]]:
    """Return ``[name, value]`` pairs of one section of an ``entry_points.txt``.

    The rules of `importlib.metadata`: lines are stripped, blank lines and
    ``#`` comments skipped, a ``[...]`` line starts a section named by it with
    the brackets stripped, and ``name = value`` splits at the first ``=``.
    """
    pairs: list[list[str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line.strip("[]") == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            pairs.append([name.strip(), value.strip()])
    return pairs


def read_name_and_version(folder: str) -> tuple[str | None, str]:
    """Read ``Name`` and ``Version`` as `importlib.metadata` does.

    From ``METADATA``, else ``PKG-INFO``; headers as `email` reads them (names
    in any case, the first of each wins), a folded value dedented as
    importlib's metadata adapter does. A file that is not UTF-8 counts as
    missing (importlib raises).
    """
    for filename in _METADATA_FILES:
        text = _read(os.path.join(folder, filename))
        if not text:
            continue
        headers = _headers(text)
        name, version = headers.get("name"), headers.get("version", "")
        return (None if name is None else _redent(name)), _redent(version)
    return None, ""


def _headers(text: str) -> dict[str, str]:
    """Return the first value of each header, by lower-case name, as `email` gives it.

    The rules of ``email.message_from_string`` (policy ``compat32``, what
    `importlib.metadata` uses) for text read in text mode (lines end at line
    feeds): the headers end at the first line that is neither ``name:`` (a
    name of printable ASCII other than ``:``), nor a continuation (it starts
    with a space or a tab), nor ``From ...`` (skipped); a value loses the spaces
    and tabs after the colon and keeps its continuation lines, newlines included.
    """
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # no line after the last newline
    found: dict[str, str] = {}
    current: list[str] = []  # the lines of the header being read
    for line in lines:
        if not _is_header_line(line):
            break  # the body starts
        if line[0] in " \t":
            if current:  # a continuation of no header is dropped
                current.append(line)
            continue
        if current:
            _keep(found, current)
        current = [] if line.startswith(("From ", ":")) else [line]
    if current:
        _keep(found, current)
    return found


def _is_header_line(line: str) -> bool:
    """Whether `email` reads `line` as part of the headers (its ``headerRE``)."""
    if line.startswith(("From ", " ", "\t")):
        return True
    for char in line:
        if char == ":":
            return True
        if not "!" <= char <= "~":
            return False
    return False


def _keep(found: dict[str, str], lines: list[str]) -> None:
    """Add one header read from its `lines`, unless an earlier one has its name."""
    name, _, first = lines[0].partition(":")
    found.setdefault(name.lower(), "\n".join([first.lstrip(" \t"), *lines[1:]]).rstrip("\n"))


def _redent(value: str) -> str:
    """Return a folded value as importlib gives it: ``textwrap.dedent(" " * 8 + value)``.

    What ``importlib.metadata._adapters.Message`` does "for RFC 822
    indentation"; `textwrap` would import `re`.
    """
    if "\n" not in value:
        return value
    lines = [line if line.strip(" \t") else "" for line in (" " * 8 + value).split("\n")]
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line]
    margin = os.path.commonprefix(indents)  # noqa: RUF071 - a character prefix is meant
    return "\n".join(line.removeprefix(margin) for line in lines)


def metadata_signature(folder: str) -> str:
    """Return the signature of the metadata file `importlib.metadata` would read ("" if none)."""
    for filename in _METADATA_FILES:
        signature = file_signature(os.path.join(folder, filename))
        if signature and not signature.startswith("0,"):
            return signature
    return ""


def file_signature(path: str) -> str:
    """Return ``size,mtime_ns,inode`` of a regular file, "" if there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return ""
    if not stat.S_ISREG(info.st_mode):
        return ""
    return f"{info.st_size},{info.st_mtime_ns},{info.st_ino}"


def verify(provider: Provider, group: str) -> bool:
    """Read a cached provider's row again from its own files; is it what the cache said."""
    if provider.path is None:
        return True
    text = _read(os.path.join(provider.path, "entry_points.txt"))
    if text is None or [provider.name, provider.value] not in parse_section(text, group):
        return False
    name, version = read_name_and_version(provider.path)
    if name is None:
        name = fallback_name(provider.path)
    return (name, version) == (provider.distribution, provider.version)


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
    except (OSError, UnicodeDecodeError, ValueError):
        return None


# -- the cache -------------------------------------------------------------------------


def cache_directory() -> str | None:
    r"""Return where the cache lives, or None when ``TURNOUT_NO_CACHE`` is set.

    ``TURNOUT_CACHE_DIR`` if set, else the platform's cache folder:
    ``~/Library/Caches/turnout`` on macOS, ``%LOCALAPPDATA%\turnout\Cache`` on
    Windows, ``$XDG_CACHE_HOME/turnout`` (default ``~/.cache/turnout``) elsewhere.
    """
    if os.environ.get("TURNOUT_NO_CACHE", "").strip() not in ("", "0"):
        return None
    configured = os.environ.get("TURNOUT_CACHE_DIR")
    if configured:
        return configured
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "turnout")
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(local, "turnout", "Cache")
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec: a relative path is invalid, ignore it
        base = os.path.join(home, ".cache")
    return os.path.join(base, "turnout")


class Cache:
    """One cache file: its key (group, interpreter, search path) and its safe I/O."""

    def __init__(self, path: str, key: list[str]) -> None:
        self.path = path
        self.key = key

    @classmethod
    def open(cls, group: str, paths: Sequence[str]) -> Cache | None:
        """Return the cache for `group` and `paths`, or None when caching is off."""
        directory = cache_directory()
        if directory is None:
            return None
        interpreter = sys.executable or sys.prefix or ""
        key = [str(CACHE_FORMAT), interpreter, sys.version, group, *paths]
        blob = "\0".join(key).encode("utf-8", "surrogatepass")
        # The hash of ints is the same in every process (a str's is salted), and
        # needs no import (zlib's costs 0.4 ms); the file holds the full key, so
        # two keys of one name only take turns.
        digest = f"{hash(tuple(blob)) & 0xFFFF_FFFF_FFFF_FFFF:016x}"
        return cls(os.path.join(directory, f"{_PREFIX}{digest}.txt"), key)

    def read(self) -> dict[str, t.Any] | None:
        """Return the cached state, or None if it is missing, damaged, foreign or stale."""
        data = self._load()
        if data is None or data["key"] != self.key:
            return None
        dirs: dict[str, t.Any] = data["dirs"]
        return dirs

    def _load(self) -> dict[str, t.Any] | None:
        """Read the file: a regular file of ours, of bounded size (see `decode`).

        Reading it marks it used (its mtime), which is what pruning goes by.
        """
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            handle = os.open(self.path, flags)
        except OSError:
            return None
        try:
            info = os.fstat(handle)
            problem = _foreign(info)
            if problem is not None:
                debug("turnout: ignoring cache file %s: %s", self.path, problem)
                return None
            chunks, size = [], 0
            while size <= info.st_size:  # at most MAX_CACHE_BYTES (`_foreign`)
                chunk = os.read(handle, info.st_size + 1 - size)  # one byte more: has it grown?
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size != info.st_size:
                return None  # it changed while read, or is bigger than allowed
            data = decode(b"".join(chunks))
        except OSError:
            return None
        else:
            if data is not None:
                _touch(handle, self.path)
            return data
        finally:
            os.close(handle)

    def write(self, state: dict[str, t.Any]) -> None:
        """Write `state` atomically (readers see the old file or the new one), mode 0600.

        Then prune the folder to its bound; a state too big for it is not written.
        """
        directory = os.path.dirname(self.path)
        if not _own_directory(directory):
            return
        temporary = f"{self.path}.{os.getpid()}.{id(state)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            blob = encode(self.key, state)
            if len(blob) > MAX_CACHE_BYTES:
                debug("turnout: not caching %s: larger than %d bytes", self.path, MAX_CACHE_BYTES)
                return
            handle = os.open(temporary, flags, 0o600)
        except (OSError, ValueError):
            return  # an unwritable cache only costs speed
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(blob)
            os.replace(temporary, self.path)
        except OSError:
            _remove(temporary)
            return
        prune(directory, self.path)


def _touch(handle: int, path: str) -> None:
    """Set a cache file's times to now (through its descriptor where the platform can)."""
    try:  # noqa: SIM105 - contextlib would cost import time
        os.utime(handle if os.utime in os.supports_fd else path)
    except OSError:
        pass  # a read-only cache is still a cache


def prune(directory: str, keep: str) -> None:
    """Keep the cache folder within its bound, dropping the least recently used files.

    At most `MAX_CACHE_FILES` files of `MAX_CACHE_BYTES` in all, `keep` (just
    written) included. Only regular files named as this module names them are
    deleted, never through a symlink; a temporary only when a crash left it (it
    is older than ten minutes), so no other process's write is cut short. Files
    another process removes or replaces meanwhile are skipped.
    """
    now = time.time_ns()
    files: list[tuple[int, int, str]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if not entry.name.startswith(_PREFIX):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if _is_cache_file(entry.name):
                    files.append((info.st_mtime_ns, info.st_size, entry.path))
                elif _is_temporary(entry.name) and now - info.st_mtime_ns > _CRASHED_NS:
                    _remove(entry.path)
    except OSError:
        return
    # Most recently used first, the file just written before all; the first
    # file that does not fit and every older one go.
    files.sort(key=lambda file: (file[2] == keep, file[0]), reverse=True)
    count, size, fits = MAX_CACHE_FILES, MAX_CACHE_BYTES, True
    for _mtime, file_size, path in files:
        fits = fits and count >= 1 and size >= file_size
        if fits:
            count, size = count - 1, size - file_size
        else:
            _remove(path)


def _is_cache_file(name: str) -> bool:
    """Whether `name` is a cache file's: ``entry-points-<16 hex digits>.txt``."""
    digest = name[len(_PREFIX) : -len(".txt")]
    return (
        len(name) == len(_PREFIX) + 16 + len(".txt")
        and name.endswith(".txt")
        and all(char in "0123456789abcdef" for char in digest)
    )


def _is_temporary(name: str) -> bool:
    """Whether `name` is a temporary `Cache.write` makes: ``<cache file>.<pid>.<id>.tmp``."""
    base, _, rest = name.partition(".txt.")
    pid, _, tail = rest.partition(".")
    number, _, suffix = tail.partition(".")
    return _is_cache_file(base + ".txt") and pid.isdigit() and number.isdigit() and suffix == "tmp"


def _remove(path: str) -> None:
    try:  # noqa: SIM105 - contextlib would cost import time
        os.remove(path)
    except OSError:
        pass  # gone already, or in use (Windows): it only costs speed or space


def _foreign(info: os.stat_result) -> str | None:
    """Return why a cache file must not be trusted, or None."""
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > MAX_CACHE_BYTES:
        return f"larger than {MAX_CACHE_BYTES} bytes"
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        return "owned by another user"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "writable by other users"
    return None


def _own_directory(directory: str) -> bool:
    """Create the cache directory (mode 0700) if needed; say whether it is ours alone."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.lstat(directory)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    if not stat.S_ISDIR(info.st_mode):
        return False
    if getuid is not None and info.st_uid != getuid():
        debug("turnout: not writing the cache to %s: owned by another user", directory)
        return False
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        debug("turnout: not writing the cache to %s: writable by other users", directory)
        return False
    return True


# -- the cache file format ---------------------------------------------------------------
#
# One record per line, fields separated by tabs. A text field is escaped (see
# `_escape`: no tab, newline or separator in it) and tagged: ``S`` text, ``N``
# None. Lines:
#
#     turnout-cache <format>        K <key part>...
#     D <directory> <mtime_ns or N> <count> <keys> <folders> <points>
#     R <folder> <key> <points> <meta> <name> <version>
#     E <entry point name> <value>  (a row of the R line above)
#
# ``keys``, ``folders`` and ``points`` hold ``count`` escaped items joined by
# `_SEP`, kept as they are until a new listing needs them; a signature is
# ``size,mtime_ns,inode`` ("" for no file). Reading it is linear, needs no
# import (`json` imports `re`, milliseconds on a first backend call; a listing
# of 5,000 folders as lines would cost milliseconds more), and cannot be made
# to allocate much more than the file holds, which `marshal` and deep nesting
# could.


def _escape(text: str) -> str:
    """Return `text` without tabs, newlines, separators or non-ASCII (``unicode_escape``)."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text  # most names: no copy
    return text.encode("unicode_escape").decode("ascii")


def _unescape(text: str) -> str:
    """Invert `_escape` (a UnicodeError or ValueError for what it never writes).

    Only the escapes ``unicode_escape`` writes are decoded: any other (a
    backslash before ``c``, say) would make the codec warn, and a host's tests
    may turn that DeprecationWarning into an error.
    """
    at = text.find("\\")
    if at == -1:
        return text
    while at != -1:
        if text[at + 1 : at + 2] not in _WRITTEN_ESCAPES:
            raise ValueError(text)
        at = text.find("\\", at + 2)
    return text.encode("ascii").decode("unicode_escape")


def _field(value: object) -> str:
    return "N" if value is None else "S" + _escape(str(value))


def _unfield(text: str) -> str | None:
    tag, body = text[:1], text[1:]
    if tag == "N" and not body:
        return None
    if tag == "S":
        return _unescape(body)
    raise ValueError(text)


def _text(text: str) -> str:
    value = _unfield(text)
    if value is None:
        raise ValueError(text)
    return value


def _number(text: str) -> int:
    """Return a decimal integer of at most 20 digits (longer ones are not ours; slow to parse)."""
    digits = text.removeprefix("-")
    if not (0 < len(digits) <= 20 and digits.isdigit()):  # noqa: PLR2004 - 2**64 has 20 digits
        raise ValueError(text)
    return int(text)


def _length(items: str, size: int) -> int:
    """Return how many items a list field holds (one empty item, or none, when it is "")."""
    return items.count(_SEP) + 1 if items or size else 0


def encode(key: Sequence[str], state: dict[str, t.Any]) -> bytes:
    """Return the cache file's bytes for `key` and `state` (see `Reader.state`)."""
    lines = [f"turnout-cache\t{CACHE_FORMAT}", "\t".join(["K", *map(_field, key)])]
    for path, entry in state.items():
        mtime = "N" if entry["mtime"] is None else str(entry["mtime"])
        fields = [_field(path), mtime, str(entry["count"])]
        fields += [entry["keys"], entry["folders"], entry["points"]]
        lines.append("\t".join(["D", *fields]))
        for folder, record in entry["dists"].items():
            fields = [folder, record["key"], record["points"], record["meta"]]
            fields += [record["name"], record["version"]]
            lines.append("\t".join(["R", *map(_field, fields)]))
            lines.extend("\t".join(["E", _field(n), _field(v)]) for n, v in record["rows"])
    return ("\n".join(lines) + "\n").encode("ascii")


def decode(blob: bytes) -> dict[str, t.Any] | None:
    """Return ``{"format", "key", "dirs"}`` read from a cache file, None if it is damaged."""
    try:
        lines = blob.decode("ascii").split("\n")
        kind, *parts = lines[1].split("\t")
        if lines[0] != f"turnout-cache\t{CACHE_FORMAT}" or kind != "K":
            return None
        key = [_text(part) for part in parts]
        dirs: dict[str, t.Any] = {}
        directory: dict[str, t.Any] | None = None
        record: dict[str, t.Any] | None = None
        for line in lines[2:]:
            if not line:
                continue
            kind, *fields = line.split("\t")
            if kind == "D":
                path, mtime, count, keys, folders, points = fields
                size = _number(count)
                if any(_length(items, size) != size for items in (keys, folders, points)):
                    return None
                directory = {
                    "mtime": None if mtime == "N" else _number(mtime),
                    "count": size,
                    "keys": keys,
                    "folders": folders,
                    "points": points,
                    "dists": {},
                }
                dirs[_text(path)] = directory
                record = None
            elif kind == "R" and directory is not None:
                folder, found, points, meta, name, version = fields
                record = {
                    "key": _text(found),
                    "points": _text(points),
                    "meta": _text(meta),
                    "rows": [],
                    "name": _unfield(name),
                    "version": _text(version),
                }
                directory["dists"][_text(folder)] = record
            elif kind == "E" and record is not None:
                name, value = fields
                record["rows"].append([_text(name), _text(value)])
            else:
                return None
    except (ValueError, IndexError, UnicodeError):
        return None
    return {"format": CACHE_FORMAT, "key": key, "dirs": dirs}
