"""A read-only mapping view of one dispatcher's backends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from turnout._discovery import Discovery
from turnout._errors import BackendLoadError, TurnoutError
from turnout._names import CPU, label_problem


class BackendsView(Mapping[str, object]):
    """The installed backends by name, read-only (``dispatcher.backends``).

    ``in`` and ``[]`` accept aliases and import at most the backend asked for;
    iteration and ``len`` load every backend and list canonical names. A backend
    that failed to load raises its `BackendLoadError` when looked up.
    """

    __slots__ = ("_discovery",)

    def __init__(self, discovery: Discovery) -> None:
        self._discovery = discovery

    def __getitem__(self, label: str) -> object:
        if label == CPU:
            raise KeyError(label)
        try:
            return self._discovery.require(label).obj
        except BackendLoadError:
            raise
        except TurnoutError as error:  # unknown, reserved, not installed, refused
            raise KeyError(label) from error

    def __contains__(self, label: object) -> bool:
        # Answering imports at most the entry point asked for; constructs nothing in-tree.
        if not isinstance(label, str) or not label or label_problem(label) is not None:
            return False
        return self._discovery.find(label, instantiate=False) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._discovery.canonical_names())

    def __len__(self) -> int:
        return len(self._discovery.canonical_names())

    def __repr__(self) -> str:
        return f"<turnout.BackendsView of {self._discovery.host_name}: {list(self)}>"


BackendsView.__module__ = "turnout"
