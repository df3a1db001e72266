"""example-host-arrays: numbers stored in fixed-size chunks, and a backend that owns them.

`ChunkedArray` is a read-only sequence of floats, so example_host's own code
works on it unchanged. The ``chunked`` backend (:mod:`example_host_arrays.backend`)
declares that it owns this type: with automatic selection on, a call whose
first argument is a `ChunkedArray` runs there without anyone naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

__all__ = ["ChunkedArray"]


class ChunkedArray(Sequence[float]):
    """Floats held as a list of chunks of at most `chunk_size` values.

    Parameters
    ----------
    values
        The numbers.
    chunk_size
        How many values one chunk holds; at least 1.
    """

    def __init__(self, values: Iterable[float], chunk_size: int = 4) -> None:
        if chunk_size < 1:
            msg = f"chunk_size must be at least 1, got {chunk_size}"
            raise ValueError(msg)
        flat = [float(value) for value in values]
        self.chunk_size = chunk_size
        self.chunks = [flat[i : i + chunk_size] for i in range(0, len(flat), chunk_size)]
        self._length = len(flat)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            msg = f"ChunkedArray index {index} out of range for length {self._length}"
            raise IndexError(msg)
        return self.chunks[index // self.chunk_size][index % self.chunk_size]

    def __iter__(self) -> Iterator[float]:
        for chunk in self.chunks:
            yield from chunk

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChunkedArray):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: unhashable

    def __repr__(self) -> str:
        return f"ChunkedArray({list(self)!r}, chunk_size={self.chunk_size})"
