"""Every reader of bytes from outside turnout, fuzzed against importlib.metadata or its refusal.

Each reader gives `importlib.metadata`'s answer where it has one, or the
documented refusal (None, ``ConfigurationError``) where it has none; it never
raises anything else, never hangs (a timer interrupts it) and allocates at most
a bound proportional to its input. The suite runs each property for the
profile's examples; ``TURNOUT_FUZZ_EXAMPLES=N`` runs N of each (``python3 dev.py
fuzz``), and ``--hypothesis-show-statistics`` counts them.
"""

from __future__ import annotations

import contextlib
import email
import importlib.metadata
import itertools
import json
import os
import pathlib
import signal
import sys
import tempfile
import time
import tracemalloc
import warnings

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from turnout import BackendDispatcher, ConfigurationError
from turnout._entrypoints import (
    CACHE_FORMAT,
    Cache,
    _headers,
    decode,
    encode,
    entry_points,
    parse_section,
    read_name_and_version,
    scan,
    verify,
)
from turnout._static import StaticInfo, parse_info
from turnout._trust import parse_reserved, parse_trusted

_EXAMPLES = os.environ.get("TURNOUT_FUZZ_EXAMPLES")
fuzz = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else settings().max_examples,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    deadline=None,
)

GUARD_SECONDS = 5.0  # a reader taking this long on inputs this small hangs
PER_BYTE = 400  # bytes a reader may allocate for each byte of input ...
SLACK = 256 * 1024  # ... plus this (interpreter noise, small inputs)


class Hang(Exception):  # noqa: N818 - what happened, not an error class of ours
    """A reader ran past `GUARD_SECONDS`."""


def _interrupt(signum, frame):
    raise Hang


@contextlib.contextmanager
def bounded(size):
    """Fail if the block runs past `GUARD_SECONDS` or allocates beyond its share of `size`."""
    alarm = hasattr(signal, "setitimer")
    if alarm:
        previous = signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, GUARD_SECONDS)
    started = time.monotonic()
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < GUARD_SECONDS
    assert peak <= PER_BYTE * size + SLACK, (peak, size)


@contextlib.contextmanager
def fresh_directory():
    """A new directory per example: importlib.metadata caches listings by path and mtime."""
    with tempfile.TemporaryDirectory(prefix="turnout-fuzz-") as name:
        yield pathlib.Path(name)


def put(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")  # exactly these characters


# Text a file can hold (no lone surrogates), with the line ends and spaces that matter.
_SPICE = "\n\r\t \x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029=[]#;:"
file_text = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(_SPICE), max_size=80
)
_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\x0c", "\x85", "\u2028", "\x1c"])


def _joined(lines, ends):
    return "".join(line + end for line, end in zip(lines, itertools.cycle(ends)))


# -- entry_points.txt -------------------------------------------------------------------

GROUPS = st.sampled_from(["grp", "grp.sub", "", " grp", "g=p"]) | st.text(max_size=6)
_POINT_LINES = st.one_of(
    st.builds("[{}]".format, GROUPS),
    st.builds("{}={}".format, file_text.map(lambda t: t[:8]), file_text.map(lambda t: t[:12])),
    st.sampled_from(["# c", "; c", "", "  ", "[", "]", "=", "[grp", "grp]", "[[grp]]", "[]"]),
    file_text,
)
entry_points_text = st.one_of(
    file_text,
    st.builds(_joined, st.lists(_POINT_LINES, max_size=12), st.lists(_ENDS, min_size=1)),
)


def importlib_pairs(folder, group):
    """Return importlib's rows of `group`, or None when it raises (it has no answer)."""
    dist = importlib.metadata.PathDistribution(folder)
    try:
        return [[point.name, point.value] for point in dist.entry_points if point.group == group]
    except (ValueError, TypeError):  # a line without "=" in a section fails the whole file
        return None


def lenient(text):
    """The text without the lines importlib fails on (ours skips them)."""
    kept, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            inside = True
        elif inside and stripped and not stripped.startswith("#") and "=" not in stripped:
            continue
        kept.append(line)
    return "\n".join(kept)


@fuzz
@given(entry_points_text, GROUPS)
@example("[grp]\nname\na = b\n", "grp")
@example("[grp]\r\nx = 1\x0cy = 2\r", "grp")
@example("[[grp]]\n a = b = c \n", "grp")
def test_entry_points_txt_reads_as_importlib_reads_it(text, group):
    with fresh_directory() as root:
        folder = root / "fuzz-1.0.dist-info"
        put(folder / "METADATA", "Name: fuzz\nVersion: 1.0\n")
        put(folder / "entry_points.txt", text)
        read_back = (folder / "entry_points.txt").read_text(encoding="utf-8")
        with bounded(len(text.encode())):
            ours = parse_section(read_back, group)
        expected = importlib_pairs(folder, group)
        if expected is None:  # importlib has no answer: ours skips what it cannot read
            put(folder / "entry_points.txt", lenient(read_back))
            expected = importlib_pairs(folder, group)
        assert ours == expected


# -- METADATA headers ---------------------------------------------------------------------

_HEADER_NAMES = st.sampled_from(
    ["Name", "name", "NAME", "Version", "VERSION", "Name ", " Name", "Na me", "From", ""]
)
_HEADER_LINES = st.one_of(
    st.builds("{}:{}".format, _HEADER_NAMES, file_text.map(lambda t: t[:12])),
    st.builds("{}{}".format, st.sampled_from([" ", "\t", "  "]), file_text.map(lambda t: t[:8])),
    st.sampled_from(["", "From x", "From ", ":x", "x", "Metadata-Version: 2.1"]),
    file_text.map(lambda t: t[:16]),
)
metadata_text = st.one_of(
    file_text,
    st.builds(
        _joined,
        st.lists(_HEADER_LINES, max_size=10),
        st.lists(st.sampled_from(["\n", "\n", "\r\n", "\x0c", "\u2028"]), min_size=1),
    ),
)


@fuzz
@given(metadata_text.map(lambda text: text.replace("\r", "")))  # text mode: no \r arrives
@example("Name: a\n b\nVersion: 1\n")
@example("Name : a\nName: b\n")
@example("x\nName: a\n")
@example("Name: a  \nVersion:\t2 \n")
@example("From x\nName: a\nFrom y\nVersion: 1\nFrom z")
@example("Name: a\x0cb\n")
@example(":x\nName: a\n")
def test_metadata_headers_read_as_email_reads_them(text):
    with bounded(len(text.encode())):
        ours = _headers(text)
    message = email.message_from_string(text)
    assert (ours.get("name"), ours.get("version")) == (message.get("Name"), message.get("Version"))


@fuzz
@given(metadata_text, st.one_of(st.none(), metadata_text))
@example("Name: a\r\n b\r\nVersion: 1\r\n", None)
@example("", "Name: from-pkg-info\n")
def test_name_and_version_are_importlib_metadatas(metadata, pkg_info):
    with fresh_directory() as root:
        folder = root / "fuzz-1.0.dist-info"
        put(folder / "METADATA", metadata)
        if pkg_info is not None:
            put(folder / "PKG-INFO", pkg_info)
        with bounded(len(metadata.encode()) + len((pkg_info or "").encode())):
            ours = read_name_and_version(str(folder))
        found = importlib.metadata.PathDistribution(folder).metadata
        assert ours == (found.get("Name"), found.get("Version") or "")


# -- whole scans: folder names, metadata and entry points together -------------------------

_STEMS = st.sampled_from(["a", "A", "a_b", "a.b", "a-b", "Ab", "", ".", "..x", "é"])
_SUFFIXES = st.sampled_from([".dist-info", ".egg-info", ".DIST-INFO", ".Egg-Info"])
_METADATA_NAMES = st.sampled_from(["a", "A_B", "a.b", "other", None])


@st.composite
def distributions(draw):
    """One to four metadata folders over two directories, names likely to collide."""
    made = []
    for index in range(draw(st.integers(1, 4))):
        stem = draw(_STEMS)
        version = draw(st.sampled_from(["", "-1.0", f"-{index}.0"]))
        name = draw(_METADATA_NAMES)
        points = draw(
            st.lists(st.sampled_from(["x = m:X", "y = m", "x = other"]), max_size=2).map(
                lambda rows: "[fuzz.group]\n" + "\n".join(rows) + "\n"
            )
        )
        made.append((draw(st.integers(0, 1)), stem + version + draw(_SUFFIXES), name, points))
    return made


def build(root, made):
    directories = [root / "one", root / "two"]
    for directory in directories:
        directory.mkdir()
    for where, folder, name, points in made:
        target = directories[where] / folder
        if target.exists():
            continue  # the same folder twice in one directory: one folder
        header = f"Name: {name}\n" if name is not None else ""
        put(target / "METADATA", f"Metadata-Version: 2.1\n{header}Version: 1.0\n")
        put(target / "entry_points.txt", points)
    return [str(directory) for directory in directories]


def importlib_rows(paths, group):
    """What importlib.metadata.entry_points reports for `paths`, None where it raises."""
    saved = sys.path[:]
    sys.path[:] = paths
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            found = importlib.metadata.entry_points(group=group)
            return sorted((p.name, p.value, p.dist.name, p.dist.version) for p in found)
    except (TypeError, DeprecationWarning):  # a distribution with no name anywhere (3.13 warns)
        return None
    except KeyError:  # the same, once importlib_metadata >= 8 joined sys.meta_path (dask does)
        return None
    finally:
        sys.path[:] = saved


@fuzz
@given(distributions())
@example([(0, "..x-1.0.dist-info", "a", "[fuzz.group]\nx = m:X\n")])
@example(  # which of one name in one directory: importlib's listing order, not sorted
    [(0, "a.dist-info", "a", "[fuzz.group]\n"), (0, "..x.DIST-INFO", "a", "[fuzz.group]\nx = m\n")]
)
@example(
    [
        (0, "A-1.0.DIST-INFO", "a", "[fuzz.group]\nx = m\n"),
        (1, "a-2.0.dist-info", None, "[fuzz.group]\ny = m\n"),
    ]
)
def test_a_scan_sees_what_importlib_metadata_sees(made):
    with fresh_directory() as root:
        paths = build(root, made)
        expected = importlib_rows(paths, "fuzz.group")
        assume(expected is not None)
        ours = sorted(
            (p.name, p.value, p.distribution, p.version) for p in scan("fuzz.group", paths)
        )
        # importlib has no name where METADATA has none; ours is the folder's (documented)
        named = {(n, v, ver) for n, v, d, ver in ours if d}
        assert [(n, v, ver) for n, v, _, ver in expected] == sorted(
            (n, v, ver) for n, v, d, ver in ours
        )
        assert all((n, v, ver) in named for n, v, _, ver in expected)


# -- the cache file -------------------------------------------------------------------------


@fuzz
@given(st.binary(max_size=2000))
@example(b"turnout-cache\t3\nK\nD\tS/x\t1\t3\ta\x1fb\tf\tp\n")
@example(b"turnout-cache\t3\nK\nD\tS/x\t" + b"9" * 5000 + b"\t0\t\t\t\n")
@example(b"turnout-cache\t3\nK\nR\tSx\tSk\tS\tS\tN\tS\n")
@example(b"turnout-cache\t3\nK\tS\\x\n")
@example(b"turnout-cache\t3\nK\tS\\c\n")  # the codec would warn about an unknown escape
def test_decode_takes_any_bytes(blob):
    with bounded(len(blob)):
        data = decode(blob)
    if data is not None:
        assert data["format"] == CACHE_FORMAT
        assert all(type(part) is str for part in data["key"])
        assert decode(encode(data["key"], data["dirs"])) == data


@st.composite
def damaged(draw, good):
    """`good` with some bytes replaced, inserted or removed."""
    blob = bytearray(good)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(blob) - 1)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and blob:
            blob[at] = draw(st.integers(0, 255))
        elif action == "insert":
            blob[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del blob[at : at + draw(st.integers(1, 16))]
        else:
            del blob[at:]
    return bytes(blob)


@contextlib.contextmanager
def cached_site():
    """A site of five distributions (two providing the group) and its filled cache file."""
    with fresh_directory() as root:
        for i in range(5):
            folder = root / "site" / f"dist{i}-1.0.dist-info"
            put(folder / "METADATA", f"Name: dist{i}\nVersion: 1.0\n")
            group = "fuzz.group" if i < 2 else "other"
            put(folder / "entry_points.txt", f"[{group}]\np{i} = mod{i}:B\n")
        put(root / "site" / "legacy.egg-info" / "PKG-INFO", "Name: legacy\nVersion: 0.1\n")
        then = time.time_ns() - 3600 * 10**9
        os.utime(root / "site", ns=(then, then))  # settled: the cache is trusted
        saved = sys.path[:], os.environ.get("TURNOUT_CACHE_DIR")
        sys.path[:] = [str(root / "site")]
        os.environ["TURNOUT_CACHE_DIR"] = str(root / "cache")
        try:
            truth = sorted(
                (p.name, p.value, p.distribution, p.version) for p in entry_points("fuzz.group")
            )
            (path,) = (root / "cache").iterdir()
            yield path, truth
        finally:
            sys.path[:] = saved[0]
            if saved[1] is None:
                del os.environ["TURNOUT_CACHE_DIR"]
            else:
                os.environ["TURNOUT_CACHE_DIR"] = saved[1]


def test_reading_a_small_cache_file_allocates_little():
    with cached_site() as (path, _truth):
        cache = Cache.open("fuzz.group", sys.path)
        assert cache.path == str(path)
        with bounded(path.stat().st_size):  # it once read into a 1 MiB buffer
            assert cache.read() is not None


@fuzz
@given(st.data())
def test_a_damaged_cache_file_never_gets_an_unverified_row_imported(data):
    with cached_site() as (path, truth):
        good = path.read_bytes()
        assert decode(good) is not None
        blob = data.draw(st.one_of(damaged(good), st.binary(max_size=3000)))
        path.write_bytes(blob)
        with bounded(len(blob) + len(good)):
            found = entry_points("fuzz.group")
            kept = [p for p in found if not p.cached or verify(p, "fuzz.group")]
        rows = {(p.name, p.value, p.distribution, p.version) for p in kept}
        assert rows <= set(truth)
        if decode(blob) is None or decode(blob)["key"] != Cache.open("fuzz.group", sys.path).key:
            assert sorted(rows) == truth  # unusable: the files decide


# -- turnout-backend.json ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "name",
        "aliases",
        "functions",
        "types",
        "secondary_types",
        "host_versions",
        "priority",
        "requires_opt_in",
        "default_config",
        "url",
        "short_summary",
        "later",
    ]
)
entries = st.dictionaries(_KEYS, json_values, max_size=6)


@fuzz
@given(
    st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda entry, version, group: json.dumps(
                {"turnout-backend": version, group: entry}
            ).encode(),
            entries,
            json_values,
            st.sampled_from(["g", "other"]),
        ),
    )
)
@example(b"[" * 100_000)
@example(b'{"g": {"functions": {"": null, "f": {"additional_parameters": []}}}}')
@example(b'{"g": {"host_versions": [">=5"], "requires_opt_in": "no"}}')
def test_static_metadata_takes_any_bytes(blob):
    with bounded(len(blob)):
        info = parse_info(blob, "g", "fuzz.json")
    if info is None:
        return
    assert isinstance(info, StaticInfo)
    try:
        entry = json.loads(blob)["g"]
    except (ValueError, RecursionError):  # pragma: no cover - parse_info read it
        raise AssertionError from None
    # a declaration that keeps users safe is never dropped, whatever its kind
    if entry.get("host_versions") is not None:
        assert isinstance(info.host_versions, str)
    if entry.get("requires_opt_in") is not None:
        assert info.requires_opt_in is (entry["requires_opt_in"] is not False)
    assert all(isinstance(name, str) for name in info.functions or ())
    assert set(info.function_info) <= set(info.functions or ())


# -- the trusted-backend configuration ------------------------------------------------------

config_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.binary(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.frozensets(st.text(max_size=6), max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "package",
                    "aliases",
                    "distributions",
                    "entrypoints",
                    "object_refs",
                    "module_prefixes",
                    "distribution",
                    "entrypoint",
                    "object_ref",
                    "module_prefix",
                    "packages",
                    "pakage",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
trusted_configs = st.one_of(
    config_values,
    st.dictionaries(
        st.text(max_size=8) | st.sampled_from(["cpu", "gpu", "a"]), config_values, max_size=3
    ),
)


@fuzz
@given(
    trusted_configs,
    st.one_of(config_values, st.dictionaries(st.text(max_size=6), config_values, max_size=2)),
)
@example({"gpu": {"package": "x", "aliases": "gpu"}}, {"gpu": "taken"})
@example({"a": {"packages": ["x", ""], "aliases": ["b"]}, "b": {"package": "y"}}, None)
def test_trusted_configuration_is_checked_or_refused(trusted, reserved):
    problems: list[str] = []
    size = len(repr(trusted)) + len(repr(reserved))
    with bounded(size):
        kept = parse_reserved(reserved, problems, "fuzzhost")
        rules = parse_trusted(trusted, kept, problems, "fuzzhost")
    assert all(isinstance(problem, str) for problem in problems)
    assert isinstance(rules, dict)
    try:
        BackendDispatcher(
            "fuzz.backends", "fuzzhost", trusted_backends=trusted, reserved_backends=reserved
        )
    except ConfigurationError as error:
        assert error.problems
        assert problems  # the dispatcher refuses what the parsers found wrong
    else:
        assert not problems
