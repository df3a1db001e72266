"""The one decision procedure: which candidates run a call, in which order, and why.

Every question of the kind "given this function and this call, which backend
runs?" is answered here, for calls, classes, `explain`, the test plugin and
snapshots alike. The module is pure: labels arrive canonical (resolving one
needs discovery, which the caller passes in as a function), and nothing here
runs a hook or a backend.

Precedence, highest first: the kill switch (``<HOST>_STRICT``), the call's
keyword, the innermost scope, a per-function priority, the process-wide
setting, automatic selection by argument type, the host's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError, UnknownBackendError
from turnout._names import CPU
from turnout._policy import Source

# Why a selection is in effect (`Source`, ordered by precedence): what `explain` shows.
FORCED, KEYWORD, SCOPE = Source.FORCED, Source.KEYWORD, Source.SCOPE
PER_FUNCTION, GLOBAL = Source.PER_FUNCTION, Source.GLOBAL
AUTOMATIC, DEFAULT = Source.AUTOMATIC, Source.DEFAULT


class Choice:
    """What a user selected when it is not one plain label (interned: compare by identity).

    Attributes
    ----------
    labels
        Canonical labels in the user's order; ``"cpu"`` may stand anywhere and
        means the host's code at that position. Empty: nothing chosen.
    listed
        Whether the labels are a priority list (a hook's ``should_run`` is
        asked) rather than one label the user named.
    automatic
        Whether backends owning the types of the call's dispatch arguments come
        first.
    per_function
        Whether a per-function priority replaces `labels` (the process-wide
        setting only).
    """

    __slots__ = ("automatic", "labels", "listed", "per_function")

    def __init__(
        self, labels: tuple[str, ...], listed: bool, automatic: bool, per_function: bool
    ) -> None:
        self.labels = labels
        self.listed = listed
        self.automatic = automatic
        self.per_function = per_function

    @classmethod
    def of(
        cls,
        labels: Iterable[str] = (),
        *,
        listed: bool = True,
        automatic: bool = False,
        per_function: bool = False,
    ) -> Choice:
        """Return the one choice with these parts."""
        key = (tuple(labels), listed, automatic, per_function)
        found = _INTERNED.get(key)
        if found is None:
            found = _INTERNED[key] = cls(*key)
        return found

    def switched(self, automatic: bool) -> Choice:
        """Return this choice with automatic selection on or off."""
        return Choice.of(
            self.labels, listed=self.listed, automatic=automatic, per_function=self.per_function
        )

    def shown(self) -> str | list[str]:
        """Return what ``settings.backend`` reads for it: a label, a list, or ``"cpu"``."""
        if not self.labels:
            return CPU
        return list(self.labels) if self.listed else self.labels[0]

    def __repr__(self) -> str:
        parts = [repr(list(self.labels) if self.listed else self.labels[0])] if self.labels else []
        if self.automatic:
            parts.append("automatic")
        if self.per_function:
            parts.append("per-function")
        return f"<choice {' + '.join(parts) or 'nothing'}>"


_INTERNED: dict[tuple[t.Any, ...], Choice] = {}

# -- reading what a user gives -------------------------------------------------------------


def labels_in(value: object, host_name: str) -> tuple[tuple[str, ...], bool]:
    """Return the labels a selection names and whether they form a priority list.

    The one reading of a user's value, in every form (a call's keyword, a scope,
    ``settings.backend``, a per-function priority, ``<HOST>_BACKEND``): a label;
    a priority list as a list, a tuple or ``"a,b"``. Labels are not resolved here.

    Raises
    ------
    UnknownBackendError
        A label that is not a non-empty string.
    ConfigurationError
        An empty or nested list.
    """
    if isinstance(value, str):
        if "," not in value:
            if not value:
                raise UnknownBackendError(label=value, host_name=host_name, installed=(CPU,))
            return (value,), False
        value = [part.strip() for part in value.split(",") if part.strip()]
    elif not isinstance(value, (list, tuple)):
        raise UnknownBackendError(label=value, host_name=host_name, installed=(CPU,))
    if not value or any(isinstance(item, (list, tuple)) for item in value):
        raise ConfigurationError(
            problems=[
                f"a priority list is a non-empty list of backend labels (or 'a,b'), not {value!r}"
            ],
            host_name=host_name,
            subject="backend selection",
        )
    for item in value:
        if not isinstance(item, str) or not item:
            raise UnknownBackendError(label=item, host_name=host_name, installed=(CPU,))
    return tuple(value), True


def choose(value: object, resolve: Callable[[str], str], host_name: str) -> str | Choice:
    """Return the selection a user's value makes: ``"cpu"``, a canonical label, or a list.

    `resolve` turns a label other than ``"cpu"`` into its backend's canonical
    name, or raises why it cannot. A list keeps ``"cpu"`` where it stands;
    repeated labels count once.
    """
    labels, listed = labels_in(value, host_name)
    canonical = tuple(dict.fromkeys(CPU if label == CPU else resolve(label) for label in labels))
    if not listed:
        return canonical[0]
    return Choice.of(canonical)


def held(selected: str | Choice) -> str | Choice:
    """Return `selected` as a scope or the process-wide setting holds it.

    One label becomes a `Choice` of it (unlisted): a call's keyword is the only
    selection kept as a plain label, so a route knows the call named it.
    ``"cpu"`` stays itself: the wrapper runs the host's code inline for it.
    """
    if isinstance(selected, str) and selected != CPU:
        return Choice.of((selected,), listed=False)
    return selected


# -- precedence --------------------------------------------------------------------------


def requested(keyword: object, current: t.Any, forced: bool) -> tuple[object, str]:
    """Return what a call asks for and why: the precedence, in one place.

    `current` is the selection in effect where the call is made (a scope's, or
    the process-wide one), with ``.name`` and ``.why``. The generated wrapper
    does the same with a ContextVar read and caches what `decide` answers.
    """
    if forced:
        return CPU, FORCED
    if keyword is not None:
        return keyword, KEYWORD
    return current.name, current.why


class Decision:
    """Which candidates run a call, in order, and why.

    Attributes
    ----------
    candidates
        Canonical labels to try in order. It ends at ``"cpu"`` when the user
        placed the host's code in it; empty when nothing is chosen.
    named
        One label the user named (its ``should_run`` is not asked: the user chose).
    strict
        The call's keyword named it: a backend function that cannot serve the
        call raises `DispatchDefinitionError` rather than being skipped.
    why
        What selected them (`KEYWORD`, `SCOPE`, ...).
    notes
        Reasons worth showing (`explain`, the ``turnout`` logger).
    """

    __slots__ = ("candidates", "named", "notes", "strict", "why")

    def __init__(
        self,
        candidates: tuple[str, ...],
        why: str,
        *,
        named: bool = False,
        strict: bool = False,
        notes: Sequence[str] = (),
    ) -> None:
        self.candidates = candidates
        self.why = why
        self.named = named
        self.strict = strict
        self.notes = tuple(notes)

    @property
    def closed(self) -> bool:
        """Whether the host's code ends the candidates by the user's choice (no fallback)."""
        return not self.candidates or self.candidates[-1] == CPU

    @property
    def backends(self) -> tuple[str, ...]:
        """The candidates that are backends (without the closing ``"cpu"``)."""
        return self.candidates[:-1] if self.candidates[-1:] == (CPU,) else self.candidates

    def __repr__(self) -> str:
        return f"<decision {list(self.candidates)} ({self.why})>"


def override_for(
    overrides: Mapping[str, tuple[str, ...]], keys: Iterable[str]
) -> tuple[str, ...] | None:
    """Return the per-function priority set for any of a function's `keys`, if one is."""
    for key in keys:
        found = overrides.get(key)
        if found is not None:
            return found
    return None


Ranking = Callable[[tuple[str, ...]], tuple[Sequence[str], Sequence[str]]]


def decide(
    selected: object,
    why: str,
    *,
    keys: Sequence[str] = (),
    overrides: Mapping[str, tuple[str, ...]] | None = None,
    owners: Ranking | None = None,
) -> Decision:
    """Return the candidates for one function or class under one selection.

    Parameters
    ----------
    selected
        ``"cpu"``, a canonical label, or a `Choice`.
    why
        What selected it (see `requested`).
    keys
        The function's dispatch keys, for per-function priorities.
    overrides
        Per-function priorities, by dispatch key.
    owners
        For automatic selection: given the priority list in effect, the eligible
        backends that own the types of this call's dispatch arguments, in order,
        and why each is or is not eligible (see `owners_of`). They come first.
    """
    if not isinstance(selected, Choice):  # a label from a call's keyword
        return Decision((str(selected),), why, named=True, strict=True)
    labels, listed = selected.labels, selected.listed
    notes: list[str] = []
    if selected.per_function and overrides:
        override = override_for(overrides, keys)
        if override is not None:
            labels, listed, why = override, True, PER_FUNCTION
            notes.append(f"settings.priority for {keys[0]}: {list(override)}")
    if labels and not listed:
        return Decision(labels[:1], why, named=True, notes=notes)
    order: Sequence[str] = labels
    if selected.automatic and owners is not None:
        owned, reasons = owners(labels)
        notes.extend(reasons)
        order = (*owned, *labels)
        if not labels:
            why = AUTOMATIC
    candidates = tuple(dict.fromkeys(order))
    if CPU in candidates:
        candidates = candidates[: candidates.index(CPU) + 1]
    if candidates and candidates != (CPU,):
        notes.append(f"candidates, in order: {', '.join(candidates)}")
    return Decision(candidates, why, notes=notes)


# -- hooks -------------------------------------------------------------------------------


def judge(said: object) -> str | None:
    """Return why a ``can_run``/``should_run`` answer is a "no", or None for a "yes".

    ``True`` runs; a string is a "no" giving its reason; anything else is
    judged by its truth (``1`` runs, ``None`` and ``0`` do not).
    """
    if said is True:
        return None
    if isinstance(said, str):
        return repr(said) if said else "no"
    return None if said else "no"


# -- automatic selection by type -----------------------------------------------------------


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
