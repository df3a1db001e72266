"""``python -m turnout``: a group's entry points, or a host's report, from a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

GPU = """
class Backend:
    name = "gpu"
    aliases = ["g"]

    def score(self, data):
        return data
"""


def run(site, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site.root), *sys.path])}
    return subprocess.run(
        [sys.executable, "-m", "turnout", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.fixture
def group_site(install, site):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("broken-pkg", {"broken": "broken_mod"}, {"broken_mod.py": "raise RuntimeError('boom')"})
    return site


def test_table_lists_every_entry_point_and_fails_on_a_broken_one(group_site, group):
    result = run(group_site, group)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "name",
        "aliases",
        "trusted",
        "distribution",
        "version",
        "object_ref",
        "status",
        "error",
    ]
    assert lines[1].split()[0] == "broken"
    assert "failed" in lines[1]
    assert "RuntimeError: boom" in lines[1]
    assert lines[2].split()[:2] == ["gpu", "g"]
    assert "unknown (no host)  host-gpu" in lines[2]
    assert "loaded" in lines[2]


def test_json_output(group_site, group):
    rows = json.loads(run(group_site, group, "--json").stdout)
    assert [row["name"] for row in rows] == ["broken", "gpu"]
    assert rows[1] == {
        "name": "gpu",
        "aliases": ["g"],
        "distribution": "host-gpu",
        "version": "1.0",
        "object_ref": "host_gpu:Backend",
        "status": "loaded",  # no host owns the group: its trust is not known, so not "ready"
        "error": None,
        "trusted": None,
    }


def test_two_claims_of_one_name_exit_1(install, site, group):
    install("first-dist", {"dup": "first_mod"}, {"first_mod.py": "name = 'dup'"})
    install("second-dist", {"dup": "second_mod"}, {"second_mod.py": "name = 'dup'"})
    result = run(site, group, "--json")
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    assert [row["status"] for row in rows] == ["loaded", "rejected"]
    assert "also claimed by first-dist" in rows[1]["error"]


def test_clean_group_exits_0(install, site, group):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    assert run(site, group).returncode == 0


def test_host_report_applies_trust(group_site, group):
    group_site.add(
        "testhost",
        modules={
            "testhost_pkg/__init__.py": "from testhost_pkg._backends import dispatcher\n",
            "testhost_pkg/_backends.py": (
                "from turnout import BackendDispatcher\n"
                f"dispatcher = BackendDispatcher({group!r}, 'testhost', "
                "trusted_backends={'gpu': {'package': 'other-dist'}})\n"
            ),
        },
    )
    result = run(group_site, "--host", "testhost_pkg", "--json")
    assert result.returncode == 1  # the broken backend
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["gpu"]["status"] == "rejected"
    assert "expects distribution 'other-dist'" in rows["gpu"]["error"]
    assert rows["broken"]["status"] == "failed"


def test_usage_errors(site, group):
    assert run(site).returncode == 2
    result = run(site, "--host", "no_such_module_anywhere")
    assert result.returncode == 2
    assert "No module named" in result.stderr
    both = run(site, "--host", "json", group)  # GROUP would be ignored: an error, not a guess
    assert both.returncode == 2
    assert both.stdout == ""
    assert (
        f"give a GROUP or --host MODULE, not both: --host json lists the backends of json's dispatcher, so {group!r} would be ignored"
        in (both.stderr)
    )


def test_group_mode_never_imports_what_the_checks_refuse(install, site, group, import_log):
    install("ok-dist", {"ok": "ok_mod"}, {"ok_mod.py": "name = 'ok'"})
    install("cpu-dist", {"CPU": "cpu_mod"}, {"cpu_mod.py": "name = 'x'"})
    install("bad-value", {"badval": "bad_mod:X; import os"}, {"bad_mod.py": "X = 1"})
    install("bad-name", {"no good": "name_mod"}, {"name_mod.py": "name = 'y'"})
    install("twin-a", {"twin_x": "twin_a"}, {"twin_a.py": "name = 'twin_x'"})
    install("twin-b", {"TWIN-X": "twin_b"}, {"twin_b.py": "name = 'TWIN-X'"})
    result = run(site, group, "--json")
    rows = {row["distribution"]: row for row in json.loads(result.stdout)}
    assert rows["ok-dist"]["status"] == "loaded"
    for dist in ("cpu-dist", "bad-value", "bad-name"):
        assert rows[dist]["status"] == "rejected", rows[dist]
    # look-alikes: the first in the listing's order wins, the other is refused
    assert rows["twin-b"]["status"] == "loaded"
    assert rows["twin-a"]["status"] == "rejected"
    assert "also claimed by twin-b" in rows["twin-a"]["error"]
    assert sorted(import_log.read_text().split()) == ["ok_mod", "twin_b"]  # nothing refused
    assert result.returncode == 1


def test_no_import_lists_from_metadata_only(group_site, group, import_log):
    result = run(group_site, group, "--no-import", "--json")
    rows = json.loads(result.stdout)
    assert [row["status"] for row in rows] == ["not imported", "not imported"]
    assert import_log.read_text() == ""
    assert result.returncode == 0


HOST_PACKAGE = {
    "testhost_pkg/__init__.py": (
        "from testhost_pkg._backends import dispatcher\n"
        "@dispatcher.backend_dispatch\n"
        "def score(data):\n"
        "    return data\n"
        "@dispatcher.backend_dispatch\n"
        "def other(data):\n"
        "    return data\n"
    ),
    "testhost_pkg/_backends.py": (
        "from turnout import BackendDispatcher\n"
        "dispatcher = BackendDispatcher({group!r}, 'testhost', "
        "trusted_backends={{'gpu': {{'package': 'host-gpu', 'aliases': ['graphics']}}}})\n"
    ),
}


def host_site(install, site, group, *backends):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    for dist, name, source in backends:
        install(dist, {name: f"{name}_mod:Backend"}, {f"{name}_mod.py": source})
    modules = {path: text.format(group=group) for path, text in HOST_PACKAGE.items()}
    site.add("testhost", modules=modules)
    return site


def test_host_table_shows_trust_and_what_each_backend_implements(install, site, group):
    untrusted = (
        "class Backend:\n    name = 'fast'\n    def other(self, data):\n        return data\n"
    )
    host_site(install, site, group, ("fast-dist", "fast", untrusted))
    install("impostor-dist", {"graphics": "impostor_mod:Backend"}, {"impostor_mod.py": GPU})
    result = run(site, "--host", "testhost_pkg")
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "name",
        "aliases",
        "trusted",
        "distribution",
        "version",
        "status",
        "implements",
        "error",
    ]
    fast = next(line for line in lines if line.startswith("fast "))
    gpu = next(line for line in lines if line.startswith("gpu "))
    assert fast.split()[1:3] == ["no", "fast-dist"]
    assert fast.split()[-2:] == ["ready", "other"]
    assert gpu.split()[1:5] == ["graphics,", "g", "yes", "host-gpu"]
    assert gpu.split()[-2:] == ["ready", "score"]
    impostor = next(line for line in lines if line.startswith("graphics "))
    assert impostor.split()[1:3] == ["no", "impostor-dist"]
    assert "rejected" in impostor
    # the refusal warns: on stderr, before the table, not pointing into turnout's modules
    assert "turnout: EntryPointRejectedWarning: " in result.stderr
    assert "__main__.py" not in result.stderr
    assert "_cli.py" not in result.stderr


def test_host_report_without_import_uses_metadata(install, site, group, import_log):
    host_site(install, site, group)
    result = run(site, "--host", "testhost_pkg", "--no-import", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["status"] == "not loaded"
    assert row["aliases"] == ["graphics"]
    assert row["error"] is None
    assert import_log.read_text() == ""


def test_misspelt_group_exits_1_with_did_you_mean(install, site, group):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    misspelt = group.removesuffix("s")
    result = run(site, misspelt)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"no installed distribution declares an entry point in group {misspelt!r}" in (
        result.stderr
    )
    assert f"Did you mean {group!r}" in result.stderr
    nowhere = run(site, "zz_no_such_group_anywhere.plugins")
    assert nowhere.returncode == 1
    assert "Check the spelling" in nowhere.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_line_on_a_terminal_when_loading_is_slow(install, site, group):
    import pty  # noqa: PLC0415

    slow = "import time\ntime.sleep(1.5)\nname = 'slow'\n"
    install("slow-dist", {"slow": "slow_mod"}, {"slow_mod.py": slow})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site.root), *sys.path])}
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "turnout", group],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=env,
        )
        out, _ = process.communicate(timeout=60)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)
    assert process.returncode == 0
    assert f"turnout: loading the entry points of {group}...".encode() in shown
    assert b"\x1b[K" in shown  # the line is erased before the table
    assert b"slow" in out
    # without a terminal: no progress line
    assert "loading" not in run(site, group).stderr


def test_version_and_help_name_every_command(site):
    from turnout._cli import version  # noqa: PLC0415

    result = run(site, "--version")
    assert result.returncode == 0
    assert result.stdout == f"{version()}\n"
    assert result.stdout.startswith("turnout ")
    helped = run(site, "--help")
    assert helped.returncode == 0
    usage = helped.stdout.split("\n\n", 1)[0]
    assert "turnout [-h] [--version] [--json] [--no-import] GROUP" in usage
    assert "turnout [--json] [--no-import] --host MODULE" in usage
    assert "turnout stubs [-h] [-o DIR] [--check] HOST" in usage
    assert "stubs HOST" in helped.stdout.split("commands:", 1)[1]


def owned_group_site(install, site, group, host_source=None):
    """The test's group with a real, a fake and an untrusted backend, and a host that owns it.

    The host is the module the group's name starts with, as ``example_host``
    is for ``example_host.backends``.
    """
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("impostor-dist", {"graphics": "impostor_mod:Backend"}, {"impostor_mod.py": GPU})
    untrusted = "class Backend:\n    name = 'fast'\n"
    install("fast-dist", {"fast": "fast_mod:Backend"}, {"fast_mod.py": untrusted})
    host = group.rpartition(".")[0]
    top, _, inner = host.partition(".")
    source = host_source or (
        "from turnout import BackendDispatcher\n"
        f"dispatcher = BackendDispatcher({group!r}, 'testhost', "
        "trusted_backends={'gpu': {'package': 'host-gpu', 'aliases': ['graphics']}})\n"
    )
    site.add("owner", modules={f"{top}/__init__.py": "", f"{top}/{inner}/__init__.py": source})
    return site


def test_group_mode_applies_the_trust_of_the_host_that_owns_the_group(install, site, group):
    owned_group_site(install, site, group)
    result = run(site, group, "--json")
    rows = {row["distribution"]: row for row in json.loads(result.stdout)}
    assert rows["host-gpu"]["status"] == "ready"
    assert rows["host-gpu"]["trusted"] is True
    assert rows["impostor-dist"]["status"] == "rejected"  # claims the trusted alias 'graphics'
    assert rows["impostor-dist"]["trusted"] is False
    assert "expects distribution 'host-gpu'" in rows["impostor-dist"]["error"]
    assert rows["fast-dist"]["status"] == "ready"
    assert rows["fast-dist"]["trusted"] is False
    assert result.returncode == 1  # a rejected entry point
    assert "EntryPointRejectedWarning" in result.stderr
    table = run(site, group).stdout.splitlines()
    impostor = next(line for line in table if "impostor-dist" in line)
    assert impostor.split()[:3] == ["graphics", "no", "impostor-dist"]
    assert "rejected" in impostor
    gpu = next(line for line in table if "host-gpu" in line)
    assert gpu.split()[:4] == ["gpu", "graphics,", "g", "yes"]


def test_group_mode_without_a_host_never_says_ready(install, site, group):
    owned_group_site(install, site, group, host_source="dispatcher = None\n")
    result = run(site, group, "--json")
    rows = {row["distribution"]: row for row in json.loads(result.stdout)}
    # the impostor imports fine, but nobody can say whether to trust it
    assert rows["impostor-dist"]["status"] == "loaded"
    assert {row["trusted"] for row in rows.values()} == {None}
    assert {row["status"] for row in rows.values()} == {"loaded"}
    host = group.rpartition(".")[0]
    assert f"turnout: note: no host's dispatcher owns {group!r} here (tried {host}" in (
        result.stderr
    )
    table = run(site, group).stdout.splitlines()
    assert all("unknown (no host)" in line for line in table[1:])
    assert not any(" ready" in line for line in table)


def test_a_host_that_fails_to_import_is_noted(install, site, group):
    owned_group_site(install, site, group, host_source="raise RuntimeError('host boom')\n")
    result = run(site, group, "--json")
    assert {row["trusted"] for row in json.loads(result.stdout)} == {None}
    assert "failed (RuntimeError: host boom)" in result.stderr


def test_narrow_tables_wrap_at_spaces_and_never_inside_a_word():
    from turnout._cli import HOST_COLUMNS, render  # noqa: PLC0415

    rows = [
        {
            "name": "chunked",
            "aliases": ["chunks", "chunky", "blocks"],
            "trusted": True,
            "distribution": "example-host-arrays",
            "version": "0.1.0",
            "object_ref": "example_host_arrays.backend:ChunkedBackend",
            "status": "ready",
            "implements": ["pkg.mean", "pkg.variance", "pkg.moving_average", "pkg.RunningStats"],
            "error": "example_host_arrays.backend:ChunkedBackend raised ValueError: no good",
        }
    ]
    wide = render(rows, HOST_COLUMNS, "pkg")
    assert len(wide.splitlines()) == 2
    for width in (40, 60, 80, 100):
        table = render(rows, HOST_COLUMNS, "pkg", width)
        words = {word for line in table.splitlines() for word in line.split()}
        for cell in (
            "example_host_arrays.backend:ChunkedBackend",
            "moving_average,",
            "RunningStats",
        ):
            assert cell in words, (width, table)
        assert "Ch" not in words
        assert len(table.splitlines()) > 2  # it did wrap


def test_the_examples_backends_show(site):
    # dev.py test installs every example; CuPy is never there (no GPU), so its
    # backend is listed as failed with the reason and the pip install to fix it
    pytest.importorskip("example_host_dask", reason="the examples are not installed here")
    pytest.importorskip("numpy", reason="the NumPy example backend needs numpy")
    result = run(site, "example_host.backends", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == ["chunked", "cupy", "dask", "example_accel", "numpy"]
    assert {name for name, row in rows.items() if row["status"] == "ready"} == {
        "chunked",
        "dask",
        "example_accel",
        "numpy",
    }
    assert rows["cupy"]["status"] == "failed"
    assert "pip install cupy-cuda12x" in rows["cupy"]["error"]
    assert {row["trusted"] for row in rows.values()} == {True}
    table = run(site, "example_host.backends").stdout
    assert "example_host_arrays.backend:ChunkedBackend" in table.split()
