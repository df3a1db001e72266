"""Read-only questions: `explain` a call, `report` the backends, `support` the functions.

Their answers are records built with `dataclasses`, which imports `inspect`
(milliseconds): the dispatcher imports this module when first asked.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from turnout._chain import hooks_of, owner_ranking
from turnout._decision import Choice, Decision, decide, judge
from turnout._errors import DispatchDefinitionError, TurnoutError
from turnout._merged_api import declarations
from turnout._names import CPU
from turnout._plan import describe_callable, is_default
from turnout._registry import CLAIMED, BackendStatus, Entry


@dataclass(frozen=True)
class BackendInfo:
    """One backend, or one refused entry point, as `BackendDispatcher.report` sees it.

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
    problems
        For a loaded backend, each function it implements but cannot serve
        (``"mean: ... cannot serve it: ..."``): a call that names it by
        ``backend=`` raises `DispatchDefinitionError`, any other selection
        moves on to the next candidate with this in the `FallbackWarning`.
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
    problems: tuple[str, ...] = ()

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
            "problems": list(self.problems),
        }


def definition_problems(entry: Entry, implemented: Sequence[Any]) -> tuple[str, ...]:
    """Return what keeps a loaded backend from serving functions it implements, one per function."""
    problems = []
    for record in implemented:
        plan = getattr(record, "plan", None)  # functions have call plans; classes none
        if plan is None:
            continue
        try:
            plan(entry)
        except DispatchDefinitionError as error:
            problems.append(f"{record.public_name}: {error.problem}")
    return tuple(problems)


def info_of(
    entry: Entry, implemented: Sequence[Any] = (), *, problems: tuple[str, ...] = ()
) -> BackendInfo:
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
        problems=problems,
    )


@dataclass(frozen=True)
class Explanation:
    """What `BackendDispatcher.explain` found a call would do, without running it.

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


# -- explain -------------------------------------------------------------------------------


def explain_call(
    record: Any, selected: object, why: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Explanation:
    """Return an `Explanation` of a call of a dispatched function under `selected`."""
    host = inspect.signature(record.host)
    extra = {key: kwargs.pop(key) for key in list(kwargs) if key not in host.parameters}
    if any(p.kind is p.VAR_KEYWORD for p in host.parameters.values()):
        kwargs.update(extra)
        extra = {}
    given = host.bind_partial(*args, **kwargs).arguments
    if record.state.forced:
        selected = CPU
    decision, chosen, notes = explain_decision(record, selected, why, args, dict(kwargs, **extra))
    why = decision.why
    if chosen is None:
        if decision.closed:  # nothing chosen, or "cpu" where the user placed it
            return Explanation(
                record.public_name, CPU, why, f"{record.public_name}()", notes=tuple(notes)
            )
        policy = record.state.fallback_var.get().name
        shown = decision.backends[0] if decision.named else ", ".join(decision.backends)
        return Explanation(
            record.public_name,
            shown,
            why,
            f"{record.public_name}()",
            fallback=True,
            notes=(*notes, f"fallback policy {policy!r}"),
        )
    plan = record.plan(record.discovery.require(chosen))
    assert plan is not None  # noqa: S101 - explain_decision checked it
    shape = record.shape()
    dropped = tuple(
        name
        for name in plan.host_only
        if name in given and not is_default(given[name], shape.by_name[name].default)
    )
    notes += [
        f"{name!r} left out: the backend's own default applies"
        for name in plan.shared
        if name not in given and shape.by_name[name].has_default
    ]
    notes += [f"{a!r} is passed as {b!r}" for a, b in plan.renamed.items() if a in given]
    notes += [
        f"{key!r} is not a parameter of this backend" for key in extra if key not in plan.accepted
    ]
    return Explanation(
        record.public_name,
        chosen,
        why,
        describe_callable(plan.implementation),
        forwarded=tuple(name for name in plan.shared if name in given),
        dropped=dropped,
        added=tuple(key for key in extra if key in plan.accepted),
        notes=tuple(notes),
    )


def explain_construction(record: Any, selected: object, why: str) -> Explanation:
    """Return an `Explanation` of constructing a dispatched class under `selected`.

    Construction arguments do not change which class is built.
    """
    if record.state.forced:
        selected = CPU
    decision = decide(selected, why, keys=record.keys, overrides=record.state.overrides)
    found, backend = record.first(decision)
    chosen = found if found is not None else record.host
    shown = backend or CPU
    fallback = found is None and not decision.closed
    if fallback:
        shown = decision.backends[0] if decision.named else ", ".join(decision.backends)
    return Explanation(
        record.public_name,
        shown,
        decision.why,
        f"{chosen.__module__}.{chosen.__qualname__}()",
        fallback=fallback,
        notes=decision.notes,
    )


def explain_decision(
    record: Any,
    selected: object,
    why: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Decision, str | None, list[str]]:
    """Return what a call would do: the decision, the backend that would run, and why.

    The backend is None when none of the candidates would run it. Candidates'
    ``can_run``/``should_run`` hooks are asked when the call's arguments are
    all given (they should be cheap and without effects); nothing else runs.
    """
    signature = inspect.signature(record.host)
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    named = kwargs if takes_any else {k: v for k, v in kwargs.items() if k in params}
    bound = signature.bind_partial(*args, **named).arguments
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    complete = all(
        name in bound
        for name, param in params.items()
        if param.default is param.empty and param.kind not in variadic
    )
    owners = None
    notes: list[str] = []
    if isinstance(selected, Choice) and selected.automatic and record.dispatch_positions():
        route_names = record.route_parameter_names()
        wanted = [route_names[index] for index in record.dispatch_positions()]
        missing = [  # a parameter with a default left out does not count: no question
            name
            for name in wanted
            if name not in bound
            and name in params
            and params[name].default is params[name].empty
            and params[name].kind not in variadic
        ]
        if missing:
            notes.append(
                f"automatic selection depends on the type of {', '.join(missing)}, not given"
            )
        owners = owner_ranking(record, [(key, type(bound[key])) for key in wanted if key in bound])
    decision = decide(
        selected, why, keys=record.keys, overrides=record.state.overrides, owners=owners
    )
    notes = [*notes, *decision.notes]
    if not complete and decision.backends:
        notes.append("hooks (can_run, should_run) not asked: the call's arguments are incomplete")
    for label in decision.backends:
        found = verdict(record, label, args, kwargs, explicit=decision.named, ask=complete)
        if found is None:
            return decision, record.discovery.require(label).name, notes
        notes.append(found)
    return decision, None, notes


def verdict(
    record: Any,
    label: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    explicit: bool = False,
    ask: bool = True,
) -> str | None:
    """Return why `label` would not run this call, or None if it would.

    An `explicit` choice asks only ``can_run``; a list or automatic selection
    also ``should_run``. Without `ask`, no hook is asked.
    """
    try:
        entry = record.discovery.require(label)
    except TurnoutError as error:
        return f"{label}: {error}"
    plan = record.plan(entry)
    if plan is None:
        return f"{entry.name}: does not implement it"
    if not ask:
        return None
    for kind, hook, per_function in hooks_of(entry, plan.implementation, explicit=explicit):
        try:
            said = hook(*args, **kwargs) if per_function else hook(record.key, args, kwargs)
        except NotImplementedError as error:
            said = str(error) or "raised NotImplementedError"
        reason = judge(said)
        if reason is not None:
            return f"{entry.name}: {kind} said {reason}"
    return None


# -- report and support --------------------------------------------------------------------


def report(
    records: Sequence[Any], discovery: Any, refused: Iterable[Entry], load: bool
) -> list[BackendInfo]:
    """Return a `BackendInfo` per backend (without `load`, from metadata too), then refusals."""
    infos = []
    for entry in discovery.loaded_entries():
        implemented = [r for r in records if r.support([entry])[entry.name] is not None]
        infos.append(info_of(entry, implemented, problems=definition_problems(entry, implemented)))
    if not load:
        for entry, info in discovery.unloaded():
            functions = info.functions if info is not None and info.functions else ()
            implemented = [record for record in records if record.key in functions]
            infos.append(info_of(entry, implemented))
        infos.sort(key=lambda info: info.name)
    infos.extend(info_of(entry) for entry in refused)
    return infos


def support(
    records: Sequence[Any], discovery: Any, *, load: bool, keys: bool
) -> dict[str, dict[str, tuple[str, ...] | None]]:
    """Return ``{function: {backend: backend-only parameters, or None}}`` (see the dispatcher)."""
    entries = discovery.loaded_entries()
    rows = [(record, record.support(entries)) for record in records]
    if not load:
        for entry, info in discovery.unloaded():
            if info is None or info.functions is None:
                continue
            for record, cells in rows:
                api = getattr(record, "api", None)  # a function's; classes add no parameters
                if api is not None:
                    cells[entry.name] = api.declared_support(info, record.key)
                else:
                    cells[entry.name] = () if record.key in info.functions else None
    return {
        (record.key if keys else record.public_name): dict(sorted(cells.items()))
        for record, cells in rows
    }


def support_notes(
    records: Sequence[Any], discovery: Any, *, load: bool
) -> dict[str, dict[str, str]]:
    """Return ``{public name: {backend: its note}}``: the ``extra_docstring`` of each function.

    From the ``turnout-backend.json`` of the loaded backends, and with `load`
    false of those not imported yet too (as the support table describes them).
    """
    described = discovery.described(unloaded=not load)
    notes: dict[str, dict[str, str]] = {}
    for record in records:
        for declaration in declarations(record.key, described):  # what the docstring shows
            if declaration.note:
                notes.setdefault(record.public_name, {})[declaration.backend] = declaration.note
    return notes


BackendInfo.__module__ = "turnout"
Explanation.__module__ = "turnout"
