"""``python -m turnout stubs``: stubs that add the selector, and nothing else."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout._stubs import SELECTOR_TYPE, patch

pytest.importorskip("mypy.stubgen", reason="turnout stubs uses mypy's stubgen")

NAMES = st.sampled_from(["a", "b", "c", "d", "e", "values", "window", "n"])


@st.composite
def parameter_lists(draw):
    """A valid stub parameter list and the parameters it declares, by kind."""
    names = draw(st.lists(NAMES, unique=True, max_size=6))
    kinds = draw(
        st.lists(st.sampled_from(["pos", "either", "kw"]), min_size=len(names), max_size=len(names))
    )
    ordered = sorted(
        zip(names, kinds, strict=True), key=lambda pair: ["pos", "either", "kw"].index(pair[1])
    )
    star = draw(st.booleans())
    double = draw(st.booleans())
    parts, defaulted = [], False
    for name, kind in ordered:
        if kind == "kw":
            continue
        default = defaulted or draw(st.booleans())
        defaulted = default
        parts.append(f"{name}: int" + (" = 0" if default else ""))
    positional_only = sum(1 for _, kind in ordered if kind == "pos")
    if positional_only:
        parts.insert(positional_only, "/")
    keyword = [
        f"{name}: str" + (" = ''" if draw(st.booleans()) else "")
        for name, kind in ordered
        if kind == "kw"
    ]
    if star:
        parts.append("*args: int")
    elif keyword:
        parts.append("*")
    parts += keyword
    if double:
        parts.append("**kwargs: object")
    return ", ".join(parts)


def dump(value):
    if isinstance(value, list):
        return [ast.dump(item) for item in value]
    return None if value is None else ast.dump(value)


@given(parameter_lists(), st.booleans(), st.booleans())
def test_the_selector_is_added_keyword_only_and_nothing_else_changes(
    parameters, decorated, wrapped
):
    line = f"def f({parameters}) -> int: ..."
    if wrapped and len(parameters) > 10:  # a signature split over lines, as a long one is
        line = line.replace(", ", ",\n    ", 1)
    source = (
        ("@backend_dispatch\n" if decorated else "") + line + "\ndef other(x: int) -> int: ...\n"
    )
    patched, notes = patch(source, {"f"}, set(), "backend")
    assert notes == []
    before = ast.parse(source).body[0].args
    function, other = ast.parse(patched).body
    after = function.args
    assert function.decorator_list == []
    assert ast.dump(other) == ast.dump(ast.parse(source).body[-1])
    for field in ("posonlyargs", "args", "vararg", "kwarg", "defaults"):
        assert dump(getattr(after, field)) == dump(getattr(before, field)), field
    assert [a.arg for a in after.kwonlyargs] == [*(a.arg for a in before.kwonlyargs), "backend"]
    assert ast.unparse(after.kwonlyargs[-1].annotation) == SELECTOR_TYPE
    assert isinstance(after.kw_defaults[-1], ast.Constant)
    assert after.kw_defaults[-1].value is None


def test_classes_take_it_in_init_and_need_one():
    source = (
        "class A:\n    x: int\n    def __init__(self, x: int) -> None: ...\nclass B:\n    y: int\n"
    )
    patched, notes = patch(source, set(), {"A", "B"}, "engine")
    assert f"def __init__(self, x: int, *, engine: {SELECTOR_TYPE} = None) -> None: ..." in patched
    assert notes == ["class B has no __init__ of its own: give it one so its stub can take engine="]


def test_a_parameter_of_that_name_is_left_alone():
    source = "def f(x: int, *, backend: str = 'a') -> int: ...\n"
    assert patch(source, {"f"}, set(), "backend")[0] == source


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "turnout", "stubs", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ},
    )


def test_the_example_hosts_stubs_are_up_to_date():
    pytest.importorskip("example_host", reason="the examples are not installed here")
    result = run("example_host", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_writing_checking_and_errors(site, group, tmp_path):
    site.add(
        "typedhost",
        modules={
            "typedhost/__init__.py": "from typedhost._core import area, Shape\n",
            "typedhost/_core.py": (
                "from turnout import BackendDispatcher\n"
                f"dispatcher = BackendDispatcher({group!r}, 'typedhost')\n"
                "@dispatcher.backend_dispatch\n"
                "def area(width: float, height: float = 1.0) -> float:\n"
                "    return width * height\n"
                "@dispatcher.backend_class\n"
                "class Shape:\n"
                "    def __init__(self, sides: int) -> None:\n"
                "        self.sides: int = sides\n"
            ),
        },
    )
    env_path = os.pathsep.join([str(site.root), *sys.path])

    def stubs(*args):
        return subprocess.run(
            [sys.executable, "-m", "turnout", "stubs", *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": env_path},
        )

    stub = site.root / "typedhost" / "_core.pyi"
    missing = stubs("typedhost", "--check")
    assert missing.returncode == 1
    assert f"missing: {stub}" in missing.stdout
    written = stubs("typedhost")
    assert written.returncode == 0, written.stderr
    assert "has no py.typed" in written.stderr
    text = stub.read_text()
    assert text.startswith("# Generated by `python -m turnout stubs typedhost`")
    assert (
        f"def area(width: float, height: float = 1.0, *, backend: {SELECTOR_TYPE} = None) -> float: ..."
        in text
    )
    assert (
        f"def __init__(self, sides: int, *, backend: {SELECTOR_TYPE} = None) -> None: ..." in text
    )
    assert "@dispatcher" not in text
    assert stubs("typedhost", "--check").returncode == 0
    stub.write_text(text.replace("height: float", "height: int"))
    stale = stubs("typedhost", "--check")
    assert stale.returncode == 1
    assert "stale" in stale.stdout
    assert "run `python -m turnout stubs typedhost`" in stale.stderr
    elsewhere = stubs("typedhost", "-o", str(tmp_path))
    assert (tmp_path / "typedhost" / "_core.pyi").read_text() == text
    assert elsewhere.returncode == 0
    nothing = stubs("json")
    assert nothing.returncode == 2
    assert "No turnout.BackendDispatcher found for 'json'" in nothing.stderr
