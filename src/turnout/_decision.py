"""The one decision procedure: which candidates run a call, in which order, and why.

Every question of the kind "given this function and this call, which backend
runs?" is answered here, for calls, classes, `explain`, the test plugin and
snapshots alike. The module is pure: labels arrive canonical (resolving one
needs discovery, which the caller passes in as a function), and nothing here
runs a hook or a backend. Matching a type reads ``sys.modules`` and imports
no library (`resolve_type`).

Precedence, highest first: the kill switch (``<HOST>_STRICT``), the call's
keyword, the innermost scope, a per-function priority, the process-wide
setting, automatic selection by argument type, the host's code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import pairwise

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError, UnknownBackendError
from turnout._names import CPU, label_problem
from turnout._policy import Source
from turnout._shape import OMITTED

# Why a selection is in effect (`Source`, ordered by precedence): what `explain` shows.
FORCED, KEYWORD, SCOPE = Source.FORCED, Source.KEYWORD, Source.SCOPE
PER_FUNCTION, GLOBAL = Source.PER_FUNCTION, Source.GLOBAL
AUTOMATIC, DEFAULT = Source.AUTOMATIC, Source.DEFAULT
_OMITTED_TYPE = type(OMITTED)


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
        text, value = value, [part.strip() for part in value.split(",") if part.strip()]
        if not value:  # a label the user typed, with nothing between its commas
            raise UnknownBackendError(
                label=text,
                host_name=host_name,
                problem=f"{text!r} gives no label between its commas (write 'a' or 'a,b')",
                installed=(CPU,),
            )
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
    return [name for name in map(_name_of, getattr(cls, "__mro__", (cls,))) if name]


def _name_of(klass: type) -> str | None:
    """Return ``module:qualname`` of one class (None for `object` and unnamed classes)."""
    module = getattr(klass, "__module__", None)
    qualname = getattr(klass, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and klass is not object:
        return f"{module}:{qualname}"
    return None


# Standard-library modules of abstract base classes that register builtins as they are
# imported (`numbers` registers int and float): an int exists before `numbers` is
# imported, so these are imported to answer (cheap, and nothing but the standard library).
_ABSTRACT_MODULES = frozenset({"collections.abc", "numbers"})


def resolve_type(ref: str) -> type | None:
    """Return the class a declared ``"module:qualname"`` names, if that imports no library.

    Only a module already imported is looked in: an object of a class
    registered with an abstract base class cannot exist before the module
    defining that base class was imported. The standard library's
    ``collections.abc`` and ``numbers`` are the exception (see above). Names are
    read from the module's and classes' own namespaces, so a module's
    ``__getattr__`` (a lazy loader) is never asked.
    """
    module, _, qualname = ref.partition(":")
    found: object = sys.modules.get(module)
    if found is None and module in _ABSTRACT_MODULES:
        __import__(module)
        found = sys.modules.get(module)
    for part in qualname.split(".") if found is not None else ():
        namespace = getattr(found, "__dict__", None)
        found = namespace.get(part) if isinstance(namespace, Mapping) else None
    return found if isinstance(found, type) and found is not object else None


class Owner:
    """A backend that declares types it owns (``types``) and accepts (``secondary_types``).

    Automatic selection considers it for a call when it owns or accepts the
    type of every dispatch argument given and owns at least one of them.
    """

    __slots__ = ("name", "priority", "requires_opt_in", "secondary", "trusted", "types")

    def __init__(
        self,
        name: str,
        types: Iterable[str],
        *,
        secondary: Iterable[str] = (),
        priority: int = 0,
        trusted: bool = True,
        requires_opt_in: bool = False,
    ) -> None:
        self.name = name
        self.types = frozenset(types)
        self.secondary = frozenset(secondary) - self.types
        self.priority = priority
        self.trusted = trusted
        self.requires_opt_in = requires_opt_in

    def match(self, cls: type) -> tuple[int, bool, str] | None:
        """Return how it declares `cls`: ``(distance, owned, declared name)``, or None.

        The distance is the position in the MRO of `cls` of the nearest class
        it declares; a class `cls` is only registered with (an abstract base
        class) is farther than any class of its MRO. At one distance, owning is
        nearer than accepting.
        """
        mro = getattr(cls, "__mro__", (cls,))
        distances: dict[str, int] = {}
        for index, klass in enumerate(mro):
            distances.setdefault(_name_of(klass) or "", index)
        best: tuple[int, bool, str] | None = None
        for ref in (*sorted(self.types), *sorted(self.secondary)):
            distance = distances.get(ref)
            if distance is None:  # declared by another name, or an abstract base class
                distance = _distance(cls, mro, resolve_type(ref))
            if distance is None:
                continue
            found = (distance, ref in self.types, ref)
            if best is None or (distance, not found[1]) < (best[0], not best[1]):
                best = found
        return best

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


def _distance(cls: type, mro: Sequence[type], declared: type | None) -> int | None:
    """Return where `declared` stands from `cls`: in its MRO, beyond it (registered), or None."""
    if declared is None:
        return None
    if declared in mro:
        return mro.index(declared)
    try:
        return len(mro) if issubclass(cls, declared) else None
    except Exception:  # noqa: BLE001 - a broken __subclasscheck__ is no match, not a failed call
        return None


def counted(arguments: Iterable[tuple[str, type]]) -> list[tuple[str, type]]:
    """Return the dispatch arguments automatic selection weighs: given, not None, each type once.

    An argument the caller left out (its type is that of `OMITTED`) or gave as
    None says nothing about where the data lives.
    """
    found: dict[type, str] = {}
    for name, kind in arguments:
        if kind is not _OMITTED_TYPE and kind is not type(None):
            found.setdefault(kind, name)
    return [(name, kind) for kind, name in found.items()]


def shown_type(cls: type) -> str:
    """Return ``module:qualname`` of `cls` as messages show it."""
    return next(iter(type_names(cls)), "builtins:object")


def owners_of(
    arguments: Sequence[tuple[str, type]],
    owners: Iterable[Owner],
    preference: Sequence[str] = (),
    opted_in: Iterable[str] = (),
    *,
    order: Sequence[tuple[str, str]] = (),
    order_source: str = "the set order",
) -> tuple[list[str], list[str]]:
    """Return the eligible backends for a call's dispatch `arguments` in order, and the reasons.

    `arguments` are ``(parameter name, type)`` pairs (see `counted` for which
    count). A backend qualifies when it owns or accepts the type of every one
    and owns at least one. Order: first the nearer declared classes (the
    farthest argument first, then the next; see `Owner.match`); then the
    user's `preference` (a priority list); then the backend's declared
    priority, higher first; then its name. Then `order`, pairs ``(before,
    after)`` of canonical names, moves a backend before another when both
    qualify, unless `preference` names the later one. Each reason is one line
    for `explain`.
    """
    given = counted(arguments)
    several = len(given) > 1
    ranked: list[tuple[tuple[t.Any, ...], str]] = []
    reasons: list[str] = []
    position = {label: index for index, label in enumerate(preference)}
    allowed = frozenset(opted_in)
    for owner in owners:
        matches = [(name, kind, owner.match(kind)) for name, kind in given]
        found = [(name, match) for name, _, match in matches if match is not None]
        if not found:
            continue
        declared = _declared(found, several)
        missing = [(name, kind) for name, kind, match in matches if match is None]
        if missing:
            name, kind = missing[0]
            reasons.append(
                f"{owner.name!r} {declared} but is ruled out: argument {name!r} is "
                f"{shown_type(kind)}, which it neither owns nor accepts"
            )
            continue
        if not any(match[1] for _, match in found):
            reasons.append(
                f"{owner.name!r} {declared} but is ruled out: it owns none of the "
                "arguments' types (secondary_types only)"
            )
            continue
        why_not = owner.why_not(allowed)
        if why_not is not None:
            reasons.append(f"{owner.name!r} {declared} but {why_not}")
            continue
        nearness = tuple(sorted(((m[0], not m[1]) for _, m in found), reverse=True))
        rank = (nearness, position.get(owner.name, len(position)), -owner.priority, owner.name)
        ranked.append((rank, owner.name))
        reasons.append(
            f"{owner.name!r} {declared}"
            + (f" (priority {owner.priority})" if owner.priority else "")
        )
    ranked.sort()
    names, moved = ordered([name for _, name in ranked], order, position)
    reasons.extend(f"{a!r} before {b!r} ({order_source} {a}>{b})" for a, b in moved)
    if not reasons:
        reasons.append(_unowned(given, len(arguments)))
    return names, reasons


def _declared(found: Sequence[tuple[str, tuple[int, bool, str]]], several: bool) -> str:
    """Return what a backend declares of the arguments: ``owns m:T ('a'), accepts ...``."""
    return ", ".join(
        f"{'owns' if owned else 'accepts'} {ref}" + (f" ({name!r})" if several else "")
        for name, (_, owned, ref) in found
    )


def _unowned(given: Sequence[tuple[str, type]], total: int) -> str:
    if not given:
        return "no dispatch argument counts (left out, or None)" if total else "no arguments"
    if len(given) == 1:
        return f"no backend owns {shown_type(given[0][1])}"
    shown = ", ".join(f"{name!r} ({shown_type(kind)})" for name, kind in given)
    return f"no backend owns one and owns or accepts all of the arguments' types: {shown}"


def ordered(
    names: Sequence[str], order: Sequence[tuple[str, str]], listed: Mapping[str, int]
) -> tuple[list[str], list[tuple[str, str]]]:
    """Return `names` with each pair of `order` respected, and the pairs that moved one.

    A pair ``(before, after)`` applies when both are among `names` and
    `listed` (a priority list in effect) does not name `after`. Otherwise the
    given order stands: the result is the stable topological order (each time
    the first name no applying pair holds back); a cycle (pairs resolved to
    one backend through aliases) is broken in the given order.
    """
    present = set(names)
    rules = [
        (a, b) for a, b in order if a in present and b in present and a != b and b not in listed
    ]
    if not rules:
        return list(names), []
    remaining = list(names)
    result: list[str] = []
    while remaining:
        held = {b for a, b in rules if a in remaining}
        pick = next((name for name in remaining if name not in held), remaining[0])
        remaining.remove(pick)
        result.append(pick)
    index = {name: i for i, name in enumerate(names)}
    moved = [(a, b) for a, b in rules if index[a] > index[b]]
    return result, moved


def parse_order(text: str) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """Return the ``(before, after)`` pairs a relative order gives, and its problems.

    `text` is what ``<HOST>_SET_ORDER`` holds: entries separated by commas,
    each two labels or more joined by ``>`` (``"a>b,c>b"``; ``"a>b>c"`` is
    ``a>b`` and ``b>c``). A malformed entry is left out whole, a pair that
    would close a cycle alone; each problem is one phrase naming what was
    left out and why. A later entry overrides an earlier opposite pair
    (``"a>b,b>a"`` means ``b>a``).
    """
    pairs: dict[tuple[str, str], None] = {}
    problems: list[str] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        labels = [label.strip() for label in entry.split(">")]
        problem = _entry_problem(labels)
        if problem is not None:
            problems.append(f"{entry!r} is ignored: {problem}")
            continue
        for before, after in pairwise(labels):
            pairs.pop((after, before), None)
            pairs[before, after] = None
    kept: list[tuple[str, str]] = []
    for before, after in pairs:
        path = _path(kept, after, before)
        if path is None:
            kept.append((before, after))
        else:
            cycle = ">".join((before, *path))
            problems.append(f"'{before}>{after}' is ignored: it would close the cycle {cycle}")
    return tuple(kept), problems


def _entry_problem(labels: Sequence[str]) -> str | None:
    if len(labels) == 1:
        return "an entry names two backends or more, the one to run first before '>'"
    for label in labels:
        problem = label_problem(label) if label else "a label is missing around '>'"
        if problem is not None:
            return problem
        if label == CPU:
            return "'cpu' is the host's own code, not a backend automatic selection orders"
    twice = next((label for label in labels if labels.count(label) > 1), None)
    if twice is not None:
        return f"it names {twice!r} twice"
    return None


def _path(pairs: Sequence[tuple[str, str]], start: str, goal: str) -> list[str] | None:
    """Return the labels from `start` to `goal` along `pairs`, or None if there is no path."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        here = todo.pop()
        if here == goal:
            return paths[here]
        for a, b in pairs:
            if a == here and b not in paths:
                paths[b] = [*paths[here], b]
                todo.append(b)
    return None
