"""The registry: backends by label, failures and refusals; lookups only, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from types import ModuleType

from turnout._environment import Block
from turnout._trust import Provider

CLAIMED = "is already provided by"  # in the reason given when two providers claim one name


class BackendStatus(enum.Enum):
    """What became of a backend or an entry point.

    Attributes
    ----------
    READY
        Loaded and selectable.
    FAILED
        Raised while it was imported or constructed; requesting it raises.
    REJECTED
        Refused before or after import: bad label, reserved, claimed, failed trust.
    SHADOWED
        Hidden by an in-process backend of the same name.
    NOT_LOADED
        Installed and admitted, not imported yet (reported from its metadata).
    BLOCKED
        Left out by the user's ``<HOST>_BLOCK``: never selected, and an entry
        point whose metadata answers to a blocked label is never imported.
    """

    READY = "ready"
    FAILED = "failed"
    REJECTED = "rejected"
    SHADOWED = "shadowed"
    NOT_LOADED = "not loaded"
    BLOCKED = "blocked"


BackendStatus.__module__ = "turnout"


class Origin(enum.Enum):
    """Where a backend came from."""

    ENTRY_POINT = "entry point"
    IN_TREE = "in-tree class"
    EXPLICIT = "explicit registration"
    PACKAGE = "in-tree module"


class Entry:
    """One backend or refused entry point, as the registry records it."""

    __slots__ = (
        "error",
        "factory",
        "labels",
        "name",
        "obj",
        "origin",
        "provider",
        "reason",
        "status",
        "trusted",
    )

    def __init__(
        self,
        name: str,
        *,
        labels: tuple[str, ...] = (),
        obj: object = None,
        origin: Origin = Origin.ENTRY_POINT,
        provider: Provider | None = None,
        trusted: bool = False,
        status: BackendStatus = BackendStatus.READY,
        error: BaseException | None = None,
        reason: str | None = None,
        factory: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.factory = factory  # set until an in-tree class is instantiated on first use
        self.labels = labels or (name,)
        self.obj = obj
        self.origin = origin
        self.provider = provider
        self.trusted = trusted
        self.status = status
        self.error = error
        self.reason = reason

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every label but the canonical name."""
        return tuple(label for label in self.labels if label != self.name)

    @property
    def in_process(self) -> bool:
        """Whether the host process defined or registered it (not an entry point)."""
        return self.origin is not Origin.ENTRY_POINT

    def describe_source(self) -> str:
        """Return where the backend came from, in words."""
        if self.provider is not None:
            return self.provider.describe()
        target = self.factory if self.factory is not None else self.obj
        if isinstance(target, ModuleType):
            return f"{self.origin.value} of module {target.__name__}"
        if not isinstance(target, type):
            target = type(target)
        return f"{self.origin.value} {target.__module__}.{target.__qualname__}"

    def __repr__(self) -> str:
        return f"<Entry {self.name!r} {self.status.value} from {self.describe_source()}>"


class Registry:
    """Tables of ready backends, failures and refusals, keyed by label.

    Reads are plain dictionary lookups, safe without a lock: writers (discovery,
    registration, holding the dispatcher's lock) replace a table rather than
    change it, so a reader iterating one never sees it change size.

    No backend answering to a label of `block` is ever ready: whichever way it
    comes (entry point, in-tree class, registration), it is recorded as blocked.
    """

    def __init__(self, block: Block | None = None) -> None:
        self.block = block if block is not None else Block()
        self._ready: dict[str, Entry] = {}
        self._failed: dict[str, Entry] = {}
        self._refused: tuple[Entry, ...] = ()

    def lookup(self, label: str) -> Entry | None:
        """Return the ready backend that answers to `label`, if any."""
        return self._ready.get(label)

    def failure(self, label: str) -> Entry | None:
        """Return the failed backend recorded under `label`, if any."""
        return self._failed.get(label)

    def add_ready(self, entry: Entry, *, replacing: Collection[Entry] = ()) -> None:
        """Record a ready backend under each of its labels (blocked if one is blocked).

        The backends in `replacing` go in the same swap of the table, so a
        reader never finds a label between the old backend and the new.
        """
        ready = dict(self._ready)  # copied in C; the backends replaced go in this same swap
        if replacing:
            gone = {id(held) for held in replacing}
            ready = {label: held for label, held in ready.items() if id(held) not in gone}
        matched = self.block.matches(entry.labels)
        if matched:
            self._ready = ready
            self.add_blocked(entry, matched)
            return
        failed = dict(self._failed)
        for label in entry.labels:
            ready[label] = entry
            failed.pop(label, None)
        self._ready, self._failed = ready, failed

    def add_failed(self, entry: Entry) -> None:
        """Record a failed backend under each label nobody ready holds."""
        failed = dict(self._failed)
        for label in entry.labels:
            if label not in self._ready:
                failed.setdefault(label, entry)
        self._failed = failed
        self._refused = (*self._refused, entry)

    def add_refused(self, entry: Entry) -> None:
        """Record a rejected or shadowed entry point."""
        self._refused = (*self._refused, entry)

    def add_blocked(self, entry: Entry, matched: list[str]) -> None:
        """Record a backend left out because it answers to the blocked labels `matched`."""
        imported = entry.obj is not None or entry.factory is not None
        entry.status = BackendStatus.BLOCKED
        entry.reason = self.block.reason(matched, imported=imported, in_process=entry.in_process)
        self._refused = (*self._refused, entry)

    def blocked(self, label: str) -> Entry | None:
        """Return the blocked backend that answers to `label`, if any."""
        for entry in self._refused:
            if entry.status is BackendStatus.BLOCKED and label in entry.labels:
                return entry
        return None

    def remove(self, entry: Entry) -> None:
        """Forget a ready backend under every label it holds."""
        self._ready = {label: held for label, held in self._ready.items() if held is not entry}

    def forget_entry_points(self) -> None:
        """Forget everything discovery found; keep in-tree and explicit backends."""
        self._ready = {label: e for label, e in self._ready.items() if e.in_process}
        self._failed = {label: e for label, e in self._failed.items() if e.in_process}
        self._refused = tuple(entry for entry in self._refused if entry.in_process)

    def ready(self) -> list[Entry]:
        """Return each ready backend once, sorted by canonical name."""
        unique = {id(entry): entry for entry in self._ready.values()}
        return sorted(unique.values(), key=lambda entry: entry.name)

    def refused(self) -> list[Entry]:
        """Return failed, rejected and shadowed entries in the order they were met."""
        return list(self._refused)

    def rejected(self, labels: Collection[str]) -> Entry | None:
        """Return the first entry point refused under one of `labels`, if any."""
        for entry in self._refused:
            if entry.status is not BackendStatus.REJECTED:
                continue
            provider = entry.provider
            if entry.name in labels or (provider is not None and provider.name in labels):
                return entry
        return None

    def forget_shadowed(self, labels: Collection[str]) -> None:
        """Drop the records of entry points hidden under `labels`; restore loaded ones.

        An entry point an in-process backend hid before it loaded may load again
        (the caller sees to that); one that had loaded is ready again.
        """
        kept = []
        for entry in self._refused:
            if entry.status is not BackendStatus.SHADOWED or entry.name not in labels:
                kept.append(entry)
            elif entry.obj is not None and all(
                self.lookup(label) is None for label in entry.labels
            ):
                entry.status, entry.reason = BackendStatus.READY, None
                self.add_ready(entry)
        self._refused = tuple(kept)

    def has_ready(self) -> bool:
        """Whether any backend is ready (cheap)."""
        return bool(self._ready)

    def labels(self) -> list[str]:
        """Return every label a ready backend answers to, sorted."""
        return sorted(self._ready)
