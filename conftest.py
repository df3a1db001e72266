"""Fixtures shared by every test: real distributions in a fresh site directory."""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from turnout import BackendDispatcher
from turnout.testing import DistributionSite

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_groups = itertools.count()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[DistributionSite]:
    """A directory of real installed distributions, first on sys.path for one test."""
    with DistributionSite(tmp_path / "site") as active:
        yield active


@pytest.fixture
def group() -> str:
    """An entry-point group no other test uses."""
    return f"turnout_tests.g{os.getpid()}_{next(_groups)}.backends"


@pytest.fixture
def import_log(tmp_path: Path) -> Path:
    """A file each generated backend module appends its name to when imported."""
    path = tmp_path / "imports.log"
    path.touch()
    return path


class Installer:
    """Writes backend distributions whose modules record each import."""

    def __init__(self, site: DistributionSite, group: str, log: Path) -> None:
        self.site = site
        self.group = group
        self.log = log

    def __call__(
        self,
        dist: str,
        entry_points: Mapping[str, str],
        modules: Mapping[str, str],
        version: str = "1.0",
    ) -> None:
        """Install `dist` with entry points in the test group; modules log their import."""
        logged = {}
        for path, source in modules.items():
            if not path.endswith(".py"):  # data files (static metadata) as they are
                logged[path] = source
                continue
            module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            header = (
                "import pathlib as _pathlib\n"
                f"with _pathlib.Path({str(self.log)!r}).open('a') as _log:\n"
                f"    _log.write({module!r} + '\\n')\n"
            )
            logged[path] = header + textwrap.dedent(source).lstrip("\n")
        self.site.add(dist, version, entry_points={self.group: dict(entry_points)}, modules=logged)

    def imported(self) -> list[str]:
        """Return the modules imported so far, in order, with repeats."""
        return self.log.read_text().split()


@pytest.fixture
def install(site: DistributionSite, group: str, import_log: Path) -> Installer:
    """Install backend distributions into the test's site, in the test's group."""
    return Installer(site, group, import_log)


@pytest.fixture
def make_dispatcher(group: str) -> Callable[..., BackendDispatcher]:
    """Build a dispatcher for the test's group (host name ``testhost``)."""

    def make(**kwargs: object) -> BackendDispatcher:
        kwargs.setdefault("host_name", "testhost")
        return BackendDispatcher(entrypoint_group=group, **kwargs)  # type: ignore[arg-type]

    return make


BACKEND_CLASS = """
class Backend:
    name = {name!r}
    aliases = {aliases!r}

    def add(self, a, b):
        return ({name!r}, a + b)

    def scale(self, values, factor=2):
        return [{name!r}] + [v * factor for v in values]
"""


@pytest.fixture
def backend_source() -> Callable[..., str]:
    """Source of a backend class named `name` implementing ``add`` and ``scale``."""

    def source(name: str, aliases: tuple[str, ...] = ()) -> str:
        return BACKEND_CLASS.format(name=name, aliases=list(aliases))

    return source


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep the entry-point cache of the test run out of the user's cache directory."""
    os.environ["TURNOUT_CACHE_DIR"] = str(tmp_path_factory.mktemp("turnout-cache"))
