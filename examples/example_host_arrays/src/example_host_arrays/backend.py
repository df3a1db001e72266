"""The ``chunked`` backend: example_host's statistics computed chunk by chunk.

What it declares, turnout reads from ``turnout-backend.json`` before importing
this module (so automatic selection and ``python -m turnout --host
example_host --no-import`` need no import) and from these attributes once it
is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from example_host_arrays import ChunkedArray


class ChunkedBackend:
    """Runs example_host's functions on `ChunkedArray` input, one chunk at a time."""

    name = "chunked"
    aliases = ("chunks",)
    # Named as "module:qualname", so matching a call's argument never imports anything.
    types = ("example_host_arrays:ChunkedArray",)
    priority = 10
    host_versions = ">=0.1,<1"

    def can_run(self, function: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool | str:
        """Say whether this call suits the backend: True, or the reason it does not."""
        values = args[0] if args else kwargs.get("values")
        if isinstance(values, ChunkedArray):
            return True
        return f"{function} works on ChunkedArray here, not {type(values).__name__}"

    def mean(self, values: ChunkedArray) -> float:
        """Return the arithmetic mean from exactly rounded per-chunk sums."""
        return math.fsum(math.fsum(chunk) for chunk in values.chunks) / len(values)

    def variance(self, values: ChunkedArray, ddof: int = 0) -> float:
        """Return the variance, each chunk's squared deviations summed on their own."""
        centre = self.mean(values)
        squares = (math.fsum((value - centre) ** 2 for value in chunk) for chunk in values.chunks)
        return math.fsum(squares) / (len(values) - ddof)

    def moving_average(self, values: ChunkedArray, window: int = 3) -> list[float]:
        """Return running means from each chunk and the one after it.

        Raises
        ------
        NotImplementedError
            When `window` is longer than a chunk, so a window could span three
            chunks: turnout then tries the next candidate (another backend in
            the user's priority list, or example_host's own code).
        """
        if window > values.chunk_size:
            msg = f"window {window} is longer than a chunk ({values.chunk_size} values)"
            raise NotImplementedError(msg)
        means = []
        chunks = values.chunks
        for index, chunk in enumerate(chunks):
            pair = chunk + (chunks[index + 1] if index + 1 < len(chunks) else [])
            means.extend(
                math.fsum(pair[start : start + window]) / window
                for start in range(min(len(chunk), len(pair) - window + 1))
            )
        return means
