# ruff: noqa: INP001 - Sphinx loads docs/_ext modules from sys.path, not as a package
"""turnout's modules and the floors their imports put them on, read with `ast` (nothing imported).

A module's *floor* is 1 when it imports nothing of turnout, else one more than
the highest floor it imports from. Every import statement counts, wherever it
sits: at the top, inside a function, under ``if TYPE_CHECKING:``.

Two things are not imports in this sense. Importing ``turnout._x`` runs
``turnout/__init__.py`` first, so a module's own packages are never counted
for that. And ``import turnout`` inside turnout runs nothing (the package is
already being imported): what the module depends on is the names it reads
through it, so ``turnout.Snapshot`` counts as an import of the module that
defines `Snapshot` (re-exports followed).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "turnout"
SOURCE = Path(__file__).resolve().parents[2] / "src" / PACKAGE


class ImportCycleError(Exception):
    """Modules of the package import each other in a circle."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("import cycle: " + " -> ".join(map(short, cycle)))


@dataclass
class Module:
    """One module of the package: its file, its docstring's first line, what it imports."""

    name: str
    path: Path
    tree: ast.Module = field(repr=False)
    summary: str
    imports: set[str] = field(default_factory=set)
    # "turnout.Snapshot", read through `import turnout` -> the module that defines it
    through_package: dict[str, str] = field(default_factory=dict)
    floor: int = 0

    @property
    def short(self) -> str:
        """The name the picture shows: ``_chain``, ``testing._check``, ``turnout``."""
        return short(self.name)


def short(name: str) -> str:
    """Return a dotted module name without the leading ``turnout.``."""
    return name.removeprefix(PACKAGE + ".")


def layers(root: Path = SOURCE) -> dict[str, Module]:
    """Return the package's modules by dotted name, with their imports and floors.

    Raises
    ------
    ImportCycleError
        Some modules import each other, directly or through others.
    """
    modules = read_modules(root)
    for module in modules.values():
        read_imports(module, modules)
    assign_floors(modules)
    return modules


def read_modules(root: Path) -> dict[str, Module]:
    """Return every module under `root`, parsed (imports not read yet)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = (ast.get_docstring(tree) or "").strip().splitlines()
        name = ".".join(parts)
        modules[name] = Module(name, path, tree, lines[0] if lines else "")
    return modules


def absolute(module: Module, node: ast.ImportFrom) -> str:
    """Return the module a ``from ... import`` names, a relative one made absolute."""
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    if module.path.name != "__init__.py":
        parts.pop()
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def known(name: str, modules: dict[str, Module]) -> str | None:
    """Return the longest module of the package that `name` is or lies in, if any."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts) or None


def inside(package: str, module: str) -> bool:
    """Return whether `module` is `package` or lies in it (Python runs `package` first)."""
    return module == package or module.startswith(package + ".")


def defining(
    package: str,
    name: str,
    modules: dict[str, Module],
    seen: frozenset[tuple[str, str]] = frozenset(),
) -> str:
    """Return the module defining `name` as `package` offers it, following re-exports."""
    if f"{package}.{name}" in modules:
        return f"{package}.{name}"
    if (package, name) in seen:
        return package
    for node in ast.walk(modules[package].tree):
        if isinstance(node, ast.ImportFrom):
            base = known(absolute(modules[package], node), modules)
            for alias in node.names:
                if base is not None and (alias.asname or alias.name) == name:
                    return defining(base, alias.name, modules, seen | {(package, name)})
    return package


def read_imports(module: Module, modules: dict[str, Module]) -> None:
    """Fill in what `module` imports of the package, wherever its import statements sit."""
    packages: dict[str, str] = {}  # a name bound to a package `module` lies in -> that package
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = known(alias.name, modules)
                if target is None:
                    continue
                if alias.asname is None and "." in alias.name:  # `import turnout.dask`
                    packages[PACKAGE] = PACKAGE  # binds `turnout`
                    module.imports.add(target)
                elif inside(target, module.name):
                    packages[alias.asname or alias.name] = target
                else:
                    module.imports.add(target)
        elif isinstance(node, ast.ImportFrom):
            read_import_from(module, node, modules)
    read_package_uses(module, modules, packages)
    module.imports.discard(module.name)


def read_import_from(module: Module, node: ast.ImportFrom, modules: dict[str, Module]) -> None:
    """Add what one ``from ... import`` statement of `module` imports of the package."""
    base = absolute(module, node)
    found = known(base, modules)
    if found is None:
        return
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:  # a submodule
            module.imports.add(f"{base}.{alias.name}")
        elif inside(found, module.name):  # a name of a package `module` lies in
            target = defining(found, alias.name, modules)
            module.through_package[f"{found}.{alias.name}"] = target
            module.imports.add(target)
        else:
            module.imports.add(found)


def read_package_uses(module: Module, modules: dict[str, Module], packages: dict[str, str]) -> None:
    """Count each ``turnout.X`` read through an imported own package as an import of X's module."""
    if not packages:
        return
    read = [
        node
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in packages
    ]
    for node in read:
        package = packages[node.value.id]
        target = defining(package, node.attr, modules)
        module.through_package[f"{package}.{node.attr}"] = target
        module.imports.add(target)
    attribute_owners = {id(node.value) for node in read}
    for node in ast.walk(module.tree):
        if (
            isinstance(node, ast.Name)
            and node.id in packages
            and isinstance(node.ctx, ast.Load)
            and id(node) not in attribute_owners
        ):  # the package object itself, passed on: it needs all of it
            module.imports.add(packages[node.id])


def assign_floors(modules: dict[str, Module]) -> None:
    """Set every module's floor, or raise `ImportCycleError` with the first cycle met."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> int:
        if name in done:
            return modules[name].floor
        if name in path:
            raise ImportCycleError([*path[path.index(name) :], name])
        path.append(name)
        below = [visit(other) for other in sorted(modules[name].imports)]
        modules[name].floor = 1 + max(below, default=0)
        path.pop()
        done.add(name)
        return modules[name].floor

    for name in sorted(modules):
        visit(name)
