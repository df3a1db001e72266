"""The tutorial (docs/tutorial.rst) followed as a reader follows it.

Every code block of the page is one of three kinds, run in the page's order in
one folder:

- a block with a ``:caption:`` is a file: it is written to that path;
- a ``console`` block is commands (``$ ...``), each run in a shell with the
  tutorial's virtual environment active, and its output compared with the
  lines that follow it (``...`` matches anything; a ``pip`` command's output
  is not compared);
- ``pycon`` blocks are a Python session, run as a doctest: consecutive blocks
  with only prose between them are one session, as for a reader who keeps one
  interpreter open. Warnings are shown on standard output, as the interactive
  interpreter shows them (``<stdin>:1: Category: message``).

``/path/to/turnout`` in a command is this checkout.
"""

from __future__ import annotations

import difflib
import doctest
import os
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorial.rst"
CHECKOUT = "/path/to/turnout"
SHELL = shutil.which("bash")
pytestmark = pytest.mark.integration

SESSION = r"""
import doctest, sys, warnings

def show(message, category, filename, lineno, file=None, line=None):
    if filename.startswith("<doctest"):
        filename = "<stdin>"  # what the interactive interpreter calls its input
    sys.stdout.write(f"{filename}:{lineno}: {category.__name__}: {message}\n")

warnings.showwarning = show
text = open(sys.argv[1], encoding="utf-8").read()
test = doctest.DocTestParser().get_doctest(text, {"__name__": "__main__"}, "tutorial", None, 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""


@dataclass
class Block:
    language: str
    caption: str | None
    text: str
    line: int
    emphasized: tuple[int, ...] = ()


def code_blocks(page: str) -> list[Block]:
    """Return the page's ``code-block`` directives in order."""
    lines = page.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        match = re.match(r"^(\s*)\.\. code-block:: (\S+)\s*$", lines[index])
        index += 1
        if not match:
            continue
        start, indent = index, len(match.group(1))
        options = {}
        while index < len(lines) and re.match(r"^\s+:[\w-]+:", lines[index]):
            name, _, value = lines[index].strip()[1:].partition(":")
            options[name] = value.strip()
            index += 1
        body = []
        while index < len(lines) and (
            not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
        ):
            body.append(lines[index])
            index += 1
        text = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        emphasized = tuple(line_numbers(options.get("emphasize-lines", "")))
        blocks.append(Block(match.group(2), options.get("caption"), text, start, emphasized))
    return blocks


def line_numbers(spec: str) -> list[int]:
    """Return the lines an ``:emphasize-lines:`` option names (``5,8,11-12``)."""
    numbers: list[int] = []
    for part in filter(None, (part.strip() for part in spec.split(","))):
        first, _, last = part.partition("-")
        numbers.extend(range(int(first), int(last or first) + 1))
    return numbers


def added_lines(before: str, after: str) -> list[int]:
    """Return the numbers of the lines of `after` that `before` does not have (blank ones aside)."""
    lines = after.splitlines()
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=lines, autojunk=False)
    return [
        number + 1
        for tag, _, _, first, last in matcher.get_opcodes()
        if tag in {"insert", "replace"}
        for number in range(first, last)
        if lines[number].strip()
    ]


def steps(page: str) -> list[Block]:
    """Return the blocks to run: files, console blocks, and pycon sessions merged."""
    merged: list[Block] = []
    for block in code_blocks(page):
        if block.caption is None and block.language not in {"console", "pycon"}:
            pytest.fail(f"tutorial.rst:{block.line}: a {block.language} block without a caption")
        if block.language == "pycon" and merged and merged[-1].language == "pycon":
            merged[-1].text += block.text
            continue
        merged.append(block)
    return merged


def commands(text: str) -> list[tuple[str, list[str]]]:
    """Return each ``$`` command of a console block with the output lines after it."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line.rstrip())
    return found


def shell_environment(folder: Path) -> dict[str, str]:
    """The environment of a shell in which the tutorial's venv is active."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["TURNOUT_CACHE_DIR"] = str(folder / ".cache")
    venv = folder / ".venv"
    if venv.exists():
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


def run_console(block: Block, folder: Path) -> None:
    for command, expected in commands(block.text):
        result = subprocess.run(
            [str(SHELL), "-c", command.replace(CHECKOUT, str(ROOT))],
            cwd=folder,
            env=shell_environment(folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        where = f"tutorial.rst:{block.line}: $ {command}"
        assert result.returncode == 0, f"{where}\n{result.stdout}"
        if command.startswith("pip "):
            continue
        got = "\n".join(line.rstrip() for line in result.stdout.splitlines())
        want = "\n".join(expected).strip("\n")
        checker = doctest.OutputChecker()
        assert checker.check_output(want + "\n", got.strip("\n") + "\n", doctest.ELLIPSIS), (
            f"{where}\nexpected:\n{want}\ngot:\n{got}"
        )


def run_session(block: Block, folder: Path) -> None:
    session = folder / ".session.txt"
    session.write_text(block.text, encoding="utf-8")
    result = subprocess.run(
        [str(folder / ".venv" / "bin" / "python"), "-c", SESSION, str(session)],
        cwd=folder,
        env=shell_environment(folder),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"tutorial.rst:{block.line}:\n{result.stdout}{result.stderr}"


@pytest.mark.skipif(SHELL is None or os.name == "nt", reason="the page's commands are for bash")
def test_the_tutorial_runs_as_written(tmp_path):
    page = PAGE.read_text(encoding="utf-8")
    for block in steps(page):
        if block.caption is not None:
            path = tmp_path / block.caption
            if path.exists():  # a new version of a file highlights what changed
                before = path.read_text(encoding="utf-8")
                assert list(block.emphasized) == added_lines(before, block.text), block.line
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
        elif block.language == "console":
            run_console(block, tmp_path)
        else:
            run_session(block, tmp_path)
    # the last step's claim: the built page documents `exact` and holds the matrix
    built = (tmp_path / "mystats" / "docs" / "_build" / "index.html").read_text(encoding="utf-8")
    assert "<strong>exact</strong>" in built
    for cell in ("mystats.rescale", "yes, adds", "host’s code"):
        assert cell in built, cell
