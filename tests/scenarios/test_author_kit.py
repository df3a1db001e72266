"""A backend author's first hour: the kit's helpers, and the pages for authors run as written."""

from __future__ import annotations

import doctest
import math
import os
import re
import textwrap
import types
from pathlib import Path

import pytest

from turnout.testing import compare_results
from turnout.testing._known import known_patterns, matches

pytest_plugins = ["pytester"]
DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["backend-tutorial", "backend-classes", "backend-hooks", "backend-trust", "backend-ci"]


# -- compare_results: the default judge of --turnout-compare ------------------------------


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (0.1 + 0.2, 0.3),
        (math.nan, math.nan),
        ([1, (2.0, 3.0)], (1, [2.0, 3.0 + 1e-12])),
        ({"a": [1.0], "b": "x"}, {"b": "x", "a": [1.0 + 1e-15]}),
        (complex(1, 1e-20), complex(1, 0)),
        (3, 3),
        ("text", "text"),
    ],
)
def test_results_that_agree(result, expected):
    assert compare_results(result, expected) is True


@pytest.mark.parametrize(
    ("result", "expected", "where"),
    [
        (1.0, 1.1, "1.0 != 1.1"),
        ([0.3, 1.0], [0.3, 2.0], "at [1]: 1.0 != 2.0"),
        ([1.0], [1.0, 2.0], "lengths differ: 1 != 2"),
        ({"a": 1}, {"b": 1}, "keys differ: 'a', 'b' in only one of them"),
        ({"a": [1, 2]}, {"a": [1, 3]}, "at ['a'][1]: 2 != 3"),
        (math.nan, 1.0, "nan != 1.0"),
        (1.0, "1.0", "1.0 != '1.0'"),
        (2, 3, "2 != 3"),
    ],
)
def test_results_that_differ_say_where(result, expected, where):
    assert compare_results(result, expected) == where


def test_tolerances_and_a_comparison_that_raises():
    assert compare_results(1.0, 1.001, rel_tol=1e-2) is True
    assert compare_results(0.0, 1e-12, abs_tol=1e-9) is True

    class Stubborn:
        def __eq__(self, other):
            raise ValueError("ambiguous")

        __hash__ = None

    assert compare_results(Stubborn(), Stubborn()) == (
        "cannot compare them: == raised ValueError: ambiguous"
    )


def test_arrays_are_compared_element_by_element():
    numpy = pytest.importorskip("numpy")
    assert compare_results(numpy.array([0.1 + 0.2, 1.0]), [0.3, 1.0]) is True
    assert compare_results(numpy.zeros((2, 2)), numpy.zeros(3)) == "shapes differ: (2, 2) != (3,)"
    assert compare_results(numpy.array([1.0, 2.0]), numpy.array([1.0, 2.5])) == (
        "arrays differ first at [1]: 2.0 != 2.5"
    )


# -- known failures: the patterns a backend declares ----------------------------------------


def item(nodeid):
    name = nodeid.rpartition("::")[2]
    return types.SimpleNamespace(nodeid=nodeid, name=name, originalname=name.partition("[")[0])


@pytest.mark.parametrize(
    ("pattern", "nodeid", "expected"),
    [
        ("test_mean", "tests/test_stats.py::test_mean[int]", True),
        ("test_mean[int]", "tests/test_stats.py::test_mean[int]", True),
        ("test_mean[float]", "tests/test_stats.py::test_mean[int]", False),
        ("test_me*", "tests/test_stats.py::test_mean", True),
        ("tests/test_stats.py::test_mean", "tests/test_stats.py::test_mean", True),
        ("test_stats.py::test_*", "tests/test_stats.py::test_mean", True),
        ("test_other.py::test_*", "tests/test_stats.py::test_mean", False),
        ("test_variance", "tests/test_stats.py::test_mean", False),
    ],
)
def test_known_failure_patterns(pattern, nodeid, expected):
    assert matches(item(nodeid), pattern) is expected


def test_known_failures_are_a_mapping_or_a_list():
    assert known_patterns({"test_a": "why"}) == {"test_a": "why"}
    assert known_patterns(["test_a", "test_b"]) == {"test_a": "", "test_b": ""}
    with pytest.raises(TypeError, match="got str"):
        known_patterns("test_a")


# -- the pages for backend authors run as written -------------------------------------------


def blocks(page, language):
    """Yield ``(caption, text)`` of each ``code-block`` of `language` in a page, in order."""
    lines = (DOCS / f"{page}.rst").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        found = re.match(r"^(\s*)\.\. code-block:: (\S+)\s*$", line)
        if found is None or found.group(2) != language:
            continue
        indent, caption, body = len(found.group(1)), "", []
        rest = iter(lines[index + 1 :])
        for option in rest:
            if option.strip().startswith(":caption:"):
                caption = option.split(":caption:", 1)[1].strip()
            elif not option.strip().startswith(":"):
                break
        for text in rest:
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            body.append(text)
        yield caption, textwrap.dedent("\n".join(body)).strip("\n") + "\n"


@pytest.mark.parametrize("page", [page for page in PAGES if page != "backend-ci"])
def test_the_python_sessions_of_a_page_run_as_written(page):
    pytest.importorskip("example_host_accel", reason="dev.py test installs the examples")
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    globs = {"__name__": "__main__"}  # one session per page, block after block
    sessions = list(blocks(page, "pycon"))
    assert sessions
    for number, (_, text) in enumerate(sessions):
        test = parser.get_doctest(text, globs, f"{page}[{number}]", f"{page}.rst", 0)
        runner.run(test, out=lambda report: pytest.fail(report, pytrace=False), clear_globs=False)
        globs = test.globs  # a DocTest runs in a copy


def test_the_suite_of_the_ci_page_runs_as_shown(pytester, monkeypatch):
    pytest.importorskip("example_host_accel", reason="dev.py test installs the examples")
    (suite,) = [text for caption, text in blocks("backend-ci", "python") if caption]
    pytester.mkpydir("tests")
    (pytester.path / "tests" / "test_stats.py").write_text(suite, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    for _, shown in blocks("backend-ci", "console"):
        command = shown.splitlines()[0].removeprefix("$ python -m pytest ").split()
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *command)
        out = result.stdout.str()
        for line in shown.splitlines()[1:]:
            if line.strip() == "..." or (line.startswith("=" * 10) and " in " in line):
                continue
            assert line.strip() in out, line
