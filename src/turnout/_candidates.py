"""Routes for a choice: candidates tried in order, gated by hooks, then the fallback.

A *chain* is the route of the first candidate, whose decline (its backend
raised `NotImplementedError`, or a ``can_run``/``should_run`` hook said no)
runs the route of the next, and so on to the *final* route: the host's code,
under the fallback policy when a candidate was chosen. Chains are built once
per (function, choice), or per argument type for automatic selection; with no
hooks they add nothing to a call that does not decline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from turnout import _lazytyping as t
from turnout._codegen import Emitter
from turnout._decision import Choice, Decision, decide, judge, owners_of, type_names
from turnout._errors import TurnoutError
from turnout._lazytyping import TYPE_CHECKING
from turnout._log import debug

if TYPE_CHECKING:
    from turnout._dispatch import DispatchedFunction
    from turnout._registry import Entry

    Route = Callable[..., t.Any]
_notes = threading.local()  # why earlier candidates did not run, for the final route's message


class Observer:
    """What a test session records about dispatch (``pytest --turnout-backend``); no-ops here."""

    def ran(self, function: str, backend: str) -> None:
        """Record that a backend function returned."""

    def declined(self, function: str, backend: str, reason: str) -> None:
        """Record a declined call (a hook said no, or it raised NotImplementedError)."""

    def fell_back(self, function: str, backends: str, reason: str) -> None:
        """Record that the host's code ran for a call a backend was chosen for."""


observer: Observer | None = None  # set by turnout's pytest plugin before routes are made


def _pass_on(reason: str, run: Route, args: tuple[t.Any, ...]) -> t.Any:
    """Run `run` with `reason` recorded for a fallback further down the chain."""
    stack = getattr(_notes, "stack", None)
    if stack is None:
        stack = _notes.stack = []
    stack.append(reason)
    try:
        return run(*args)
    finally:
        stack.pop()


def noted() -> list[str]:
    """Return the reasons recorded by the candidates declined in this thread's chain."""
    return list(getattr(_notes, "stack", ()))


def chain(
    record: DispatchedFunction,
    labels: Sequence[str],
    final: Route,
    *,
    explicit: bool = False,
) -> tuple[Route, list[str]]:
    """Return the route trying `labels` in order, then `final`; and why some were skipped.

    A label no usable backend answers to, or whose backend lacks the function,
    is skipped (its reason kept for the fallback's message). With `explicit` (one
    backend the user named), a ``should_run`` hook is not asked: the user chose.
    """
    skipped: list[str] = []
    run = final
    for label in reversed(labels):
        try:
            entry = record.discovery.select(label)
        except TurnoutError as error:  # not installed, failed, refused: the next one
            skipped.append(f"{label}: {error}")
            continue
        plan = record.plan(entry)  # a backend function that cannot serve it raises
        if plan is None:
            skipped.append(f"{entry.name}: does not implement it")
            continue
        route = record.backend_route(entry, plan, _decliner(record, entry.name, run))
        hooks = _hooks(entry, plan.implementation, explicit=explicit)
        run = _gate(record, entry.name, hooks, route, run) if hooks else route
    skipped.reverse()
    return run, skipped


def _decliner(record: DispatchedFunction, backend: str, run: Route) -> Route:
    def declined(error: NotImplementedError, *args: t.Any) -> t.Any:
        if isinstance(error, TurnoutError):  # MissingImplementationError from deeper down
            raise error
        reason = f"{backend}: raised NotImplementedError" + (f": {error}" if str(error) else "")
        debug("%s: %s; next candidate", record.public_name, reason)
        if observer is not None:
            observer.declined(record.public_name, backend, reason)
        return _pass_on(reason, run, args)

    return declined


def _hooks(entry: Entry, implementation: t.Any, *, explicit: bool) -> list[tuple[str, t.Any, bool]]:
    """Return ``(kind, hook, per_function)`` for the backend's can_run/should_run hooks."""
    kinds = ("can_run",) if explicit else ("can_run", "should_run")
    found = []
    for kind in kinds:
        per_function = getattr(implementation, kind, None)
        if callable(per_function):
            found.append((kind, per_function, True))
        per_backend = getattr(entry.obj, kind, None)
        if callable(per_backend):
            found.append((kind, per_backend, False))
    return found


def _gate(
    record: DispatchedFunction,
    backend: str,
    hooks: list[tuple[str, t.Any, bool]],
    route: Route,
    run: Route,
) -> Route:
    """Return `route` behind its hooks: one that says no (False, or a reason) runs `run`."""
    pack, key = record.packer(), record.key

    def gate(*args: t.Any) -> t.Any:
        call_args, call_kwargs = pack(*args)
        for kind, hook, per_function in hooks:
            try:
                verdict = (
                    hook(*call_args, **call_kwargs)
                    if per_function
                    else hook(key, call_args, call_kwargs)
                )
            except NotImplementedError as error:
                verdict = str(error) or "raised NotImplementedError"
            said = judge(verdict)
            if said is None:
                continue
            reason = f"{backend}: {kind} said {said}"
            debug("%s: %s; next candidate", record.public_name, reason)
            if observer is not None:
                observer.declined(record.public_name, backend, reason)
            return _pass_on(reason, run, args)
        return route(*args)

    return gate


def choice_route(record: DispatchedFunction, selected: object) -> Route:
    """Return the route for a selection: one label, a priority list, automatic, per-function."""
    if isinstance(selected, Choice) and selected.automatic and record.dispatch_positions():
        return automatic_route(record, selected)
    state = record.state
    return decision_route(record, decide(selected, "", keys=record.keys, overrides=state.overrides))


def decision_route(record: DispatchedFunction, decision: Decision) -> Route:
    """Return the chain for a decision: its backends in order, then the host's code.

    When the user closed the candidates with ``"cpu"`` (or chose nothing), the
    host's code ends the chain as chosen; otherwise it ends it under the
    fallback policy.
    """
    backends = decision.backends
    if not backends:
        return record.host_route()
    if decision.named:
        return record.route(record.discovery.select(backends[0]))
    reasons: list[str] = []
    shown = ", ".join(backends)
    final = record.host_route() if decision.closed else record.fallback_route(shown, reasons)
    run, skipped = chain(record, backends, final)
    reasons.extend(skipped)
    return run


def _owners(record: DispatchedFunction, names: list[str]) -> t.Any:
    """Return how `decide` ranks the owners of `names` against a preference list."""
    discovery, opted_in = record.discovery, record.state.opted_in

    def rank(preference: tuple[str, ...]) -> tuple[list[str], list[str]]:
        owned, reasons = owners_of(names, discovery.owners(), preference, opted_in)
        if not reasons:
            reasons = [f"no backend owns {names[0] if names else 'the arguments'}"]
        return owned, reasons

    return rank


def automatic_route(record: DispatchedFunction, selected: Choice) -> Route:
    """Return a route that picks a chain by the types of the dispatch arguments, cached per type."""
    cache: dict[t.Any, Route] = {}
    positions = record.dispatch_positions()
    state = record.state

    def resolve(key: t.Any) -> Route:
        types = key if isinstance(key, tuple) else (key,)
        names = [name for kind in types for name in type_names(kind)]
        decision = decide(
            selected,
            "",
            keys=record.keys,
            overrides=state.overrides,
            owners=_owners(record, names),
        )
        found = decision_route(record, decision)
        debug(
            "%s: arguments of type %s: candidates %s; %s",
            record.public_name,
            ", ".join(next(iter(type_names(kind)), "builtins:object") for kind in types),
            ", ".join(decision.candidates) or "none (the host's code runs)",
            "; ".join(decision.notes),
        )
        cache[key] = found
        return found

    emit = Emitter(record.shape(), is_async=record.is_async)
    params = emit.route_parameters().split(", ")
    picked = [f"type({params[index]})" for index in positions]
    key = picked[0] if len(picked) == 1 else f"({', '.join(picked)},)"
    table, miss = emit.bind("_t_cache", cache), emit.bind("_t_resolve", resolve)
    route = emit.local("_t_r")
    body = [
        "try:",
        f"    {route} = {table}[{key}]",
        "except KeyError:",
        f"    {route} = {miss}({key})",
        f"return {emit.wait}{route}({emit.route_parameters()})",
    ]
    chooser: Route = emit.build(
        record.name, body, f"<turnout chooser of {record.name}>", route=True
    )
    return chooser


def explain_decision(
    record: DispatchedFunction,
    selected: object,
    why: str,
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
) -> tuple[Decision, str | None, list[str]]:
    """Return what a call would do: the decision, the backend that would run, and why.

    The backend is None when none of the candidates would run it. Candidates'
    ``can_run``/``should_run`` hooks are asked when the call's arguments are
    all given (they should be cheap and without effects); nothing else runs.
    """
    import inspect  # noqa: PLC0415 - explain only

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
        route_names = record.route_parameter_names()[:-1]
        wanted = [route_names[index] for index in record.dispatch_positions()]
        missing = [name for name in wanted if name not in bound]
        if missing:
            notes.append(
                f"automatic selection depends on the type of {', '.join(missing)}, not given"
            )
        names = [name for key in wanted if key in bound for name in type_names(type(bound[key]))]
        owners = _owners(record, names)
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
    record: DispatchedFunction,
    label: str,
    args: tuple[t.Any, ...],
    kwargs: dict[str, t.Any],
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
    for kind, hook, per_function in _hooks(entry, plan.implementation, explicit=explicit):
        try:
            said = hook(*args, **kwargs) if per_function else hook(record.key, args, kwargs)
        except NotImplementedError as error:
            said = str(error) or "raised NotImplementedError"
        reason = judge(said)
        if reason is not None:
            return f"{entry.name}: {kind} said {reason}"
    return None
