# ruff: noqa: INP001 - Sphinx loads docs/_ext modules from sys.path, not as a package
"""``.. turnout-layers::`` and ``.. turnout-modules::``: turnout's modules by floor, from the code.

The floors come from the imports (`import_floors`); an import cycle fails the
build, naming the cycle. The picture's content names the groups its boxes are
coloured by, then the steps of the call drawn over them::

    .. turnout-layers::

       ground: _errors _names
       edges: testing testing.*

       _function -> _chain: on a miss, the route for the selection
       _codegen -> <backend>: the route calls the backend's function

A group line is ``name: module module ...``; ``*`` makes a pattern, for the
modules no line names, and a group may take several lines. A step is ``module ->
module: what happens``, numbered in order, and must follow an import: the first
module imports the second. A name in angle brackets is outside turnout. A
module no group names is drawn in white. ``.. turnout-modules::`` lists each
module's floor and the first line of its docstring, with the group the picture
above gave it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive
from import_floors import ImportCycleError, Module, layers, short
from layers_picture import Step, is_outside, render

EXTENSION = sorted(Path(__file__).parent.glob("*.py"))
GROUPS = "turnout-layers-groups"  # what the picture grouped, for the table below it


# -- the content ---------------------------------------------------------------------------


def parse_content(
    lines: list[str], modules: dict[str, Module]
) -> tuple[dict[str, str], list[str], list[Step]]:
    """Return the group of each module, the groups in order, and the steps.

    A name with ``*`` is a pattern (``testing.*``): it takes the modules it
    matches that no line names.

    Raises
    ------
    ValueError
        A line names a module that does not exist (or a pattern matching none),
        names one twice, or gives a step that does not follow an import.
    """
    by_short = {module.short: module for module in modules.values()}
    group_of: dict[str, str] = {}
    groups: list[str] = []
    patterns: list[tuple[str, str]] = []
    steps: list[Step] = []
    for line in filter(None, (line.strip() for line in lines)):
        head, colon, text = line.partition(":")
        if not colon:
            raise ValueError(f"{line!r} is neither 'group: modules' nor 'a -> b: what happens'")
        if "->" in head:
            source, _, target = (part.strip() for part in head.partition("->"))
            steps.append(check_step(Step(source, target, text.strip()), len(steps) + 1, by_short))
        else:
            if head.strip() not in groups:  # a long group may take several lines
                groups.append(head.strip())
            patterns += read_group(head.strip(), text.split(), by_short, group_of)
    for pattern, group in patterns:
        matched = [name for name in by_short if fnmatchcase(name, pattern)]
        if not matched:
            raise ValueError(f"group {group!r}: {pattern!r} matches no module of turnout")
        for name in matched:
            group_of.setdefault(name, group)
    return group_of, groups, steps


def read_group(
    group: str, names: list[str], by_short: dict[str, Module], group_of: dict[str, str]
) -> list[tuple[str, str]]:
    """Put the modules `names` lists in `group`; return its patterns, for after every line."""
    patterns = []
    for name in names:
        if "*" in name:
            patterns.append((name, group))
        elif name not in by_short:
            raise ValueError(f"group {group!r} names {name!r}, not a module of turnout")
        elif name in group_of:
            raise ValueError(f"{name!r} is in two groups: {group_of[name]!r} and {group!r}")
        else:
            group_of[name] = group
    return patterns


def check_step(step: Step, number: int, by_short: dict[str, Module]) -> Step:
    """Return `step` if both ends exist and it follows an import; raise ValueError if not."""
    for end in (step.source, step.target):
        if not is_outside(end) and end not in by_short:
            raise ValueError(f"step {number} names {end!r}, not a module of turnout")
    if is_outside(step.source):
        raise ValueError(f"step {number} starts outside turnout ({step.source}): draw calls out")
    if not is_outside(step.target) and by_short[step.target].name not in (
        by_short[step.source].imports
    ):
        raise ValueError(
            f"step {number}: {step.source} does not import {step.target}, so it cannot call it"
        )
    return step


# -- the directives ------------------------------------------------------------------------


def read_layers(directive: Directive) -> dict[str, Module]:
    """Return the package's modules and floors; an import cycle is the directive's error."""
    env = directive.state.document.settings.env
    try:
        modules = layers()
    except ImportCycleError as error:
        message = f"{directive.name}: {error}; a module imports only from floors below it"
        raise directive.error(message) from None
    # A change to any module, or to this extension, rebuilds the page.
    for path in [*(module.path for module in modules.values()), *EXTENSION]:
        env.note_dependency(str(path))
    return modules


class LayersDirective(Directive):
    """``.. turnout-layers::``: the modules on their floors, and the path of a call."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        """Read the package, check the content against it, and return the picture."""
        modules = read_layers(self)
        try:
            group_of, groups, steps = parse_content(list(self.content), modules)
        except ValueError as error:
            raise self.error(f"{self.name}: {error}") from None
        self.state.document.settings.env.temp_data[GROUPS] = group_of  # for turnout-modules
        svg = render(modules, group_of, groups, steps)
        return [nodes.raw("", f'<div class="turnout-layers">{svg}</div>', format="html")]


class ModulesDirective(Directive):
    """``.. turnout-modules::``: each module's floor and docstring, lowest floor first.

    The group of each module comes from a ``turnout-layers`` earlier on the page.
    """

    def run(self) -> list[nodes.Node]:
        """Return the table, and the names read through the package."""
        modules = read_layers(self)
        group_of = self.state.document.settings.env.temp_data.get(GROUPS, {})
        return [self.table(modules, group_of), *self.through_package(modules)]

    def table(self, modules: dict[str, Module], group_of: dict[str, str]) -> nodes.table:
        """Return the table: floor (on a floor's first row), module, what it holds (group)."""
        table = nodes.table(classes=["turnout-modules"])
        columns = nodes.tgroup(cols=3)
        table += columns
        columns += [nodes.colspec(colwidth=width) for width in (8, 26, 66)]
        head, body = nodes.thead(), nodes.tbody()
        columns += [head, body]
        head += row([nodes.Text(text) for text in ("Floor", "Module", "What it holds")])
        floor = 0
        for module in sorted(modules.values(), key=lambda module: (module.floor, module.short)):
            summary, messages = self.state.inline_text(module.summary, self.lineno)
            group = group_of.get(module.short)
            holds = [*summary, nodes.Text(f" ({group})" if group else ""), *messages]
            shown = str(module.floor) if module.floor != floor else ""
            body += row([nodes.Text(shown), nodes.literal(text=module.short), holds])
            floor = module.floor
        return table

    @staticmethod
    def through_package(modules: dict[str, Module]) -> list[nodes.paragraph]:
        """Return which names modules read through ``import turnout``, and where they live."""
        reads = [
            (module.short, name, target)
            for module in sorted(modules.values(), key=lambda module: module.short)
            for name, target in sorted(module.through_package.items())
        ]
        if not reads:
            return []
        paragraph = nodes.paragraph(
            "", "Names read through the package, counted as imports of the modules defining them: "
        )
        for index, (reader, name, target) in enumerate(reads):
            paragraph += nodes.Text("; " if index else "")
            paragraph += [nodes.literal(text=name), nodes.Text(" in "), nodes.literal(text=reader)]
            paragraph += [nodes.Text(" (defined in "), nodes.literal(text=short(target))]
            paragraph += nodes.Text(")")
        paragraph += nodes.Text(".")
        return [paragraph]


def row(cells: list[Any]) -> nodes.row:
    """Return a table row of `cells`: a node or a list of inline nodes each."""
    made = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", *(cell if isinstance(cell, list) else [cell]))
        made += entry
    return made


def setup(app: Any) -> dict[str, Any]:
    """Register the directives (Sphinx calls it)."""
    app.add_directive("turnout-layers", LayersDirective)
    app.add_directive("turnout-modules", ModulesDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
