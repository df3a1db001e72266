"""example-host-dask: example_host's heaviest function, computed chunk-wise on a Dask cluster.

The backend runs ``moving_average`` on the cluster of the Dask client the
caller started (``dask.distributed.Client``): the values are cut into
overlapping pieces, each worker runs example_host's own code on its piece, and
the pieces' results are joined, so the result equals the host's to the last
bit. Everything else falls back to the host's code.

Dask is imported when the backend is first asked to run, not when it is loaded.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from typing import Any

# Below this many additions (values x window) a cluster costs more than it saves.
WORTH_IT = 20_000_000


def _client() -> Any:
    """Return the caller's Dask client, or None."""
    try:
        from distributed import default_client  # noqa: PLC0415 - when first asked to run
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no client started in this process
        return None


def _piece(values: Sequence[float], window: int) -> array[float]:
    """Run on a worker: the host's own moving average of one piece.

    Returned as an ``array`` of doubles (the same floats): Dask sends it back
    as one buffer, where a list would be serialized value by value.
    """
    import example_host  # noqa: PLC0415 - on the worker

    return array("d", example_host.moving_average(values, window, backend="cpu"))


class DaskBackend:
    """Sends ``moving_average`` to the workers of the running Dask client."""

    name = "dask"
    aliases = ("distributed",)

    def can_run(
        self,
        function: str,  # noqa: ARG002 - the hook's signature: every function alike here
        args: Sequence[Any],  # noqa: ARG002
        kwargs: Mapping[str, Any],  # noqa: ARG002
    ) -> bool | str:
        """Whether a Dask client is running in this process (else: the reason)."""
        if _client() is None:
            return "no dask.distributed Client is running here (start one: Client())"
        return True

    def should_run(
        self,
        function: str,  # noqa: ARG002 - the hook's signature: every function alike here
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> bool | str:
        """Whether the input is large enough for the cluster to pay off (automatic choices)."""
        values = args[0] if args else kwargs.get("values", ())
        window = args[1] if len(args) > 1 else kwargs.get("window", 3)
        work = len(values) * window
        if work < WORTH_IT:
            return f"{work:,} additions are too few for a cluster to pay off"
        return True

    def moving_average(
        self, values: Sequence[float], window: int = 3, *, pieces: int | None = None
    ) -> list[float]:
        """Return the mean of each run of `window` consecutive values, on the cluster.

        Parameters
        ----------
        values
            The numbers.
        window
            How many values each mean covers.
        pieces
            How many overlapping pieces the values are cut into (default: two
            per worker). Each piece is sent to a worker as one task.
        """
        client = _client()
        count = len(values) - window + 1
        if count <= 0:
            return []
        if pieces is None:
            pieces = 2 * max(1, len(client.scheduler_info()["workers"]))
        size = -(-count // max(1, pieces))  # windows per piece, rounded up
        chunks = [
            list(values[start : min(start + size, count) + window - 1])
            for start in range(0, count, size)
        ]
        futures = client.map(_piece, chunks, [window] * len(chunks), pure=False)
        return [mean for part in client.gather(futures) for mean in part]
