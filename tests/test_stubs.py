"""``python -m turnout stubs``: stubs that add the selector, and nothing else."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout._stubs import SELECTOR_TYPE, patch, stub_path

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


def test_where_each_stub_goes_in_the_stub_package():
    assert stub_path(Path("host/_core.pyi")) == Path("host-stubs/_core.pyi")
    assert stub_path(Path("host/sub/_core.pyi")) == Path("host-stubs/sub/_core.pyi")
    assert stub_path(Path("host/sub/__init__.pyi")) == Path("host-stubs/sub/__init__.pyi")
    assert stub_path(Path("host/__init__.pyi")) == Path("host-stubs/__init__.pyi")
    assert stub_path(Path("single.pyi")) == Path("single-stubs/__init__.pyi")


def test_a_parameter_of_that_name_is_left_alone():
    source = "def f(x: int, *, backend: str = 'a') -> int: ...\n"
    assert patch(source, {"f"}, set(), "backend")[0] == source


ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HOST = ROOT / "examples" / "example_host"


def stubs(*args, path=(), cwd=None):
    """Run ``python -m turnout stubs`` with `path` first on ``PYTHONPATH``."""
    env_path = os.pathsep.join([*map(str, path), *sys.path])
    return subprocess.run(
        [sys.executable, "-m", "turnout", "stubs", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": env_path},
    )


def test_the_example_hosts_stubs_are_up_to_date():
    # from its source checkout: the default output is examples/example_host/stubs
    result = stubs("example_host", "--check", path=[EXAMPLE_HOST / "src"])
    assert result.returncode == 0, result.stdout + result.stderr
    package = EXAMPLE_HOST / "stubs" / "example_host-stubs"
    assert f"up to date: {package / '_stats.pyi'}" in result.stdout
    assert f"up to date: {package / 'py.typed'}" in result.stdout
    assert (package / "py.typed").read_text() == "partial\n"
    assert not list((EXAMPLE_HOST / "src").rglob("*.pyi")), "stubs beside code hide it from mypy"


CORE = """\
from turnout import BackendDispatcher
dispatcher = BackendDispatcher({group!r}, 'typedhost')
@dispatcher.backend_dispatch
def area(width: float, height: float = 1.0) -> float:
    return width * height
@dispatcher.backend_class
class Shape:
    def __init__(self, sides: int) -> None:
        self.sides: int = sides
"""


def write_project(root, group, *, nested=False):
    """A source checkout: ``root/pyproject.toml`` and ``root/src/typedhost``."""
    package = root / "src" / "typedhost"
    core = package / "geometry" if nested else package
    core.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'typedhost'\nversion = '1'\n")
    module = "typedhost.geometry._core" if nested else "typedhost._core"
    (package / "__init__.py").write_text(f"from {module} import area, Shape\n")
    if nested:
        (core / "__init__.py").write_text("")
    (core / "_core.py").write_text(CORE.format(group=group))
    return root / "src"


def test_a_source_checkout_gets_a_stub_package_in_its_stubs_directory(tmp_path, group):
    source = write_project(tmp_path / "project", group)
    package = tmp_path / "project" / "stubs" / "typedhost-stubs"
    stub = package / "_core.pyi"
    missing = stubs("typedhost", "--check", path=[source])
    assert missing.returncode == 1
    assert f"missing: {stub}" in missing.stdout
    assert "run `python -m turnout stubs typedhost`" in missing.stderr
    written = stubs("typedhost", path=[source])
    assert written.returncode == 0, written.stderr
    assert written.stdout.splitlines() == [f"wrote: {stub}", f"wrote: {package / 'py.typed'}"]
    assert "has no py.typed" in written.stderr
    assert (package / "py.typed").read_text() == "partial\n"
    assert not list(source.rglob("*.pyi"))
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
    assert stubs("typedhost", "--check", path=[source]).returncode == 0
    stub.write_text(text.replace("height: float", "height: int"))
    stale = stubs("typedhost", "--check", path=[source])
    assert stale.returncode == 1
    assert f"stale: {stub}" in stale.stdout
    # a module that stops dispatching: its old stub would hide its code, so it goes
    leftover = package / "_old.pyi"
    leftover.write_text(text)
    mine = package / "_hand_written.pyi"
    mine.write_text("x: int\n")
    stale = stubs("typedhost", "--check", path=[source])
    assert f"left over: {leftover}" in stale.stdout
    assert "_hand_written" not in stale.stdout
    assert stale.returncode == 1
    again = stubs("typedhost", path=[source])
    assert again.returncode == 0
    assert f"removed: {leftover}" in again.stdout
    assert not leftover.exists()
    assert mine.exists()
    assert stub.read_text() == text


def test_out_writes_where_it_is_told_and_o_is_its_alias(tmp_path, group):
    source = write_project(tmp_path / "project", group, nested=True)
    for option, directory in (("--out", tmp_path / "a"), ("-o", tmp_path / "b")):
        result = stubs("typedhost", option, directory, path=[source])
        assert result.returncode == 0, result.stderr
        assert (directory / "typedhost-stubs" / "geometry" / "_core.pyi").exists()
        assert (directory / "typedhost-stubs" / "py.typed").exists()
        checked = stubs("typedhost", "--check", option, directory, path=[source])
        assert checked.returncode == 0, checked.stdout
    assert not (tmp_path / "project" / "stubs").exists()
    assert not list(source.rglob("*.pyi"))


def test_without_out_an_installed_or_unplaced_host_is_refused(tmp_path, site, group):
    site.add("typedhost", modules={"typedhost/__init__.py": CORE.format(group=group)})
    nowhere = stubs("typedhost", path=[site.root])
    assert nowhere.returncode == 2
    assert "no pyproject.toml above it (not a source checkout): pass --out DIR" in nowhere.stderr
    assert not list(site.root.rglob("*.pyi"))
    pytest.importorskip("example_host", reason="the examples are not installed here")
    import example_host  # noqa: PLC0415

    installed = Path(example_host.__file__).parent
    if "site-packages" not in installed.parts:
        pytest.skip("example_host is not installed into site-packages here")
    before = sorted(installed.parent.glob("example_host*/**/*"))
    refused = stubs("example_host")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert f"example_host is imported from {installed}, an installed package" in refused.stderr
    assert "stubs are never written there. Pass --out DIR" in refused.stderr
    assert sorted(installed.parent.glob("example_host*/**/*")) == before


def test_errors_say_it_once(tmp_path, group):
    source = write_project(tmp_path / "project", group)
    fake = tmp_path / "fake"  # a mypy without stubgen: as if mypy were not installed
    (fake / "mypy").mkdir(parents=True)
    (fake / "mypy" / "__init__.py").write_text("")
    result = stubs("typedhost", path=[fake, source])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "turnout stubs: mypy's stubgen makes the stubs, and mypy is not installed: pip install mypy"
    ]
    nothing = stubs("json")
    assert nothing.returncode == 2
    assert nothing.stderr.startswith("turnout stubs: No turnout.BackendDispatcher found for 'json'")
    assert nothing.stderr.count("turnout stubs") == 1
