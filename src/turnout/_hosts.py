"""Finding a host's dispatcher: by package, or by entry-point group, in this process or another.

Every `BackendDispatcher` remembers the module that created it, so a record
made in one process (a `Snapshot`) finds the same host's dispatcher in
another: it imports that module and looks among the dispatchers alive.
"""

from __future__ import annotations

import sys
from _weakrefset import WeakSet

from turnout import _lazytyping as t
from turnout._errors import HostNotFoundError
from turnout._lazytyping import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Protocol

    class Host(Protocol):
        """What finding a host needs of its `BackendDispatcher`."""

        entrypoint_group: str
        host_name: str
        _module: str
        _serial: int

        @property
        def settings(self) -> t.Any: ...

else:
    Host = object  # a BackendDispatcher (the class lives above this module); for annotations

# Every dispatcher alive. `_weakrefset` is what `weakref.WeakSet` is; `threading`
# has imported it already, `weakref` itself would cost an import.
live: WeakSet[Host] = WeakSet()


def creator_module(depth: int) -> str:
    """Return the name of the module `depth` frames up, past turnout's own frames."""
    frame = sys._getframe(depth)  # noqa: SLF001 - the cheap way to walk frames
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("turnout."):
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", "__main__"))


def _matches(dispatcher: Host, host: str) -> bool:
    module = dispatcher._module  # noqa: SLF001 - the dispatchers of this package
    return host in {module, dispatcher.entrypoint_group, dispatcher.host_name} or (
        module.startswith(f"{host}.")
    )


def find_host(host: object, *, group: str | None = None) -> Host:
    """Return the dispatcher of `host`: a module, a module name, or an entry-point group.

    A module name is imported if it is not yet (so this works in a fresh worker
    process). Among several dispatchers of one host, the one for `group` (when
    given), else the most recently created.

    Raises
    ------
    HostNotFoundError
        Nothing importable by that name creates a dispatcher.
    """
    name = getattr(host, "__name__", host)
    if not isinstance(name, str) or not name:
        raise HostNotFoundError(host=repr(host), problem="expected a module or its name")
    found = _find(name, group)
    if found is None and name.replace(".", "").replace("_", "").isalnum():
        import importlib  # noqa: PLC0415 - only when the host is not imported yet

        try:
            importlib.import_module(name)
        except ImportError as error:
            if group is None or _find_group(group) is None:
                raise HostNotFoundError(
                    host=name, problem=f"importing it failed ({error})"
                ) from error
        found = _find(name, group) or (_find_group(group) if group is not None else None)
    if found is None:
        raise HostNotFoundError(
            host=name,
            problem="neither it nor its submodules created one"
            + (f" for entry-point group {group!r}" if group else ""),
        )
    return found


def _find(name: str, group: str | None) -> Host | None:
    candidates = [d for d in list(live) if _matches(d, name)]
    if group is not None:
        candidates = [d for d in candidates if d.entrypoint_group == group]
    return max(candidates, key=lambda d: d._serial, default=None)  # noqa: SLF001


def _find_group(group: str) -> Host | None:
    candidates = [d for d in list(live) if d.entrypoint_group == group]
    return max(candidates, key=lambda d: d._serial, default=None)  # noqa: SLF001


def find_dispatcher(module: str, group: str) -> Host:
    """Return the dispatcher `module` created for `group` (unpickling one)."""
    return find_host(module, group=group)


def settings_for(module: str, group: str) -> t.Any:
    """Return the settings of the host whose dispatcher `module` created (unpickling)."""
    return find_host(module, group=group).settings
