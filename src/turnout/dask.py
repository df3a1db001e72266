"""The backend choice on a Dask cluster: a worker plugin, and binding for single tasks.

Needs ``dask[distributed]`` (``pip install "dask[distributed]"``); importing
``turnout`` never imports this module. A Dask worker runs tasks in threads of
its own, so a ``use_backend`` scope in the client never reaches them; this
module carries the choice across:

`register`
    Applies the client's backend choices (a `turnout.Snapshot` per host) on
    every worker, process-wide, including workers that join later.
`bind`
    Wraps one function so that it runs under the choices in effect where it
    was bound (for ``client.submit``, ``client.map`` or ``dask.delayed``).

.. code-block:: python

    from dask.distributed import Client, LocalCluster
    import turnout.dask

    client = Client(LocalCluster(processes=True, n_workers=2))
    with example_host.settings.use_backend("example_accel"):
        turnout.dask.register(client)          # every worker selects example_accel
        future = client.submit(example_host.mean, values)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

try:
    from distributed import WorkerPlugin
except ImportError as error:  # pragma: no cover - exercised where dask is absent
    msg = (
        "turnout.dask needs dask.distributed, which is not installed: "
        'pip install "dask[distributed]"'
    )
    raise ImportError(msg) from error

from turnout._snapshot import Bound, Snapshot, apply_snapshot, snapshots

__all__ = ["TurnoutPlugin", "bind", "register"]


class TurnoutPlugin(WorkerPlugin):
    """A worker plugin that applies snapshots of backend choices on each worker.

    Parameters
    ----------
    *taken
        The snapshots to apply (`turnout.Snapshot`); none: one of every host's
        settings, taken now.
    """

    name = "turnout"  # registering again replaces the plugin on every worker

    def __init__(self, *taken: Snapshot) -> None:
        self.snapshots: tuple[Snapshot, ...] = taken or snapshots()
        self.origin = os.getpid()  # the driver's process

    def setup(self, worker: Any) -> None:  # noqa: ARG002 - the hook's signature
        """Apply the snapshots process-wide on `worker`'s process (Dask calls this).

        A snapshot of a host the worker cannot import is skipped (said so at
        ``DEBUG``): no task there can call that host. A worker in the driver's
        own process (``LocalCluster(processes=False)``) is left alone: applying
        there would change the driver's settings; its tasks see the driver's
        process-wide settings, and a scope reaches them through `bind`.
        """
        if os.getpid() == self.origin:
            logging.getLogger("turnout").debug(
                "turnout.dask: a worker in the driver's process: its settings are the "
                "driver's own and are left as they are (use turnout.dask.bind for scopes)"
            )
            return
        apply_snapshot(*self.snapshots, strict=False)

    def __repr__(self) -> str:
        return f"TurnoutPlugin({', '.join(map(repr, self.snapshots))})"


def register(client: Any, *taken: Snapshot) -> TurnoutPlugin:
    """Apply backend choices on every worker of `client`'s cluster, now and joining later.

    Parameters
    ----------
    client
        A ``distributed.Client``.
    *taken
        Snapshots to apply; none: one of every host's settings, taken here and now
        (a ``use_backend`` scope around this call counts).

    Returns
    -------
    TurnoutPlugin
        The plugin registered (under the name ``"turnout"``: registering again
        replaces it).
    """
    plugin = TurnoutPlugin(*taken)
    client.register_plugin(plugin)
    return plugin


def bind(function: Callable[..., Any], *taken: Snapshot) -> Bound:
    """Return `function` running under backend choices wherever a worker calls it.

    Parameters
    ----------
    function
        An importable function (pickled by reference, as Dask sends it).
    *taken
        Snapshots; none: one of every host's settings, taken here and now.
    """
    return Bound(function, taken) if taken else Bound(function, snapshots(), strict=False)
