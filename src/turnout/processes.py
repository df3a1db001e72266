"""Backend choices beyond one thread: other threads, process pools, Dask workers.

A `Snapshot` records what a host's settings select where it is taken
(``settings.snapshot()``); it is applied for a block with ``settings.applied``,
or process-wide with `apply_snapshot` (a process pool's initializer).
`BackendDispatcher.bind` and `submit` carry the choices with a function; see
also `turnout.dask`.
"""

from __future__ import annotations

from turnout._dispatcher import BackendDispatcher
from turnout._errors import HostNotFoundError
from turnout._hosts import find_host
from turnout._snapshot import Bound, Snapshot, apply_snapshot, submit

__all__ = ["Bound", "Snapshot", "apply_snapshot", "dispatcher_for", "submit"]


def dispatcher_for(host: object, *, group: str | None = None) -> BackendDispatcher:
    """Return the dispatcher of `host`: a module, a module name, or an entry-point group.

    A module name is imported if it is not yet (so this works in a fresh worker
    process). Among several dispatchers of one host, the one for `group` (when
    given), else the most recently created.

    Raises
    ------
    HostNotFoundError
        Nothing importable by that name creates a dispatcher.
    """
    found = find_host(host, group=group)
    if not isinstance(found, BackendDispatcher):  # live holds nothing else
        raise HostNotFoundError(host=repr(host), problem="what was found is not a dispatcher")
    return found


for _public in (Bound, Snapshot, apply_snapshot, submit, dispatcher_for):
    _public.__module__ = "turnout.processes"
del _public
