"""A read-only mapping view of one dispatcher's backends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from turnout._discovery import Discovery


class BackendsView(Mapping[str, object]):
    """The installed backends by name, read-only (``dispatcher.backends``).

    ``in`` and ``[]`` accept aliases and import at most the backend asked for;
    iteration and ``len`` load every backend and list canonical names. A backend
    that failed to load raises its `BackendLoadError` when looked up.

    .. versionadded:: 0.1
    """

    __slots__ = ("_discovery",)

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery

    def __getitem__(self, label: str) -> object:
        backend = self._discovery.get(label)
        if backend is None:
            raise KeyError(label)
        return backend

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and bool(label) and self._discovery.find(label) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._discovery.canonical_names())

    def __len__(self) -> int:
        return len(self._discovery.canonical_names())

    def __repr__(self) -> str:
        return f"<turnout.BackendsView of {self._discovery.host_name}: {list(self)}>"


BackendsView.__module__ = "turnout"
