"""turnout's floors, read from its imports (docs/_ext), and the page that draws them."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
SOURCE = DOCS.parent / "src" / "turnout"


@pytest.fixture(scope="module")
def ext():
    """The docs' own extension modules, importable for the length of this file."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(DOCS / "_ext"))
        import import_floors  # noqa: PLC0415 - only with docs/_ext on sys.path

        yield import_floors


@pytest.fixture(scope="module")
def turnout_floors(ext):
    return ext.layers()


def floor(modules, name):
    return modules[f"turnout.{name}"].floor


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "turnout" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "turnout"


# -- turnout itself ---------------------------------------------------------------------------


def test_turnout_has_no_import_cycle_and_every_module_a_floor(turnout_floors):
    files = sorted(SOURCE.rglob("*.py"))
    assert len(turnout_floors) == len(files)
    assert {module.path for module in turnout_floors.values()} == set(files)
    assert all(module.floor >= 1 for module in turnout_floors.values())
    # the floors are consistent: each module sits above everything it imports
    for module in turnout_floors.values():
        for name in module.imports:
            assert turnout_floors[name].floor < module.floor, (module.name, name)


def test_ground_modules_sit_at_the_bottom(turnout_floors):
    assert floor(turnout_floors, "_errors") in (1, 2)
    assert floor(turnout_floors, "_names") in (1, 2)
    assert floor(turnout_floors, "_lazytyping") == 1


def test_the_dispatcher_sits_above_what_it_wires(turnout_floors):
    assert floor(turnout_floors, "_dispatcher") > floor(turnout_floors, "_function")
    assert floor(turnout_floors, "_function") > floor(turnout_floors, "_chain")
    assert floor(turnout_floors, "_chain") > floor(turnout_floors, "_codegen")


# -- how imports are read -----------------------------------------------------------------------


def test_imports_count_wherever_they_sit(ext, tmp_path):
    root = write_package(
        tmp_path,
        {
            "__init__.py": '"""The package."""\nfrom turnout._top import go\n',
            "_base.py": '"""Nothing of turnout."""\nimport os\n',
            "_local.py": '"""Imports inside a function."""\ndef f():\n    from turnout import _base\n',
            "_typing.py": (
                '"""Imports for type checkers only."""\n'
                "TYPE_CHECKING = False\n"
                "if TYPE_CHECKING:\n"
                "    from ._local import f\n"
            ),
            "_top.py": '"""Everything."""\nfrom . import _typing\ndef go(): ...\n',
        },
    )
    modules = ext.layers(root)
    assert modules["turnout._base"].floor == 1
    assert modules["turnout._local"].imports == {"turnout._base"}
    assert modules["turnout._local"].floor == 2
    assert modules["turnout._typing"].imports == {"turnout._local"}
    assert modules["turnout._top"].floor == 4
    assert modules["turnout"].floor == 5
    assert modules["turnout._local"].summary == "Imports inside a function."


def test_a_cycle_fails_and_names_it(ext, tmp_path):
    root = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "_a.py": "def f():\n    from turnout._b import g\n",
            "_b.py": "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from turnout._a import f\n",
        },
    )
    with pytest.raises(ext.ImportCycleError, match=r"_a -> _b -> _a") as caught:
        ext.layers(root)
    assert caught.value.cycle == ["turnout._a", "turnout._b", "turnout._a"]


def test_import_turnout_counts_the_names_it_reads(ext, tmp_path):
    root = write_package(
        tmp_path,
        {
            "__init__.py": (
                "from turnout._low import Low\n"
                "from turnout._user import use\n"
                "TYPE_CHECKING = False\n"
                "if TYPE_CHECKING:\n"
                "    from turnout._lazy import Lazy\n"
            ),
            "_low.py": "class Low: ...\n",
            "_lazy.py": "from turnout._low import Low\nclass Lazy(Low): ...\n",
            "_user.py": "import turnout\ndef use(x: turnout.Lazy) -> turnout.Low: ...\n",
        },
    )
    modules = ext.layers(root)  # no cycle through turnout/__init__.py
    user = modules["turnout._user"]
    assert user.imports == {"turnout._lazy", "turnout._low"}
    assert user.through_package == {"turnout.Lazy": "turnout._lazy", "turnout.Low": "turnout._low"}
    # the package object itself, passed on, is an import of the package: here a cycle
    (root / "_user.py").write_text("import turnout\nHOST = turnout\n", encoding="utf-8")
    with pytest.raises(ext.ImportCycleError, match="turnout -> _user -> turnout"):
        ext.layers(root)


# -- the directive's content ------------------------------------------------------------------


@pytest.fixture
def parse(ext, turnout_floors):
    pytest.importorskip("docutils")
    import turnout_layers  # noqa: PLC0415 - only with docs/_ext on sys.path

    return lambda *lines: turnout_layers.parse_content(list(lines), turnout_floors)


def test_content_groups_and_steps(parse):
    group_of, groups, steps = parse(
        "ground: _errors",
        "edges: testing testing.*",
        "ground: _names",
        "",
        "_function -> _chain: the route",
        "_codegen -> <backend>: the call",
    )
    assert groups == ["ground", "edges"]
    assert group_of["_errors"] == group_of["_names"] == "ground"
    assert group_of["testing._check"] == "edges"
    assert [(step.source, step.target) for step in steps] == [
        ("_function", "_chain"),
        ("_codegen", "<backend>"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ground: _errors _nosuch", "'_nosuch', not a module of turnout"),
        ("edges: nosuch.*", "'nosuch.*' matches no module"),
        ("_function -> _nosuch: lost", "step 1 names '_nosuch'"),
        ("_codegen -> _function: upward", "_codegen does not import _function"),
        ("<user> -> _function: a call in", "starts outside turnout"),
        ("just words", "neither"),
    ],
)
def test_content_that_does_not_match_the_code_is_an_error(parse, line, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse(line)


def test_a_module_in_two_groups_is_an_error(parse):
    with pytest.raises(ValueError, match="'_errors' is in two groups"):
        parse("ground: _errors", "edges: _errors")


# -- the built page ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("sphinx")
    pytest.importorskip("example_host", reason="dev.py test installs the example host")
    out = tmp_path_factory.mktemp("html")
    result = subprocess.run(  # as tests/test_docs.py builds them: warnings are errors
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return (out / "how-dispatch-works.html").read_text(encoding="utf-8")


@pytest.mark.docs
def test_the_page_draws_one_box_per_module(page, turnout_floors):
    start = page.index('<div class="turnout-layers"><svg')
    svg = page[start : page.index("</svg>", start)]
    assert "<script" not in svg
    boxes = re.findall(r'<g class="turnout-module"><title>(turnout[\w.]*):', svg)
    assert sorted(boxes) == sorted(turnout_floors)
    assert len(re.findall(r'<g class="turnout-step">', svg)) == 7
    assert 'class="turnout-outside"' in svg  # the backend's function


@pytest.mark.docs
def test_the_page_lists_every_module_and_explains_the_steps(page, turnout_floors):
    table = page[page.index("turnout-modules") :]
    table = table[: table.index("</table>")]
    for module in turnout_floors.values():
        assert f'<span class="pre">{module.short}</span>' in table, module.name
    for name in ("DispatchedFunction.miss", "_decision.decide", "_chain.decision_route"):
        assert name in page
    assert "turnout.Snapshot" in page  # read through `import turnout` in _settings
