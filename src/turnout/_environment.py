"""The ``<HOST>_*`` environment variables: the process-wide choices users make, read once."""

from __future__ import annotations

import os

from turnout._names import CPU, env_prefix, label_problem
from turnout._policy import Fallback, Untrusted, member, stricter
from turnout._warnings import ConfigurationWarning, warn


class Environment:
    """The process-wide choices users make through environment variables."""

    __slots__ = ("automatic", "backend", "fallback", "forced", "untrusted")

    def __init__(
        self,
        untrusted: str,
        fallback: str,
        backend: str | tuple[str, ...] | None,
        *,
        automatic: bool | None = None,
        forced: bool = False,
    ) -> None:
        self.untrusted = untrusted
        self.fallback = fallback
        self.backend = backend  # a label or a priority list, resolved on first use
        self.automatic = automatic
        self.forced = forced


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def read_environment(host_name: str, untrusted: str, fallback: str) -> Environment:
    """Apply the ``<HOST>_*`` variables: ``UNTRUSTED_BACKENDS``, ``FALLBACK``, ``BACKEND``, ...

    Also ``AUTOMATIC`` and ``STRICT``.

    The untrusted policy can only be tightened, never loosened. ``_BACKEND``
    may be one label or a priority list (``a,b``). ``_STRICT=1`` with
    ``_BACKEND=cpu`` forces the host's code everywhere, whatever code selects.
    A bad value is reported once, with the allowed values, and ignored.
    """
    prefix = env_prefix(host_name)
    name = f"{prefix}_UNTRUSTED_BACKENDS"
    value = os.environ.get(name, "").strip().lower()
    if value:
        if member(Untrusted, value) is not None:
            untrusted = stricter(Untrusted(untrusted), Untrusted(value))
        else:
            _ignored(name, value, tuple(Untrusted))
    name = f"{prefix}_FALLBACK"
    value = os.environ.get(name, "").strip().lower()
    if value:
        if member(Fallback, value) is not None:
            fallback = value
        else:
            _ignored(name, value, tuple(Fallback))
    backend = _backend(f"{prefix}_BACKEND")
    automatic = _switch(f"{prefix}_AUTOMATIC")
    strict = _switch(f"{prefix}_STRICT")
    forced = bool(strict) and backend == CPU
    if strict and not forced:
        _ignored(
            f"{prefix}_STRICT", os.environ[f"{prefix}_STRICT"], (f"set with {prefix}_BACKEND=cpu",)
        )
    return Environment(untrusted, fallback, backend, automatic=automatic, forced=forced)


def _backend(name: str) -> str | tuple[str, ...] | None:
    """Return the label, or the priority list (``"cpu"`` kept where it stands), of a variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    labels = [part.strip() for part in value.split(",") if part.strip()]
    bad = [label for label in labels if label_problem(label) is not None]
    if bad or not labels:
        _ignored(name, value, ("cpu", "the name or alias of an installed backend", "a,b"))
        return None
    return labels[0] if "," not in value else tuple(labels)


def _switch(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    _ignored(name, value, ("1", "0"))
    return None


def _ignored(name: str, value: str, allowed: tuple[str, ...]) -> None:
    warn(
        f"Environment variable {name}={value!r} is ignored: expected "
        f"{' or '.join(map(repr, allowed))}.",
        ConfigurationWarning,
    )
