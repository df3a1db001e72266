"""Write real installed distributions (``*.dist-info`` with entry points) for tests."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from turnout._lazytyping import TYPE_CHECKING
from turnout._names import normalize_distribution

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11; annotations only


class DistributionSite:
    """A directory of installed distributions that can be put on ``sys.path``.

    Each `add` writes a ``<name>-<version>.dist-info`` folder (``METADATA``,
    ``entry_points.txt``, ``RECORD``) and the distribution's modules, exactly as
    an installer would, so `importlib.metadata` finds them for real. Use it as
    a context manager: on exit the directory leaves ``sys.path`` and every module
    imported from it leaves ``sys.modules``.

    Parameters
    ----------
    root
        An empty directory to write into (pytest's ``tmp_path``).

    Examples
    --------
    >>> import tempfile
    >>> from turnout.testing import DistributionSite
    >>> with tempfile.TemporaryDirectory() as tmp, DistributionSite(tmp) as site:
    ...     _ = site.add(
    ...         "demo-backend",
    ...         entry_points={"demo_host.backends": {"demo": "demo_backend"}},
    ...         modules={"demo_backend.py": "name = 'demo'"},
    ...     )
    ...     import importlib.metadata
    ...     [ep.name for ep in importlib.metadata.entry_points(group="demo_host.backends")]
    ['demo']
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._active = False

    def add(
        self,
        name: str,
        version: str = "1.0",
        *,
        entry_points: Mapping[str, Mapping[str, str]] | None = None,
        modules: Mapping[str, str] | None = None,
    ) -> Path:
        """Install one distribution into the site.

        Parameters
        ----------
        name
            The distribution name (``example-host-gpu``).
        version
            Its version.
        entry_points
            ``{group: {entry point name: "module:attribute"}}``.
        modules
            ``{relative file path: source}``, e.g. ``{"pkg/__init__.py": "..."}``;
            sources are dedented.

        Returns
        -------
        pathlib.Path
            The ``.dist-info`` directory written.
        """
        files: dict[str, str] = {}
        for relative, source in (modules or {}).items():
            files[relative] = textwrap.dedent(source).lstrip("\n")
        stem = f"{normalize_distribution(name).replace('-', '_')}-{version}"
        info = f"{stem}.dist-info"
        files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        files[f"{info}/INSTALLER"] = "turnout.testing\n"
        if entry_points:
            files[f"{info}/entry_points.txt"] = "".join(
                f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in eps.items()) + "\n"
                for group, eps in entry_points.items()
            )
        record = [f"{path},," for path in sorted(files)] + [f"{info}/RECORD,,"]
        files[f"{info}/RECORD"] = "\n".join(record) + "\n"
        for relative, text in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        importlib.invalidate_caches()
        return self.root / info

    def activate(self) -> None:
        """Put the site first on ``sys.path``."""
        if not self._active:
            sys.path.insert(0, str(self.root))
            importlib.invalidate_caches()
            self._active = True

    def deactivate(self) -> None:
        """Take the site off ``sys.path`` and forget every module imported from it."""
        if not self._active:
            return
        self._active = False
        while str(self.root) in sys.path:
            sys.path.remove(str(self.root))
        root = str(self.root.resolve())
        for module_name, module in list(sys.modules.items()):
            location = getattr(module, "__file__", None) or ""
            if location and str(Path(location).resolve()).startswith(root):
                del sys.modules[module_name]
        importlib.invalidate_caches()

    def __enter__(self) -> Self:
        self.activate()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.deactivate()
