"""Policies as enums: fallback, untrusted backends (ordered), and what selects a backend."""

from __future__ import annotations

import enum

from turnout._errors import ConfigurationError


class _Word(str, enum.Enum):
    """An enum member that reads, prints and compares as its word (``"warn"``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return repr(self.value)


class Fallback(_Word):
    """What runs when the selected backend lacks a function or declines a call."""

    SILENT = "silent"  # the host's code
    WARN = "warn"  # the host's code, with a FallbackWarning once per function and backend
    ERROR = "error"  # MissingImplementationError


class Untrusted(_Word):
    """What backends the host does not trust do; members are ordered loosest first."""

    ALLOW = "allow"
    WARN = "warn"
    ERROR = "error"


class Source(_Word):
    """What selected the backend of a call, in order of precedence (highest first)."""

    FORCED = "forced by the environment (<HOST>_STRICT)"
    KEYWORD = "call keyword"
    SCOPE = "use_backend scope"
    PER_FUNCTION = "settings.priority"
    GLOBAL = "settings.backend"
    AUTOMATIC = "automatic selection"
    DEFAULT = "default"


def member(policy: type[_Word], value: object) -> _Word | None:
    """Return the member of `policy` whose word `value` is, or None."""
    return next((item for item in policy if isinstance(value, str) and item.value == value), None)


def listing(policy: type[_Word]) -> str:
    """Return the allowed words of a policy, quoted: ``'silent', 'warn', 'error'``."""
    return ", ".join(repr(member.value) for member in policy)


def stricter(current: Untrusted, proposed: Untrusted) -> Untrusted:
    """Return the stricter of two untrusted policies."""
    order = list(Untrusted)
    return max(current, proposed, key=order.index)


def parse(policy: type[_Word], value: object, what: str, host_name: str = "") -> _Word:
    """Return `value` as a member of `policy`, or raise `ConfigurationError` saying what is allowed.

    `what` names the setting in the message (``"Fallback policy"``).
    """
    found = member(policy, value)
    if found is None:
        raise ConfigurationError(
            problems=[f"{what} must be one of {listing(policy)}, not {value!r}"],
            host_name=host_name,
            subject="setting",
        )
    return found
