"""Installed entry-point metadata, read as `importlib.metadata` reads it, cached on disk.

Reading a group's entry points through `importlib.metadata` costs its import
(tens of milliseconds) plus a parse of every distribution. This module reads
the same files directly, with the same rules: for each directory on
``sys.path``, every ``*.dist-info`` / ``*.egg-info`` folder (any case), and
``EGG-INFO`` inside an ``.egg`` directory; the first distribution of each name
wins; ``Name`` and ``Version`` come from the first such header of ``METADATA``
(else ``PKG-INFO``), whatever its case. Zip files on ``sys.path``, and any
``sys.meta_path`` finder besides the standard one that provides distributions,
go through `importlib.metadata` itself.

The result is cached on disk, per directory and per distribution: a warm read
costs one ``stat`` per directory and per ``entry_points.txt``, and any change
(an install, an uninstall, an in-place rewrite, an upgrade within the same
second) is seen because size, ``mtime_ns`` and inode are compared. A cached row
is only a hint: before a backend is imported its row is read again from its own
files (`verify`). A missing, damaged, foreign or unwritable cache only costs
speed. ``TURNOUT_NO_CACHE=1`` disables it, ``TURNOUT_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Sequence

from turnout import _lazytyping as t
from turnout._names import normalize_distribution
from turnout._trust import Provider

CACHE_FORMAT = 2
MAX_CACHE_BYTES = 32 * 1024 * 1024  # a bigger file is not ours: ignore it
_SUFFIXES = (".dist-info", ".egg-info")
_METADATA_FILES = ("METADATA", "PKG-INFO")


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
            distributions=sum(len(entry["dists"]) for entry in reader.state.values()),
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


class Reader:
    """One scan of ``sys.path`` for one group, reusing what a previous scan found.

    `state` is what the cache stores: per directory, its ``mtime_ns`` and its
    metadata folders; per folder, the signature of its ``entry_points.txt``
    and, when it provides the group, its rows and where its name came from.
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
        seen: set[str] = set()
        for path in paths:
            try:
                mode = os.stat(path).st_mode
            except (OSError, ValueError):
                continue
            if stat.S_ISDIR(mode):
                providers.extend(self._directory(path, seen))
            else:
                providers.extend(_other(self.group, path, seen))
        if set(self.state) != set(self._previous):
            self.changed = True
        return providers

    def _directory(self, path: str, seen: set[str]) -> Iterable[Provider]:
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return
        old = self._previous.get(path)
        if type(old) is not dict:
            old = None
        folders = old.get("folders") if old is not None and old.get("mtime") == mtime else None
        if not _valid_folders(folders):
            folders = _metadata_folders(path)
            self.changed = True
        known = old.get("dists") if old is not None else None
        if type(known) is not dict:
            known = {}
        dists: dict[str, t.Any] = {}
        self.state[path] = {"mtime": mtime, "folders": folders, "dists": dists}
        prefix = path if path.endswith(os.sep) else path + os.sep
        for folder, key in folders:  # type: ignore[union-attr]
            if key is not None and key in seen:
                continue  # an earlier entry of sys.path provides this distribution
            location = prefix + folder
            record, cached = self._folder(location, key, known.get(folder))
            dists[folder] = record
            dedupe = key if key is not None else normalize_distribution(record["name"] or "")
            if dedupe in seen:
                continue
            if dedupe:  # a folder whose name and metadata give no name is never a duplicate
                seen.add(dedupe)
            name = record["name"] if record["name"] is not None else fallback_name(folder)
            for entry_name, value in record["rows"]:
                yield Provider(
                    entry_name, value, name, record["version"], path=location, cached=cached
                )

    def _folder(self, folder: str, key: str | None, old: object) -> tuple[dict[str, t.Any], bool]:
        """Return the record of one metadata folder, and whether it came from the cache.

        Its files are read again only if their signatures changed; its metadata
        matters (and is checked) only when it provides the group, or when its
        name must come from it. A cached record of the wrong shape is read again.
        """
        points = file_signature(folder + os.sep + "entry_points.txt")
        if type(old) is dict and old.get("points") == points and _valid_record(old):
            if not old["rows"] and key is not None:
                return old, True
            if old["meta"] == metadata_signature(folder):
                return old, True
        self.changed = True
        self.read += 1
        text = _read(folder + os.sep + "entry_points.txt") if points is not None else None
        rows = parse_section(text, self.group) if text and self._header in text else []
        name, version, meta = None, "", None
        if rows or key is None:
            meta = metadata_signature(folder)
            name, version = read_name_and_version(folder)
        record = {"points": points, "meta": meta, "rows": rows, "name": name, "version": version}
        return record, False


def fallback_name(folder: str) -> str:
    """Return the name a metadata folder's own name gives (``foo-1.0.dist-info``: ``foo``)."""
    base = os.path.basename(folder)
    return base.rpartition(".")[0].partition("-")[0] or base


def _metadata_folders(path: str) -> list[list[t.Any]]:
    """Return ``[folder, dedupe key or None]`` for the metadata folders in one directory.

    As `importlib.metadata`: ``*.dist-info``/``*.egg-info`` in any case, and
    ``EGG-INFO`` when the directory itself is an ``.egg``. The key is the
    normalised name from the folder's name, or None when the folder's name
    does not give one (upper-case suffix, ``EGG-INFO``) and its metadata must.
    """
    try:
        children = sorted(os.listdir(path))
    except OSError:
        return []
    is_egg = os.path.basename(path).lower().endswith(".egg")
    folders: list[list[t.Any]] = []
    for child in children:
        low = child.lower()
        if low.endswith(_SUFFIXES):
            exact = child.endswith(_SUFFIXES)  # importlib takes the name from an exact suffix only
            stem = child.rpartition(".")[0].partition("-")[0]
            folders.append([child, normalize_distribution(stem) if exact else None])
        elif is_egg and low == "egg-info":
            folders.append([child, None])
    return folders


def _other(group: str, path: str, seen: set[str]) -> Iterable[Provider]:
    """Read a sys.path entry that is not a directory (a zip) through importlib.metadata."""
    import importlib.metadata  # noqa: PLC0415 - rare: only for zipped distributions

    for dist in importlib.metadata.distributions(path=[path]):
        name = dist.metadata["Name"] or ""
        if not name or normalize_distribution(name) in seen:
            continue
        seen.add(normalize_distribution(name))
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
    """Read ``Name`` and ``Version`` as `email` does for `importlib.metadata`.

    Header names in any case, the first of each header wins, folded lines
    continue a value; ``METADATA``, else ``PKG-INFO``.
    """
    for filename in _METADATA_FILES:
        text = _read(os.path.join(folder, filename))
        if not text:
            continue
        headers = _headers(text)
        return headers.get("name"), headers.get("version", "")
    return None, ""


def _headers(text: str) -> dict[str, str]:
    """Return the first value of each header, by lower-case name (continuations joined)."""
    headers: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip():
            break  # the body starts
        if line[0] in " \t" and headers:
            headers[-1][1] += " " + line.strip()
            continue
        key, colon, value = line.partition(":")
        if not colon:
            break  # not a header: email takes the rest as the body
        headers.append([key.strip().lower(), value.strip()])
    found: dict[str, str] = {}
    for key, value in headers:
        found.setdefault(key, value)
    return found


def metadata_signature(folder: str) -> list[int] | None:
    """Return the signature of the metadata file `importlib.metadata` would read."""
    for filename in _METADATA_FILES:
        signature = file_signature(os.path.join(folder, filename))
        if signature is not None and signature[0]:
            return signature
    return None


def file_signature(path: str) -> list[int] | None:
    """Return ``[size, mtime_ns, inode]`` of a file, None if there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


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
    """Return where the cache lives, or None when ``TURNOUT_NO_CACHE`` is set."""
    if os.environ.get("TURNOUT_NO_CACHE", "").strip() not in ("", "0"):
        return None
    configured = os.environ.get("TURNOUT_CACHE_DIR")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "turnout")


def debug(message: str, *args: object) -> None:
    """Log at DEBUG on the ``turnout`` logger, if `logging` is in use at all (never imports it)."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("turnout").debug(message, *args)


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
        import zlib  # noqa: PLC0415 - cheaper than hashlib; the file holds the full key

        interpreter = sys.executable or sys.prefix or ""
        key = [str(CACHE_FORMAT), interpreter, sys.version, group, *paths]
        blob = "\0".join(key).encode("utf-8", "surrogatepass")
        digest = f"{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}"
        return cls(os.path.join(directory, f"entry-points-{digest}.txt"), key)

    def read(self) -> dict[str, t.Any] | None:
        """Return the cached state, or None if it is missing, damaged, foreign or stale.

        Its parts are checked where they are used (`Reader`): a part of the wrong
        shape is read again from disk.
        """
        data = self._load()
        if type(data) is not dict or data.get("format") != CACHE_FORMAT:
            return None
        if data.get("key") != self.key or type(data.get("dirs")) is not dict:
            return None
        dirs: dict[str, t.Any] = data["dirs"]
        return dirs

    def _load(self) -> object:
        """Read the file: a regular file of ours, of bounded size (see `decode`)."""
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
            while size <= info.st_size and size <= MAX_CACHE_BYTES:
                chunk = os.read(handle, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size != info.st_size:
                return None  # it changed while read, or is bigger than allowed
            return decode(b"".join(chunks))
        except OSError:
            return None
        finally:
            os.close(handle)

    def write(self, state: dict[str, t.Any]) -> None:
        """Write `state` atomically (readers see the old file or the new one), mode 0600."""
        directory = os.path.dirname(self.path)
        if not _own_directory(directory):
            return
        temporary = f"{self.path}.{os.getpid()}.{id(state)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            blob = encode(self.key, state)
            handle = os.open(temporary, flags, 0o600)
        except (OSError, ValueError):
            return  # an unwritable cache only costs speed
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(blob)
            os.replace(temporary, self.path)
        except OSError:
            try:  # noqa: SIM105 - contextlib would cost import time
                os.remove(temporary)
            except OSError:
                pass


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


def _valid_folders(folders: object) -> bool:
    """Check the shape of a cached directory listing."""
    return type(folders) is list and all(
        type(folder) is list
        and len(folder) == 2  # noqa: PLR2004 - [folder, key]
        and type(folder[0]) is str
        and (folder[1] is None or type(folder[1]) is str)
        for folder in folders
    )


def _valid_record(record: dict[str, t.Any]) -> bool:
    """Check the shape of a cached folder record before it is used."""
    rows, name, version = record.get("rows"), record.get("name"), record.get("version")
    return (
        type(rows) is list
        and all(
            type(row) is list and len(row) == 2 and type(row[0]) is str and type(row[1]) is str  # noqa: PLR2004
            for row in rows
        )
        and (name is None or type(name) is str)
        and type(version) is str
    )


# -- the cache file format ---------------------------------------------------------------
#
# One record per line, fields separated by tabs, each field escaped with the
# ``unicode_escape`` codec (so no field holds a tab or a newline) and tagged:
# ``S`` text, ``N`` None, ``L`` a signature ``size,mtime_ns,inode``. Lines:
#
#     turnout-cache <format>        K <key part>...
#     D <directory> <mtime_ns>      F <folder> <dedupe key>
#     R <folder> <points> <meta> <name> <version>
#     E <entry point name> <value>  (a row of the R line above)
#
# Reading it is linear, needs no import (`json` imports `re`, milliseconds on a
# first backend call) and cannot be made to allocate more than the file holds,
# which `marshal` and deep nesting could.


def _field(value: object) -> str:
    if value is None:
        return "N"
    if isinstance(value, list):
        return "L" + ",".join(str(int(v)) for v in value)
    return "S" + str(value).encode("unicode_escape").decode("ascii")


def _unfield(text: str) -> t.Any:
    tag, body = text[:1], text[1:]
    if tag == "N":
        return None
    if tag == "L":
        return [int(v) for v in body.split(",")]
    if tag == "S":
        return body.encode("ascii").decode("unicode_escape")
    raise ValueError(text)


def encode(key: Sequence[str], state: dict[str, t.Any]) -> bytes:
    """Return the cache file's bytes for `key` and `state` (see `Reader.state`)."""
    lines = [f"turnout-cache\t{CACHE_FORMAT}", "\t".join(["K", *map(_field, key)])]
    for path, entry in state.items():
        lines.append("\t".join(["D", _field(path), str(entry["mtime"])]))
        lines.extend("\t".join(["F", _field(f), _field(k)]) for f, k in entry["folders"])
        for folder, record in entry["dists"].items():
            fields = [folder, record["points"], record["meta"], record["name"], record["version"]]
            lines.append("\t".join(["R", *map(_field, fields)]))
            lines.extend("\t".join(["E", _field(n), _field(v)]) for n, v in record["rows"])
    return ("\n".join(lines) + "\n").encode("ascii")


def decode(blob: bytes) -> dict[str, t.Any] | None:
    """Return ``{"format", "key", "dirs"}`` read from a cache file, None if it is damaged."""
    try:
        lines = blob.decode("ascii").split("\n")
        head = lines[0].split("\t")
        if head[0] != "turnout-cache" or int(head[1]) != CACHE_FORMAT:
            return None
        key_line = lines[1].split("\t")
        if key_line[0] != "K":
            return None
        dirs: dict[str, t.Any] = {}
        directory: dict[str, t.Any] | None = None
        record: dict[str, t.Any] | None = None
        for line in lines[2:]:
            if not line:
                continue
            kind, *fields = line.split("\t")
            if kind == "D":
                directory = {"mtime": int(fields[1]), "folders": [], "dists": {}}
                dirs[_unfield(fields[0])] = directory
            elif kind == "F" and directory is not None:
                directory["folders"].append([_unfield(fields[0]), _unfield(fields[1])])
            elif kind == "R" and directory is not None:
                folder, points, meta, name, version = map(_unfield, fields)
                record = {"points": points, "meta": meta, "name": name, "version": version}
                record["rows"] = []
                directory["dists"][folder] = record
            elif kind == "E" and record is not None:
                record["rows"].append([_unfield(fields[0]), _unfield(fields[1])])
            else:
                return None
        return {"format": CACHE_FORMAT, "key": [_unfield(f) for f in key_line[1:]], "dirs": dirs}
    except (ValueError, IndexError, TypeError, UnicodeError):
        return None
