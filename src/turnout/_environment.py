"""The ``<HOST>_*`` environment variables: the process-wide choices users make, read once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from turnout._names import CPU, env_prefix, label_problem
from turnout._policy import Fallback, Untrusted, member, stricter
from turnout._warnings import ConfigurationWarning, warn


class Block:
    """The labels ``<HOST>_BLOCK`` lists: a backend answering to one is never selected.

    Parameters
    ----------
    labels
        The labels as the variable lists them.
    variable
        The variable's name, for messages (``EXAMPLE_HOST_BLOCK``).
    """

    __slots__ = ("_listed", "variable")

    def __init__(self, labels: Iterable[str] = (), variable: str = "") -> None:
        self._listed = {label: label for label in labels}  # label -> as the variable lists it
        self.variable = variable

    def __bool__(self) -> bool:
        return bool(self._listed)

    def __contains__(self, label: object) -> bool:
        return label in self._listed

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the variable lists, in its order."""
        return tuple(dict.fromkeys(self._listed.values()))

    def renamed(self, deprecated: Mapping[str, str]) -> Block:
        """Return the block with the label each listed deprecated label stands for added."""
        block = Block(variable=self.variable)
        block._listed = dict(self._listed)
        for label, listed in self._listed.items():
            if label in deprecated:
                block._listed.setdefault(deprecated[label], listed)
        return block

    def matches(self, labels: Iterable[str]) -> list[str]:
        """Return the listed labels among `labels` (as the variable lists them), each once."""
        listed = self._listed
        return list(dict.fromkeys(listed[label] for label in labels if label in listed))

    def reason(self, matched: Iterable[str], *, imported: bool, in_process: bool = False) -> str:
        """Return why a backend answering to `matched` is left out, and how to get it back."""
        shown = ", ".join(map(repr, matched))
        if in_process:
            what = "it is never selected"
        elif imported:
            what = (
                "it is never selected (it was imported before: its entry point's metadata "
                "does not give that label)"
            )
        else:
            what = "it is never imported or selected"
        return (
            f"blocked by {self.variable} (which lists {shown}): {what}; to use it, remove "
            f"{shown} from {self.variable} and start Python again"
        )


class Environment:
    """The process-wide choices users make through environment variables."""

    __slots__ = ("automatic", "backend", "block", "fallback", "forced", "untrusted")

    def __init__(
        self,
        untrusted: str,
        fallback: str,
        backend: str | tuple[str, ...] | None,
        *,
        automatic: bool | None = None,
        forced: bool = False,
        block: Block | None = None,
    ) -> None:
        self.untrusted = untrusted
        self.fallback = fallback
        self.backend = backend  # a label or a priority list, resolved on first use
        self.automatic = automatic
        self.forced = forced
        self.block = block if block is not None else Block()


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def read_environment(host_name: str, untrusted: str, fallback: str) -> Environment:
    """Apply the ``<HOST>_*`` variables: ``UNTRUSTED_BACKENDS``, ``FALLBACK``, ``BACKEND``, ...

    Also ``AUTOMATIC``, ``STRICT`` and ``BLOCK``.

    The untrusted policy can only be tightened, never loosened. ``_BACKEND``
    may be one label or a priority list (``a,b``). ``_STRICT=1`` with
    ``_BACKEND=cpu`` forces the host's code everywhere, whatever code selects.
    A bad value is reported once, with the allowed values, and ignored;
    in ``_BLOCK`` (``a,b``), each bad label alone. Whether a backend answers to
    each label ``_BLOCK`` lists is known only once discovery has read the
    entry points: discovery reports the others.
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
    block = _block(f"{prefix}_BLOCK")
    return Environment(
        untrusted, fallback, backend, automatic=automatic, forced=forced, block=block
    )


def _block(name: str) -> Block:
    """Return the labels a ``<HOST>_BLOCK`` variable lists; report and drop the unusable ones."""
    value = os.environ.get(name, "").strip()
    labels = [part.strip() for part in value.split(",") if part.strip()]
    for label in labels:
        problem = label_problem(label)
        if label == CPU:
            problem = "'cpu' is the host's own code, which cannot be blocked"
        if problem is not None:
            warn(
                f"Environment variable {name}={value!r}: {label!r} is ignored: {problem}. "
                "Expected the names or aliases of backends, separated by commas.",
                ConfigurationWarning,
            )
    return Block((label for label in labels if label != CPU and label_problem(label) is None), name)


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
