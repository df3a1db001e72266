"""The entry-point cache folder: where it lives, and that it stays within its bound."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest

from turnout import _entrypoints
from turnout._entrypoints import MAX_CACHE_BYTES, MAX_CACHE_FILES, Cache, cache_directory, prune
from turnout.testing import DistributionSite


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("TURNOUT_CACHE_DIR", str(directory))
    monkeypatch.delenv("TURNOUT_NO_CACHE", raising=False)
    return directory


@pytest.fixture
def variants(tmp_path, group):
    """Directories that make distinct sys.path shapes, one of them providing `group`."""
    site = DistributionSite(tmp_path / "site")
    site.add("provider", entry_points={group: {"p": "provider_mod"}})
    made = []
    for i in range(200):
        directory = tmp_path / "variants" / str(i)
        directory.mkdir(parents=True)
        made.append(str(directory))
    return [str(site.root), *made]


def within_bound(directory):
    files = [entry for entry in os.scandir(directory) if entry.is_file(follow_symlinks=False)]
    total = sum(entry.stat(follow_symlinks=False).st_size for entry in files)
    return len(files) <= MAX_CACHE_FILES and total <= MAX_CACHE_BYTES, (len(files), total)


def test_the_folder_stays_within_its_bound_whatever_the_sys_path(
    variants, group, cache_dir, monkeypatch
):
    site, *others = variants
    for i, other in enumerate(others):
        monkeypatch.setattr(sys, "path", [site, other, *others[:i:17]])
        for g in (group, f"{group}.second", f"{group}.third"):
            names = [p.name for p in _entrypoints.entry_points(g)]
            assert names == (["p"] if g == group else [])
    ok, seen = within_bound(cache_dir)
    assert ok, seen
    assert seen[0] == MAX_CACHE_FILES  # pruned to the bound, not emptied


WORKER = """
import sys
from turnout import _entrypoints

site, group, others = sys.argv[1], sys.argv[2], sys.argv[3:]
for i, other in enumerate(others):
    sys.path[:] = [site, other]
    for g in (group, group + ".second"):
        found = [p.name for p in _entrypoints.entry_points(g)]
        assert found == (["p"] if g == group else []), found
"""


def test_concurrent_processes_keep_the_bound(variants, group, cache_dir):
    site, *others = variants
    env = {**os.environ, "TURNOUT_CACHE_DIR": str(cache_dir)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, site, group, *others[start::4][:40]],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for start in range(4)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
    ok, seen = within_bound(cache_dir)
    assert ok, seen
    assert not [path for path in cache_dir.iterdir() if path.suffix == ".tmp"]


def write_cache_file(directory, digest, size=100, age_s=0):
    path = directory / f"entry-points-{digest:016x}.txt"
    path.write_bytes(b"x" * size)
    path.chmod(0o600)
    then = time.time_ns() - age_s * 10**9
    os.utime(path, ns=(then, then))
    return path


def test_reading_a_file_keeps_it_and_the_least_recently_used_go(
    site, group, cache_dir, monkeypatch
):
    site.add("provider", entry_points={group: {"p": "provider_mod"}})
    _entrypoints.entry_points(group)  # our file for this sys.path
    (ours,) = cache_dir.iterdir()
    old = time.time_ns() - 7200 * 10**9
    os.utime(ours, ns=(old, old))  # the oldest of all ...
    others = [write_cache_file(cache_dir, i, age_s=3600 - i) for i in range(MAX_CACHE_FILES)]
    _entrypoints.entry_points(group)  # ... until it is read again
    assert ours.stat().st_mtime_ns > old
    monkeypatch.setattr(sys, "path", [*sys.path, str(cache_dir)])  # a new shape: a new file
    _entrypoints.entry_points(group)
    left = set(cache_dir.iterdir())
    assert len(left) == MAX_CACHE_FILES
    assert ours in left
    assert others[0] not in left  # the least recently used
    assert others[1] not in left
    assert others[-1] in left


def test_the_byte_bound_holds_as_well(site, group, cache_dir):
    site.add("provider", entry_points={group: {"p": "provider_mod"}})
    cache_dir.mkdir(mode=0o700)
    big = [write_cache_file(cache_dir, i, size=300_000, age_s=100 - i) for i in range(4)]
    _entrypoints.entry_points(group)  # a few kB more than 1 MB: the oldest goes
    ok, seen = within_bound(cache_dir)
    assert ok, seen
    assert [path.exists() for path in big] == [False, True, True, True]


def test_files_of_an_earlier_version_are_pruned_too(site, group, cache_dir):
    site.add("provider", entry_points={group: {"p": "provider_mod"}})
    cache_dir.mkdir(mode=0o700)
    for i in range(642):  # what half an hour of test runs used to leave
        write_cache_file(cache_dir, i, size=4000, age_s=1000)
    _entrypoints.entry_points(group)
    ok, seen = within_bound(cache_dir)
    assert ok, seen


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_pruning_deletes_only_our_own_regular_files(tmp_path, cache_dir):
    cache_dir.mkdir(mode=0o700)
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    link = cache_dir / f"entry-points-{1:016x}.txt"
    link.symlink_to(outside)
    notes = cache_dir / "notes.txt"
    notes.write_text("mine")
    lookalike = cache_dir / "entry-points-not-hex-digits.txt"
    lookalike.write_text("mine too")
    ours = [write_cache_file(cache_dir, 100 + i, age_s=1000) for i in range(MAX_CACHE_FILES + 5)]
    name = f"entry-points-{2:016x}.txt"
    writing = cache_dir / f"{name}.{os.getpid()}.123.tmp"  # another process is writing it
    writing.write_text("half")
    crashed = cache_dir / f"{name}.1.456.tmp"
    crashed.write_text("left by a crash")
    then = time.time_ns() - 3600 * 10**9
    os.utime(crashed, ns=(then, then))
    keep = write_cache_file(cache_dir, 3)
    prune(str(cache_dir), str(keep))
    assert link.is_symlink()
    assert outside.read_text() == "precious"
    assert notes.exists()
    assert lookalike.exists()
    assert writing.exists()
    assert not crashed.exists()
    assert keep.exists()
    assert sum(path.exists() for path in ours) == MAX_CACHE_FILES - 1


def test_a_vanished_folder_or_a_racing_delete_is_no_error(tmp_path):
    prune(str(tmp_path / "missing"), str(tmp_path / "missing" / "x"))


def test_a_state_too_big_for_the_bound_is_not_written(site, group, cache_dir, monkeypatch):
    site.add("provider", entry_points={group: {"p": "provider_mod"}})
    monkeypatch.setattr(_entrypoints, "MAX_CACHE_BYTES", 100)
    assert [p.name for p in _entrypoints.entry_points(group)] == ["p"]
    assert list(cache_dir.iterdir()) == []


def test_the_cache_file_name_matches_what_pruning_deletes(cache_dir):
    cache = Cache.open("some.group", ["/a", "/b"])
    name = pathlib.Path(cache.path).name
    assert _entrypoints._is_cache_file(name)
    assert _entrypoints._is_temporary(f"{name}.{os.getpid()}.{12345}.tmp")
    assert Cache.open("some.group", ["/a", "/b"]).path == cache.path
    assert Cache.open("some.group", ["/a", "/c"]).path != cache.path


CACHE_NAME = textwrap.dedent("""
    from turnout._entrypoints import Cache
    print(Cache.open("some.group", ["/a", "/b"]).path)
""")


def test_the_cache_file_name_is_the_same_in_every_process(cache_dir):
    env = {**os.environ, "TURNOUT_CACHE_DIR": str(cache_dir)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    names = {
        subprocess.run(
            [sys.executable, "-c", CACHE_NAME],
            env={**env, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "random")
    }
    assert len(names) == 1


def test_default_cache_location_per_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("TURNOUT_CACHE_DIR")
    monkeypatch.delenv("TURNOUT_NO_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == str(tmp_path / "xdg" / "turnout")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid per the XDG spec
    assert cache_directory() == str(tmp_path / ".cache" / "turnout")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert cache_directory() == str(tmp_path / "Library" / "Caches" / "turnout")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert cache_directory() == str(tmp_path / "Local" / "turnout" / "Cache")
    monkeypatch.delenv("LOCALAPPDATA")
    assert cache_directory() == str(tmp_path / "AppData" / "Local" / "turnout" / "Cache")
