"""What the registry holds, as records: `BackendInfo` per backend, and `Explanation` of a call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from turnout._registry import CLAIMED, BackendStatus, Entry


@dataclass(frozen=True)
class BackendInfo:
    """One backend, or one refused entry point, as `BackendDispatcher.report` sees it.

    .. versionadded:: 0.1

    Attributes
    ----------
    name
        Canonical name (the entry-point name when the backend's own is unknown).
    aliases
        Its own aliases and the host's.
    source
        Where it came from, in words.
    trusted
        Whether the host trusts it (in-process backends always are).
    status
        Ready, failed, rejected, shadowed or not loaded (`BackendStatus`).
    error
        What it raised, for a failed backend.
    reason
        Why it was refused, in a sentence.
    implements
        The dispatched functions and classes it provides (public names).
    keys
        Their dispatch keys: the attributes it implements them under.
    distribution
        The providing distribution, for an entry point.
    version
        Its version.
    object_ref
        The entry point's value (``module:attribute``).
    """

    name: str
    aliases: tuple[str, ...]
    source: str
    trusted: bool
    status: BackendStatus
    error: BaseException | None = None
    reason: str | None = None
    implements: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    distribution: str | None = None
    version: str | None = None
    object_ref: str | None = None

    @property
    def is_conflict(self) -> bool:
        """Whether it was refused because another provider claims the same name."""
        return self.status is BackendStatus.REJECTED and CLAIMED in (self.reason or "")

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready data (the CLI's ``--json`` row)."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "distribution": self.distribution,
            "version": self.version,
            "object_ref": self.object_ref,
            "status": self.status.value,
            "error": self.reason
            or (f"{type(self.error).__name__}: {self.error}" if self.error else None),
            "trusted": self.trusted,
            "source": self.source,
            "implements": list(self.implements),
            "keys": list(self.keys),
        }


def info_of(entry: Entry, implemented: Sequence[Any] = ()) -> BackendInfo:
    """Build the record of one registry entry (`implemented`: records of what it provides)."""
    provider = entry.provider
    return BackendInfo(
        name=entry.name,
        aliases=entry.aliases,
        source=entry.describe_source(),
        trusted=entry.trusted,
        status=entry.status,
        error=entry.error,
        reason=entry.reason,
        implements=tuple(record.public_name for record in implemented),
        keys=tuple(record.key for record in implemented),
        distribution=provider.distribution if provider else None,
        version=provider.version if provider else None,
        object_ref=provider.value if provider else None,
    )


@dataclass(frozen=True)
class Explanation:
    """What `BackendDispatcher.explain` found a call would do, without running it.

    .. versionadded:: 0.1

    Attributes
    ----------
    function
        The dispatched function or class.
    why
        What selected it: the call keyword, a scope, the global setting, or the default.
    runs
        What would run.
    fallback
        Whether the host's code runs instead: the backend lacks the function or declines the call.
    forwarded
        Arguments passed on to the backend.
    dropped
        Host-only arguments dropped (each would warn).
    added
        Backend-only arguments passed.
    notes
        Anything else worth knowing.
    """

    function: str
    backend: str
    """The backend selected (canonical name), or ``"cpu"``."""
    why: str
    runs: str
    fallback: bool = False
    forwarded: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        lines = [
            f"{self.function}: backend {self.backend!r} ({self.why})",
            f"  runs: {self.runs}" + (" (fallback: the host's code runs)" if self.fallback else ""),
        ]
        for label, names in (
            ("forwards", self.forwarded),
            ("drops", self.dropped),
            ("adds", self.added),
        ):
            if names:
                lines.append(f"  {label}: {', '.join(names)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


BackendInfo.__module__ = "turnout"
Explanation.__module__ = "turnout"
