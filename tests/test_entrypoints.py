"""The entry-point scanner and its disk cache, against real files on sys.path."""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import os
import pathlib
import shutil
import stat
import sys
import time
import zipfile

import pytest

from turnout._entrypoints import (
    cache_directory,
    decode,
    encode,
    entry_points,
    load_reference,
    parse_section,
    scan,
    search_path,
    verify,
)
from turnout._names import entry_point_problem
from turnout.testing import DistributionSite


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("TURNOUT_CACHE_DIR", str(directory))
    monkeypatch.delenv("TURNOUT_NO_CACHE", raising=False)
    return directory


def rows(providers):
    return sorted((p.name, p.value, p.distribution, p.version) for p in providers)


def importlib_rows(group, paths):
    """What importlib.metadata sees on `paths`, as rows."""
    found = []
    seen = set()
    for dist in importlib.metadata.distributions(path=paths):
        key = dist._normalized_name  # the key importlib itself dedupes by
        if key in seen:
            continue
        seen.add(key)
        found.extend(
            (ep.name, ep.value, dist.metadata.get("Name"), dist.metadata.get("Version") or "")
            for ep in dist.entry_points
            if ep.group == group
        )
    return sorted(found)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def metadata(name, version="1.0", extra=""):
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}"


GROUP = "fidelity.backends"
# Each layout: files to write under a fresh directory, and the sys.path entries (relative).
LAYOUTS = {
    "dist-info": (
        {
            "pkg_a-1.0.dist-info/METADATA": metadata("pkg-a"),
            "pkg_a-1.0.dist-info/entry_points.txt": f"[{GROUP}]\na = pkg_a:Backend\n",
        },
        ["."],
    ),
    "upper-case DIST-INFO": (
        {
            "PKG_B-2.0.DIST-INFO/METADATA": metadata("Pkg_B", "2.0"),
            "PKG_B-2.0.DIST-INFO/entry_points.txt": f"[{GROUP}]\nb = pkg_b\n",
        },
        ["."],
    ),
    "egg-info directory with PKG-INFO": (
        {
            "pkg_c-3.0-py3.11.egg-info/PKG-INFO": metadata("pkg-c", "3.0"),
            "pkg_c-3.0-py3.11.egg-info/entry_points.txt": f"[{GROUP}]\nc = pkg_c:B\n",
        },
        ["."],
    ),
    "unzipped egg directory": (
        {
            "pkg_d-4.0-py3.11.egg/EGG-INFO/PKG-INFO": metadata("pkg-d", "4.0"),
            "pkg_d-4.0-py3.11.egg/EGG-INFO/entry_points.txt": f"[{GROUP}]\nd = pkg_d\n",
        },
        ["pkg_d-4.0-py3.11.egg"],
    ),
    "lower-case headers": (
        {
            "pkg_e-1.0.dist-info/METADATA": "metadata-version: 2.1\nname: Pkg-E\nversion: 5.0\n",
            "pkg_e-1.0.dist-info/entry_points.txt": f"[{GROUP}]\ne = pkg_e\n",
        },
        ["."],
    ),
    "duplicate headers, the first wins": (
        {
            "pkg_f-1.0.dist-info/METADATA": (
                "Metadata-Version: 2.1\nName: first-name\nName: second-name\n"
                "Version: 1.0\nVersion: 9.9\n"
            ),
            "pkg_f-1.0.dist-info/entry_points.txt": f"[{GROUP}]\nf = pkg_f\n",
        },
        ["."],
    ),
    "name differs from the folder": (
        {
            "pkg_g-1.0.dist-info/METADATA": metadata("Other.Name"),
            "pkg_g-1.0.dist-info/entry_points.txt": f"[{GROUP}]\ng = pkg_g\n",
        },
        ["."],
    ),
    "comments, spacing and other sections": (
        {
            "pkg_h-1.0.dist-info/METADATA": metadata("pkg-h"),
            "pkg_h-1.0.dist-info/entry_points.txt": (
                f"[console_scripts]\nx = y:z\n\n[{GROUP}]\n# a comment\n  h1=pkg_h:One  \n"
                f"h2 = pkg_h : Two [extra]\n; h3 = pkg_h\n[{GROUP}.other]\nno = pkg_h\n"
            ),
        },
        ["."],
    ),
    "the same distribution twice: the first path wins": (
        {
            "one/pkg_i-1.0.dist-info/METADATA": metadata("pkg-i"),
            "one/pkg_i-1.0.dist-info/entry_points.txt": f"[{GROUP}]\ni = first\n",
            "two/PKG.I-2.0.dist-info/METADATA": metadata("PKG.I", "2.0"),
            "two/PKG.I-2.0.dist-info/entry_points.txt": f"[{GROUP}]\ni = second\n",
        },
        ["one", "two"],
    ),
    "METADATA without a Name": (
        {
            "pkg_j-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nVersion: 1.0\n",
            "pkg_j-1.0.dist-info/entry_points.txt": f"[{GROUP}]\nj = pkg_j\n",
        },
        ["."],
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_scan_sees_what_importlib_metadata_sees(tmp_path, layout):
    files, entries = LAYOUTS[layout]
    for relative, text in files.items():
        write(tmp_path / relative, text)
    paths = [str(tmp_path / entry) for entry in entries]
    expected = importlib_rows(GROUP, paths)
    if layout == "METADATA without a Name":  # importlib has no name for it; we use the folder's
        expected = [(n, v, "pkg_j", ver) for n, v, _, ver in expected]
    assert expected, "the layout provides an entry point"
    assert rows(scan(GROUP, paths)) == expected


def test_a_custom_distribution_finder_is_honoured(tmp_path, group, monkeypatch):
    write(tmp_path / "hidden" / "pkg_k-1.0.dist-info" / "METADATA", metadata("pkg-k"))
    write(
        tmp_path / "hidden" / "pkg_k-1.0.dist-info" / "entry_points.txt",
        f"[{group}]\nk = pkg_k\n",
    )

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, *args, **kwargs):
            return None

        def find_distributions(self, context=None):
            name = None if context is None else context.name
            if name in (None, "pkg-k", "pkg_k"):
                yield importlib.metadata.PathDistribution(
                    pathlib.Path(tmp_path / "hidden" / "pkg_k-1.0.dist-info")
                )

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert ("k", "pkg_k", "pkg-k", "1.0") in rows(entry_points(group))


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
    text = "[other]\na = b\n\n[grp]\n# comment\nx = os.path : join\ny=os\n[ grp ]\nz = no\n"
    assert parse_section(text, "grp") == [["x", "os.path : join"], ["y", "os"]]
    assert load_reference("os.path : join") is os.path.join
    assert load_reference("os.path:join [extra]") is os.path.join
    assert load_reference("os") is os


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("pkg", True),
        ("pkg.sub:Attr.inner", True),
        ("pkg : attr [extra1, extra2]", True),
        ("pkg:attr [unclosed", False),
        ("pkg:attr; import os", False),
        ("pkg attr", False),
        (":attr", False),
        ("pkg:", False),
        ("os.system('x')", False),
        ("pkg:attr trailing", False),
    ],
)
def test_entry_point_values_follow_the_importlib_grammar(value, valid):
    assert (entry_point_problem(value) is None) is valid
    match = importlib.metadata.EntryPoint.pattern.match(value)
    assert (match is not None) is valid


def test_search_path_survives_odd_entries(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = search_path(["", ".", pathlib.Path(tmp_path), os.fsencode(str(tmp_path)), 42, None])
    assert got == [str(tmp_path), str(tmp_path), str(tmp_path), str(tmp_path)]


# -- the cache ----------------------------------------------------------------------------


def cached(cache_dir):
    (path,) = cache_dir.glob("entry-points-*.txt")
    return path


def test_cache_is_used_and_sees_in_place_rewrites(install, site, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    assert [p.name for p in entry_points(group)] == ["one"]
    assert entry_points(group)[0].path is not None
    assert entry_points(group)[0].cached  # served from the cache
    # An in-place rewrite (an editable install) that leaves every directory's mtime alone
    info = next(site.root.glob("first-*.dist-info"))
    stamp = site.root.stat().st_mtime_ns
    (info / "entry_points.txt").write_text(f"[{group}]\nedited = x\n")
    os.utime(site.root, ns=(stamp, stamp))
    assert [p.name for p in entry_points(group)] == ["edited"]
    # An install changes the directory
    install("second", {"two": "two_mod"}, {"two_mod.py": ""})
    assert sorted(p.name for p in entry_points(group)) == ["edited", "two"]


def test_an_upgrade_within_the_same_second_is_seen(install, site, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    entry_points(group)
    info = next(site.root.glob("first-*.dist-info"))
    points, meta = info / "entry_points.txt", info / "METADATA"
    before = {p: p.stat().st_mtime_ns for p in (points, meta, site.root)}
    meta.write_text("Metadata-Version: 2.1\nName: first\nVersion: 1.1\n")
    points.write_text(f"[{group}]\none = one_mod\n")  # same text, rewritten
    for path, ns in before.items():
        os.utime(path, ns=(ns, ns))  # even with the very same timestamps
    (again,) = entry_points(group)
    assert again.version == "1.1"  # the size and inode tell


def test_a_cached_row_is_checked_against_the_files_before_import(install, site, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    (provider,) = entry_points(group)
    assert verify(provider, group)
    data = decode(cached(cache_dir).read_bytes())
    for directory in data["dirs"].values():
        for record in directory["dists"].values():
            if record["rows"]:
                record["rows"] = [["one", "evil_mod:Backend"]]  # a poisoned row
                record["name"] = "trusted-dist"
    cached(cache_dir).write_bytes(encode(data["key"], data["dirs"]))
    (poisoned,) = entry_points(group)
    assert (poisoned.value, poisoned.distribution) == ("evil_mod:Backend", "trusted-dist")
    assert not verify(poisoned, group)  # discovery refuses to import it and rescans


def test_discovery_never_imports_a_poisoned_cached_row(install, group, cache_dir, make_dispatcher):
    install(
        "host-gpu",
        {"gpu": "host_gpu:Backend"},
        {"host_gpu.py": "class Backend:\n    name = 'gpu'\n"},
    )
    install(
        "evil", {"evil": "evil_mod:Backend"}, {"evil_mod.py": "class Backend:\n    name = 'evil'\n"}
    )
    entry_points(group)  # fill the cache
    data = decode(cached(cache_dir).read_bytes())
    for directory in data["dirs"].values():
        for record in directory["dists"].values():
            if record["rows"] == [["gpu", "host_gpu:Backend"]]:
                record["rows"] = [["gpu", "evil_mod:Backend"]]
    cached(cache_dir).write_bytes(encode(data["key"], data["dirs"]))
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})
    assert type(dispatcher.get_backend("gpu")).__module__ == "host_gpu"
    assert install.imported() == ["host_gpu"]


def test_refresh_reads_the_files_not_the_cache(install, site, group, cache_dir, make_dispatcher):
    install("first", {"one": "one_mod"}, {"one_mod.py": "name = 'one'\n"})
    dispatcher = make_dispatcher(untrusted="allow")
    assert dispatcher.available_backend_names() == ["one"]
    info = next(site.root.glob("first-*.dist-info"))
    stamp = site.root.stat().st_mtime_ns
    text = (info / "entry_points.txt").read_text()
    (info / "entry_points.txt").write_text(text.replace("one = ", "uno = "))
    st = (info / "entry_points.txt").stat()
    os.utime(site.root, ns=(stamp, stamp))
    del st
    dispatcher.refresh()
    assert dispatcher.available_backend_names() == ["one", "uno"]


DAMAGE = {
    "garbage": lambda good: b"{not a cache",
    "truncated": lambda good: good[: len(good) // 2],
    "wrong-shape": lambda good: b"turnout-cache\t2\nK\nD\tSx\tnot-a-number\n",
    "a-list": lambda good: b"[1, 2]",
    "empty": lambda good: b"",
    "deeply-nested": lambda good: b"[\x01\x00\x00\x00" * 100_000 + b"N",
    "brackets": lambda good: b"[" * 100_000 + b"]" * 100_000,
    # a folder's key a signature, a record's name a signature
    "bad-types": lambda good: good.replace(b"\nF\tS", b"\nF\tL1,2\tS", 1).replace(
        b"\nR\tS", b"\nR\tL7,8,9\tS", 1
    ),
    "bad-record-types": lambda good: good.replace(b"\nE\tS", b"\nE\tQ"),
    "huge": lambda good: b"x" * 40_000_000,
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_cache_only_costs_speed(install, group, cache_dir, kind):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    entry_points(group)
    cached(cache_dir).write_bytes(DAMAGE[kind](cached(cache_dir).read_bytes()))
    assert rows(entry_points(group)) == [("one", "one_mod", "first", "1.0")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
@pytest.mark.parametrize("kind", ["fifo", "symlink-to-dev-zero", "symlink-to-a-file"])
def test_a_cache_file_that_is_not_a_regular_file_is_ignored(
    install, group, cache_dir, kind, tmp_path
):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    entry_points(group)
    path = cached(cache_dir)
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-to-dev-zero":
        path.symlink_to("/dev/zero")
    else:
        other = tmp_path / "other.txt"
        other.write_bytes(b"turnout-cache\t2\nK\n")
        path.symlink_to(other)
    assert [p.name for p in entry_points(group)] == ["one"]  # and no hang


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX only")
def test_cache_permissions_and_foreign_files(install, group, cache_dir, caplog):
    import logging  # noqa: PLC0415

    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    entry_points(group)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    path = cached(cache_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = decode(path.read_bytes())
    for directory in data["dirs"].values():
        for record in directory["dists"].values():
            record["rows"] = [["ghost", "ghost_mod"]] if record["rows"] else []
    path.write_bytes(encode(data["key"], data["dirs"]))
    path.chmod(0o666)  # writable by others: ignored
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        assert [p.name for p in entry_points(group)] == ["one"]
    assert any("writable by other users" in message for message in caplog.messages)


def test_unwritable_cache_directory(install, group, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("TURNOUT_CACHE_DIR", str(blocker / "cache"))
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    assert [p.name for p in entry_points(group)] == ["one"]


def test_the_cache_key_survives_odd_interpreter_state(
    install, group, cache_dir, monkeypatch, tmp_path
):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    monkeypatch.setattr(sys, "executable", None)
    monkeypatch.setattr(
        sys, "path", [*sys.path, pathlib.Path(tmp_path), os.fsencode(str(tmp_path))]
    )
    assert [p.name for p in entry_points(group)] == ["one"]
    assert [p.name for p in entry_points(group)] == ["one"]


def test_two_checkouts_sharing_the_empty_entry_never_mix(tmp_path, group, cache_dir, monkeypatch):
    for checkout, name in (("a", "from_a"), ("b", "from_b")):
        site = DistributionSite(tmp_path / checkout)
        site.add(f"dist-{checkout}", entry_points={group: {name: f"{name}_mod"}})
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    monkeypatch.chdir(tmp_path / "a")
    assert [p.name for p in entry_points(group)] == ["from_a"]
    monkeypatch.chdir(tmp_path / "b")
    assert [p.name for p in entry_points(group)] == ["from_b"]
    monkeypatch.chdir(tmp_path / "a")
    assert [p.name for p in entry_points(group)] == ["from_a"]


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


# -- what a warm scan checks (docs: entry-points) ------------------------------------------


def settle(directory):
    """Date a directory's last change an hour back: its listing can be trusted."""
    then = time.time_ns() - 3600 * 10**9
    os.utime(directory, ns=(then, then))
    return then


def test_an_upgrade_that_leaves_the_directory_mtime_unchanged_is_seen(
    install, site, group, cache_dir
):
    install("hxup", {"hx": "hxup_mod"}, {"hxup_mod.py": ""}, version="1.0")
    stamp = settle(site.root)
    entry_points(group)  # fills the cache
    (warm,) = entry_points(group)
    assert (warm.version, warm.cached) == ("1.0", True)
    shutil.rmtree(site.root / "hxup-1.0.dist-info")
    install("hxup", {"hx": "hxup_mod"}, {"hxup_mod.py": ""}, version="2.0")
    os.utime(site.root, ns=(stamp, stamp))  # coarse timestamps: the directory looks unchanged
    assert [(p.name, p.version) for p in entry_points(group)] == [("hx", "2.0")]


def test_a_second_install_within_the_same_timestamp_is_seen(install, site, group, cache_dir):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    stamp = site.root.stat().st_mtime_ns
    assert [p.name for p in entry_points(group)] == ["one"]  # listed within the same tick
    install("second", {"two": "two_mod"}, {"two_mod.py": ""})
    os.utime(site.root, ns=(stamp, stamp))  # the second install did not move the mtime
    assert sorted(p.name for p in entry_points(group)) == ["one", "two"]


def test_a_warm_scan_looks_only_at_the_providers_files(site, group, cache_dir, monkeypatch):
    for i in range(200):
        site.add(f"unrelated-{i}", entry_points={"console_scripts": {f"t{i}": "x:main"}})
    site.add("provider-a", entry_points={group: {"a": "a_mod"}})
    site.add("provider-b", entry_points={group: {"b": "b_mod"}})
    settle(site.root)
    entry_points(group)  # fills the cache
    looked_at = []
    real_stat = os.stat

    def counting_stat(path, *args, **kwargs):
        if str(path).startswith(str(site.root)):
            looked_at.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    assert sorted(p.name for p in entry_points(group)) == ["a", "b"]
    # the directory, and entry_points.txt and METADATA of each provider
    assert len(looked_at) == 5, looked_at


def test_a_reinstall_of_the_same_version_is_seen(site, group, cache_dir):
    site.add("quiet", entry_points={"console_scripts": {"q": "quiet:main"}})
    settle(site.root)
    assert entry_points(group) == []
    shutil.rmtree(site.root / "quiet-1.0.dist-info")  # pip install --force-reinstall
    site.add("quiet", entry_points={group: {"loud": "quiet_mod"}})
    settle(site.root)  # the directory changed (an hour ago, as far as the scan can tell)
    assert [p.name for p in entry_points(group)] == ["loud"]


def test_an_egg_info_rewritten_in_place_is_seen(tmp_path, group, cache_dir, monkeypatch):
    project = tmp_path / "project"  # a legacy editable install: setup.py develop
    info = project / "mybackend.egg-info"
    write(info / "PKG-INFO", metadata("mybackend"))
    write(info / "entry_points.txt", "[console_scripts]\nmb = mybackend:main\n")
    stamp = settle(project)
    monkeypatch.setattr(sys, "path", [str(project), *sys.path])
    assert entry_points(group) == []
    (info / "entry_points.txt").write_text(f"[{group}]\nmb = mybackend:Backend\n")  # egg_info
    os.utime(project, ns=(stamp, stamp))
    assert [(p.name, p.distribution) for p in entry_points(group)] == [("mb", "mybackend")]


def test_refresh_sees_an_in_place_edit_of_a_distribution_that_did_not_provide(
    site, group, cache_dir
):
    # A *.dist-info is written whole by its installer: a cached scan does not
    # look at one that did not provide the group (docs: entry-points); a fresh
    # one (``refresh()``) reads every file.
    info = site.add("quiet", entry_points={"console_scripts": {"q": "quiet:main"}})
    stamp = settle(site.root)
    assert entry_points(group) == []
    (info / "entry_points.txt").write_text(f"[{group}]\nedited = quiet_mod\n")
    os.utime(site.root, ns=(stamp, stamp))
    assert [p.name for p in entry_points(group, fresh=True)] == ["edited"]
    assert [p.name for p in entry_points(group)] == ["edited"]  # and the cache now knows


def test_a_directory_twice_on_sys_path_is_listed_once(install, site, group, cache_dir, monkeypatch):
    install("first", {"one": "one_mod"}, {"one_mod.py": ""})
    monkeypatch.setattr(sys, "path", [str(site.root), *sys.path])  # now twice
    listed = []
    real_listdir = os.listdir

    def counting_listdir(path="."):
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", counting_listdir)
    assert [p.name for p in entry_points(group)] == ["one"]
    assert listed.count(str(site.root)) == 1
