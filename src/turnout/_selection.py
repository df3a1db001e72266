"""Choosing among candidate backends: priority lists, owned types, hooks; with reasons.

A *choice* is what a user selects when it is not one backend: a priority list,
automatic (type-based) selection, or both. It is interned, so a dispatched
function keeps one route per choice. This module is pure: it orders candidates
and says why; running hooks and routes is the dispatch module's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from turnout import _lazytyping as t


class Choice:
    """A priority list, automatic selection, or both (interned: compare by identity).

    Attributes
    ----------
    backends
        Labels in the user's order of preference.
    automatic
        Whether backends owning the types of the call's dispatch arguments
        are candidates too.
    per_function
        Whether a per-function priority may replace `backends` (only for the
        process-wide setting).
    """

    __slots__ = ("automatic", "backends", "per_function")

    def __init__(self, backends: tuple[str, ...], automatic: bool, per_function: bool) -> None:
        self.backends = backends
        self.automatic = automatic
        self.per_function = per_function

    @classmethod
    def of(
        cls, backends: Iterable[str] = (), *, automatic: bool = False, per_function: bool = False
    ) -> Choice:
        """Return the one choice with these parts."""
        key = (tuple(backends), automatic, per_function)
        found = _INTERNED.get(key)
        if found is None:
            found = _INTERNED[key] = cls(*key)
        return found

    def with_automatic(self, automatic: bool) -> Choice:
        """Return this choice with automatic selection switched on or off."""
        return Choice.of(self.backends, automatic=automatic, per_function=self.per_function)

    @property
    def is_empty(self) -> bool:
        """Whether it selects nothing (the host's code runs)."""
        return not self.backends and not self.automatic

    def __repr__(self) -> str:
        parts = [repr(list(self.backends))] if self.backends else []
        if self.automatic:
            parts.append("automatic")
        return f"<choice {' + '.join(parts) or 'cpu'}>"


_INTERNED: dict[tuple[t.Any, ...], Choice] = {}


def type_names(cls: type) -> list[str]:
    """Return ``module:qualname`` of `cls` and of every class in its MRO, nearest first.

    The names a backend declares its types by, so matching never imports the
    library that defines them.
    """
    names = []
    for klass in getattr(cls, "__mro__", (cls,)):
        module = getattr(klass, "__module__", None)
        qualname = getattr(klass, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str) and klass is not object:
            names.append(f"{module}:{qualname}")
    return names


class Owner:
    """A backend that declares it owns some types, with what orders it among others."""

    __slots__ = ("name", "priority", "requires_opt_in", "trusted", "types")

    def __init__(
        self,
        name: str,
        types: Iterable[str],
        *,
        priority: int = 0,
        trusted: bool = True,
        requires_opt_in: bool = False,
    ) -> None:
        self.name = name
        self.types = frozenset(types)
        self.priority = priority
        self.trusted = trusted
        self.requires_opt_in = requires_opt_in

    def why_not(self, opted_in: Iterable[str]) -> str | None:
        """Return why automatic selection may not pick it, or None if it may."""
        if self.name in opted_in:
            return None
        if not self.trusted:
            return "the host does not trust it (opt in with settings.opt_in)"
        if self.requires_opt_in:
            return "it asks to be opted in (settings.opt_in)"
        return None

    def __repr__(self) -> str:
        return f"Owner({self.name!r}, priority={self.priority})"


def owners_of(
    names: Sequence[str],
    owners: Iterable[Owner],
    preference: Sequence[str] = (),
    opted_in: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """Return the eligible backends owning one of `names` in order, and the reasons.

    Order: a nearer class in the MRO first; then the user's `preference`
    (a priority list); then the backend's declared priority, higher first; then
    its name. Each reason is one line for `explain`.
    """
    ranked: list[tuple[tuple[t.Any, ...], str]] = []
    reasons: list[str] = []
    position = {label: index for index, label in enumerate(preference)}
    allowed = frozenset(opted_in)
    for owner in owners:
        depth = next((i for i, name in enumerate(names) if name in owner.types), None)
        if depth is None:
            continue
        why_not = owner.why_not(allowed)
        if why_not is not None:
            reasons.append(f"{owner.name!r} owns {names[depth]} but {why_not}")
            continue
        rank = (depth, position.get(owner.name, len(position)), -owner.priority, owner.name)
        ranked.append((rank, owner.name))
        reasons.append(
            f"{owner.name!r} owns {names[depth]}"
            + (f" (priority {owner.priority})" if owner.priority else "")
        )
    ranked.sort()
    return [name for _, name in ranked], reasons


def candidates(
    choice: Choice,
    listed: Sequence[str],
    owned: Sequence[str],
) -> list[str]:
    """Return the backends to try in order: owners of the call's types, then the list.

    `listed` is the priority list in effect (the choice's, or a per-function
    one); `owned` the eligible owners of the dispatch arguments' types, in
    order. A backend appears once.
    """
    order = [*owned, *listed] if choice.automatic else list(listed)
    return list(dict.fromkeys(order))


def priority_from(value: object) -> tuple[str, ...] | None:
    """Return a priority list from a list, tuple or ``"a,b"`` string; None for one label."""
    if isinstance(value, str):
        parts = tuple(part.strip() for part in value.split(",") if part.strip())
        return parts if "," in value and parts else None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return None


def override_for(
    overrides: Mapping[str, Sequence[str]], names: Iterable[str]
) -> tuple[str, ...] | None:
    """Return the per-function priority set for any of a function's `names`, if one is."""
    for name in names:
        if name in overrides:
            return tuple(overrides[name])
    return None
