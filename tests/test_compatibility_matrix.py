"""``pytest --turnout-backend=all``: every test on every backend, in real pytest subprocesses."""

from __future__ import annotations

import json
import os

import pytest

pytest_plugins = ["pytester"]

HOST = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "matrixhost", trusted_backends={trusted})


@dispatcher.backend_dispatch
def add(a, b):
    return a + b


@dispatcher.backend_dispatch
def scale(x):
    return x * 2


@dispatcher.backend_dispatch
def negate(x):
    return -x


@dispatcher.backend_dispatch
def unused(x):
    return x
"""
TRUSTED = {"gpu": {"package": "matrix-gpu"}, "jit": {"package": "matrix-jit"}}

GPU = """
class Backend:
    name = "gpu"

    def add(self, a, b):
        return a + b

    def scale(self, x):
        if x < 0:
            raise NotImplementedError("negative values")
        return x * 2

    def unused(self, x):
        return x
"""

JIT = """
class Backend:
    name = "jit"

    def add(self, a, b):
        return a + b + 1  # wrong

    def negate(self, x):
        return -x
"""

SUITE = """
import matrixhost

def test_add():
    assert matrixhost.add(1, 2) == 3

def test_scale():
    assert matrixhost.scale(2) == 4
    assert matrixhost.scale(-1) == -2

def test_negate():
    assert matrixhost.negate(1) == -1
"""


@pytest.fixture
def hosted(pytester, site, group, monkeypatch):
    """Install the host and the backends given, write a suite, and return the pytester."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")])
    )

    def make(backends=None, *, tests=SUITE, host=HOST, trusted=TRUSTED, **files):
        for name, source in (
            backends if backends is not None else {"gpu": GPU, "jit": JIT}
        ).items():
            module = f"matrix_{name}"
            modules = {f"{module}.py": source} if source is not None else {}
            entry = {group: {name: f"{module}:Backend"}}
            site.add(f"matrix-{name}", entry_points=entry, modules=modules)
        site.add("matrixhost", modules={"matrixhost.py": host.format(group=group, trusted=trusted)})
        pytester.makepyfile(test_suite=tests, **files)
        return pytester

    return make


def run(suite, *options):
    return suite.runpytest_subprocess("-p", "no:cacheprovider", *options)


def read(path):
    return json.loads(path.read_text(encoding="utf-8"))


def cell(data, function, backend):
    rows = {row["name"]: row["cells"] for row in data["functions"]}
    return rows[function][backend]


def test_every_test_runs_on_the_hosts_code_and_on_each_backend(hosted):
    suite = hosted()
    result = run(suite, "--turnout-backend=all", "-v")
    result.assert_outcomes(passed=8, failed=1)  # 3 tests x (cpu, gpu, jit); add is wrong on jit
    out = result.stdout.str()
    for test in ("test_add", "test_scale", "test_negate"):
        for backend in ("cpu", "gpu", "jit"):
            assert f"test_suite.py::{test}[turnout:{backend}] " in out
    assert "FAILED test_suite.py::test_add[turnout:jit]" in out
    assert "turnout: every backend" in out
    assert "3 test(s) of matrixhost, each on cpu (the host's code), gpu 1.0 (matrix-gpu), " in out


def test_the_matrix_as_json(hosted, tmp_path):
    suite = hosted()
    target = tmp_path / "out" / "matrix.json"
    result = run(suite, "--turnout-backend=all", f"--turnout-matrix={target}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = read(target)
    assert data["turnout-compatibility"] == 1
    assert data["hosts"] == ["matrixhost"]
    assert [b["name"] for b in data["backends"]] == ["cpu", "gpu", "jit"]
    assert data["backends"][1] == {
        "name": "gpu",
        "distribution": "matrix-gpu",
        "version": "1.0",
        "problem": None,
    }
    assert [row["name"] for row in data["functions"]] == [
        "matrixhost.add",
        "matrixhost.scale",
        "matrixhost.negate",
        "matrixhost.unused",
    ]
    assert cell(data, "matrixhost.add", "jit") == {
        "implements": True,
        "ran": 1,
        "tests": 1,
        "fell_back": {},
        "declined": {},
        "failed": ["test_suite.py::test_add"],
        "xfailed": [],
    }
    scale = cell(data, "matrixhost.scale", "gpu")
    assert scale["ran"] == 1
    assert scale["declined"] == {"gpu: raised NotImplementedError: negative values": 1}
    assert scale["fell_back"] == {"gpu: raised NotImplementedError: negative values": 1}
    negate = cell(data, "matrixhost.negate", "gpu")
    assert negate["implements"] is False
    assert negate["fell_back"] == {"gpu: does not implement it": 1}
    assert cell(data, "matrixhost.negate", "jit")["ran"] == 1
    unused = cell(data, "matrixhost.unused", "gpu")
    assert (unused["implements"], unused["tests"], unused["ran"]) == (True, 0, 0)
    cpu = cell(data, "matrixhost.add", "cpu")
    assert (cpu["ran"], cpu["tests"], cpu["failed"]) == (None, 1, [])
    tests = {row["id"]: row["outcomes"] for row in data["tests"]}
    assert tests["test_suite.py::test_add"] == {"cpu": "passed", "gpu": "passed", "jit": "failed"}
    assert tests["test_suite.py::test_negate"] == {
        "cpu": "passed",
        "gpu": "passed",
        "jit": "passed",
    }


def test_the_matrix_as_markdown(hosted, tmp_path):
    suite = hosted()
    target = tmp_path / "matrix.md"
    run(suite, "--turnout-backend=all", f"--turnout-matrix={target}")
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Backend compatibility\n")
    assert "| function | cpu | gpu | jit |" in text
    assert "| `matrixhost.add` | 1 test(s) | ran 1 | ran 1, **failed 1** |" in text
    assert "| `matrixhost.negate` | 1 test(s) | lacks it, fell back 1 | ran 1 |" in text
    assert "- `matrixhost.negate` on gpu: fell back 1 time(s): gpu: does not implement it" in text
    # a declined call falls back: one line says both
    scale = [line for line in text.splitlines() if line.startswith("- `matrixhost.scale` on gpu")]
    expected = "declined 1 time(s), fell back: gpu: raised NotImplementedError: negative values"
    assert scale == [f"- `matrixhost.scale` on gpu: {expected}"]
    assert "| `test_suite.py::test_add` | passed | passed | failed |" in text


def test_one_run_writes_both_formats(hosted, tmp_path):
    suite = hosted()
    json_path, md_path = tmp_path / "m.json", tmp_path / "m.md"
    result = run(
        suite,
        "--turnout-backend=all",
        f"--turnout-matrix={json_path}",
        f"--turnout-matrix={md_path}",
    )
    assert read(json_path)["turnout-compatibility"] == 1
    assert md_path.read_text(encoding="utf-8").startswith("# Backend compatibility")
    assert f"compatibility matrix written to {json_path}, {md_path}" in result.stdout.str()


def test_the_matrix_option_needs_all_and_a_known_suffix(hosted, tmp_path):
    suite = hosted()
    result = run(suite, "--turnout-backend=gpu", f"--turnout-matrix={tmp_path / 'm.json'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--turnout-matrix: give --turnout-backend=all too" in result.stderr.str()
    result = run(suite, "--turnout-backend=all", f"--turnout-matrix={tmp_path / 'm.csv'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "m.csv: name a .json or a .md file" in result.stderr.str()


# -- when there is nothing to compare --------------------------------------------------------


def test_no_installed_backend_is_a_usage_error(hosted):
    suite = hosted({})
    result = run(suite, "--turnout-backend=all")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "--turnout-backend=all: no backend is installed for matrixhost: nothing to run the tests on"
        in result.stderr.str()
    )
    result.assert_outcomes()  # nothing ran


LAZY_SUITE = """
def test_add():
    import matrixhost

    assert matrixhost.add(1, 2) == 3
"""


def test_a_suite_that_imports_its_host_only_in_tests_is_told_how_to_fix_it(hosted):
    suite = hosted(tests=LAZY_SUITE)
    result = run(suite, "--turnout-backend=all")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "imported no host that dispatches with turnout while it was collected" in (
        result.stderr.str()
    )
    assert "import the host in a test module or conftest.py" in result.stderr.str()


def test_a_backend_that_fails_to_load_skips_its_tests_and_fails_the_session(hosted, tmp_path):
    suite = hosted({"gpu": GPU, "jit": None})  # no module behind jit's entry point
    target = tmp_path / "m.json"
    result = run(suite, "--turnout-backend=all", "-rs", f"--turnout-matrix={target}")
    result.assert_outcomes(passed=6, skipped=3)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str()
    assert "--turnout-backend=all: jit: Backend 'jit' for matrixhost failed to load" in out
    assert "FAILED (exit 4): backend 'jit': Backend 'jit' for matrixhost failed to load" in out
    jit = read(target)["backends"][2]
    assert jit["name"] == "jit"
    assert "No module named 'matrix_jit'" in jit["problem"]


def test_a_backend_that_ran_no_call_fails_the_session_unless_allowed(hosted):
    suite = hosted(tests=SUITE.replace("matrixhost.negate(1)", "-1"))
    result = run(suite, "--turnout-backend=all", "-k", "not add")
    out = result.stdout.str()
    assert "FAILED (exit 1): backend 'jit': it ran no call" in out
    assert "backend 'gpu'" not in out  # gpu ran scale
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result = run(suite, "--turnout-backend=all", "-k", "not add", "--turnout-allow-unused")
    assert result.ret == pytest.ExitCode.OK


def test_untrusted_backends_under_filterwarnings_error(hosted):
    suite = hosted(trusted={})
    suite.makeini("[pytest]\nfilterwarnings = error\n")
    result = run(suite, "--turnout-backend=all")
    result.assert_outcomes(passed=8, failed=1)
    out = result.stdout.str()
    assert "loading the backends warned (users see this too): UntrustedBackendWarning" in out


# -- what a backend says of its own tests, per backend ------------------------------------------

KNOWING_GPU = (
    GPU
    + """
    def on_start_tests(self, items):
        import pytest

        for item in items:
            if item.name == "test_scale":  # written for a run on gpu alone
                item.add_marker(pytest.mark.skip(reason="scaling is slow here"))
"""
)

KNOWING_JIT = (
    JIT
    + """
    known_failures = {"test_add": "adds one", "test_suite.py::test_power[3]": "no cubes"}
"""
)

POWER_SUITE = (
    SUITE
    + """

import pytest

@pytest.mark.parametrize("n", [2, 3])
def test_power(n):
    assert matrixhost.add(n, n) >= 0
"""
)


def test_known_failures_and_on_start_tests_mark_their_own_backends_tests(hosted, tmp_path):
    suite = hosted({"gpu": KNOWING_GPU, "jit": KNOWING_JIT}, tests=POWER_SUITE)
    target = tmp_path / "m.json"
    result = run(suite, "--turnout-backend=all", "-rxXs", f"--turnout-matrix={target}")
    # test_power[3] passes on jit: a strict known failure that passes fails the run
    result.assert_outcomes(passed=12, failed=1, skipped=1, xfailed=1)
    out = result.stdout.str()
    assert "XFAIL test_suite.py::test_add[turnout:jit] - known failure of backend 'jit'" in out
    assert "_ test_power[3-turnout:jit] _" in out
    assert "[XPASS(strict)] known failure of backend 'jit': no cubes" in out
    assert "scaling is slow here" in out
    tests = {row["id"]: row["outcomes"] for row in read(target)["tests"]}
    assert tests["test_suite.py::test_scale"] == {
        "cpu": "passed",
        "gpu": "skipped",
        "jit": "passed",
    }
    assert tests["test_suite.py::test_add"]["jit"] == "xfailed"
    assert tests["test_suite.py::test_power[2]"] == {
        "cpu": "passed",
        "gpu": "passed",
        "jit": "passed",
    }
    assert cell(read(target), "matrixhost.add", "jit")["xfailed"] == ["test_suite.py::test_add"]
    assert cell(read(target), "matrixhost.add", "jit")["failed"] == ["test_suite.py::test_power[3]"]


def test_xfail_missing_ends_each_backends_tests_of_what_it_lacks(hosted, tmp_path):
    suite = hosted()
    target = tmp_path / "m.json"
    result = run(
        suite, "--turnout-backend=all", "--turnout-xfail-missing", f"--turnout-matrix={target}"
    )
    result.assert_outcomes(passed=6, failed=1, xfailed=2)
    out = result.stdout.str()
    assert "gpu: expected failures, matrixhost.negate not implemented: 1 test(s)" in out
    assert "jit: expected failures, matrixhost.scale not implemented: 1 test(s)" in out
    data = read(target)
    assert cell(data, "matrixhost.negate", "gpu")["xfailed"] == ["test_suite.py::test_negate"]
    assert cell(data, "matrixhost.scale", "jit")["xfailed"] == ["test_suite.py::test_scale"]
    assert cell(data, "matrixhost.scale", "gpu")["xfailed"] == []  # declined, not missing


LOOSE_SUITE = """
import matrixhost

def test_add():
    assert matrixhost.add(1, 2) > 0
"""


def test_compare_fails_the_test_of_the_backend_that_disagrees(hosted, tmp_path):
    suite = hosted(tests=LOOSE_SUITE)
    run(suite, "--turnout-backend=all").assert_outcomes(passed=3)
    target = tmp_path / "m.json"
    result = run(suite, "--turnout-backend=all", "--turnout-compare", f"--turnout-matrix={target}")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "FAILED test_suite.py::test_add[turnout:jit]" in out
    assert "matrixhost.add: backend 'jit' returned 4, the host's code 3: 4 != 3" in out
    assert "gpu: compared with the host's code: 1 call(s)" in out
    assert cell(read(target), "matrixhost.add", "jit")["failed"] == ["test_suite.py::test_add"]


# -- what runs once, and what the cpu column is ---------------------------------------------------

DOCTESTED = '''
import matrixhost

def double(x):
    """
    >>> double(2)
    4
    """
    return matrixhost.scale(x)

def test_the_backend_selected_is_the_fixtures(turnout_backend):
    assert matrixhost.dispatcher.settings.backend == turnout_backend
'''


def test_doctests_run_once_and_the_cpu_column_selects_nothing(hosted):
    suite = hosted(tests=DOCTESTED)
    result = run(suite, "--turnout-backend=all", "--doctest-modules", "-v")
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    assert "test_suite.py::test_suite.double PASSED" in out
    assert "1 test(s) ran once, with no backend selected" in out


# -- the JSON: its version, and Sphinx ---------------------------------------------------------

CONF = """
project = "matrix"
extensions = ["turnout.sphinxext"]
"""

PAGE = """
Compatibility
=============

.. turnout-compatibility:: {path}
   :tests:
"""


def sphinx_build(source, target):
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_sphinx_renders_the_json(hosted, tmp_path):
    pytest.importorskip("sphinx")
    from tests.test_docs import text_of  # noqa: PLC0415 - the page's visible text

    docs = tmp_path / "docs"
    (docs / "data").mkdir(parents=True)
    run(hosted(), "--turnout-backend=all", f"--turnout-matrix={docs / 'data' / 'matrix.json'}")
    (docs / "conf.py").write_text(CONF, encoding="utf-8")
    (docs / "index.rst").write_text(PAGE.format(path="data/matrix.json"), encoding="utf-8")
    built = sphinx_build(docs, tmp_path / "html")
    assert built.returncode == 0, built.stderr
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    first = html[html.index("<table") : html.index("</table>")]
    text = " ".join(text_of(first).split())
    assert "function cpu gpu jit" in text
    assert "matrixhost.add 1 test(s) ran 1 ran 1, failed 1" in text
    assert "<strong>failed 1</strong>" in first
    assert "matrixhost.negate 1 test(s) lacks it, fell back 1 ran 1" in text
    page = " ".join(text_of(html).split())
    assert "matrixhost.negate on gpu: fell back 1 time(s): gpu: does not implement it" in page
    tests = html[html.index("<table", html.index("</table>")) :]
    assert "test_suite.py::test_add passed passed failed" in " ".join(text_of(tests).split())


def test_sphinx_says_which_file_it_cannot_read(tmp_path):
    pytest.importorskip("sphinx")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text(CONF, encoding="utf-8")
    (docs / "index.rst").write_text(PAGE.format(path="missing.json"), encoding="utf-8")
    built = sphinx_build(docs, tmp_path / "html")
    assert built.returncode != 0
    assert "turnout-compatibility:" in built.stderr
    assert "missing.json" in built.stderr
    (docs / "later.json").write_text('{"turnout-compatibility": 2}', encoding="utf-8")
    (docs / "index.rst").write_text(PAGE.format(path="later.json"), encoding="utf-8")
    built = sphinx_build(docs, tmp_path / "html")
    assert "compatibility matrix version 2; this turnout reads version 1" in built.stderr
