"""The entry-point scanner and its disk cache, against real files on sys.path."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import zipfile

import pytest

from turnout._metadata import cache_directory, entry_points, load_reference, parse_section, scan
from turnout.testing import DistributionSite


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("TURNOUT_CACHE_DIR", str(directory))
    monkeypatch.delenv("TURNOUT_NO_CACHE", raising=False)
    return directory


def rows(providers):
    return sorted((p.name, p.value, p.distribution, p.version) for p in providers)


def test_scan_agrees_with_importlib_metadata(install, group):
    install(
        "Host_GPU",
        {"gpu": "host_gpu:Backend", "g2": "host_gpu.sub:Other.attr [extra]"},
        {"host_gpu/__init__.py": ""},
        version="2.1",
    )
    install("other", {"o": "other_mod"}, {"other_mod.py": ""})
    expected = sorted(
        (ep.name, ep.value, ep.dist.metadata["Name"], ep.dist.version)
        for ep in importlib.metadata.entry_points(group=group)
    )
    assert rows(scan(group, sys.path)) == expected
    assert ("gpu", "host_gpu:Backend", "Host_GPU", "2.1") in expected


def test_the_first_distribution_on_sys_path_wins(tmp_path, group, monkeypatch):
    first, second = DistributionSite(tmp_path / "a"), DistributionSite(tmp_path / "b")
    first.add("dup-dist", "1.0", entry_points={group: {"x": "first_mod"}})
    second.add("dup_dist", "2.0", entry_points={group: {"x": "second_mod"}})
    assert rows(scan(group, [str(first.root), str(second.root)])) == [
        ("x", "first_mod", "dup-dist", "1.0")
    ]


def test_zipped_distributions_are_read_through_importlib_metadata(tmp_path, group):
    archive = tmp_path / "backends.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(
            "zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n"
        )
        zf.writestr("zipped-1.0.dist-info/entry_points.txt", f"[{group}]\nz = zipped_mod\n")
        zf.writestr("zipped-1.0.dist-info/RECORD", "")
    assert rows(scan(group, [str(archive)])) == [("z", "zipped_mod", "zipped", "1.0")]


def test_parse_section_and_load_reference():
    text = "[other]\na = b\n\n[grp]\n# comment\nx = os.path : join\ny=os\n"
    assert parse_section(text, "grp") == [("x", "os.path : join"), ("y", "os")]
    assert load_reference("os.path : join") is os.path.join
    assert load_reference("os.path:join [extra]") is os.path.join
    assert load_reference("os") is os


def test_cache_is_used_then_invalidated_by_an_install(install, site, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    assert [p.name for p in entry_points(group)] == ["one"]
    files = list(cache_dir.iterdir())
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    assert data["entry_points"] == [["one", "one_mod", "first", "1.0"]]
    # Served from the cache: an edit that leaves every sys.path mtime alone is not seen.
    info = next(site.root.glob("first-*.dist-info"))
    stamp = site.root.stat().st_mtime_ns
    (info / "entry_points.txt").write_text(f"[{group}]\nedited = x\n")
    os.utime(site.root, ns=(stamp, stamp))
    assert [p.name for p in entry_points(group)] == ["one"]
    # An install changes the directory: the cache is rebuilt.
    install("second", {"two": "two_mod"}, {"two_mod.py": ""})
    assert sorted(p.name for p in entry_points(group)) == ["edited", "two"]


def test_corrupt_cache_only_costs_speed(install, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    entry_points(group)
    (cache_file,) = cache_dir.iterdir()
    for damage in ["{not json", json.dumps({"format": 1}), json.dumps([1, 2]), ""]:
        cache_file.write_text(damage)
        assert [p.name for p in entry_points(group)] == ["one"]


def test_unwritable_cache_directory(install, group, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("TURNOUT_CACHE_DIR", str(blocker / "cache"))
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    assert [p.name for p in entry_points(group)] == ["one"]


def test_cache_can_be_disabled(install, group, cache_dir, monkeypatch):
    monkeypatch.setenv("TURNOUT_NO_CACHE", "1")
    assert cache_directory() is None
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    assert [p.name for p in entry_points(group)] == ["one"]
    assert not cache_dir.exists()


def test_default_cache_location(monkeypatch, tmp_path):
    monkeypatch.delenv("TURNOUT_CACHE_DIR")
    monkeypatch.delenv("TURNOUT_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_directory() == str(tmp_path / "turnout")
