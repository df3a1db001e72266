"""Routes for a decision: candidates tried in order, gated by hooks, converted, then the fallback.

A *chain* is the route of the first candidate, whose decline (its backend
raised `NotImplementedError`, or a ``can_run``/``should_run`` hook said no)
runs the route of the next, and so on to the *final* route: the host's code,
under the fallback policy when a candidate was chosen. Chains are built once
per (function, choice), or per argument type for automatic selection; with no
hooks they add nothing to a call that does not decline.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from turnout import _lazytyping as t
from turnout._codegen import chooser, hook_gate, is_coroutine_function, route
from turnout._conversion import converting, declined
from turnout._decision import (
    Choice,
    Decision,
    decide,
    judge,
    owners_of,
    parse_order,
    shown_type,
)
from turnout._errors import DispatchDefinitionError, MissingImplementationError, TurnoutError
from turnout._lazytyping import TYPE_CHECKING
from turnout._log import debug
from turnout._names import env_prefix, suggest
from turnout._plan import CallPlan, describe_callable
from turnout._policy import Fallback
from turnout._shape import shape_of
from turnout._static import StaticInfo
from turnout._warnings import ConfigurationWarning, FallbackWarning, warn

if TYPE_CHECKING:
    from typing import Protocol

    from turnout._discovery import Discovery
    from turnout._registry import Entry
    from turnout._scopes import SelectionState
    from turnout._shape import Shape

    Route = Callable[..., t.Any]

    class Function(Protocol):
        """What building a chain needs of a dispatched function (`Function`)."""

        host: Callable[..., t.Any]
        key: str
        keys: tuple[str, ...]
        name: str
        host_name: str
        keyword: str
        plain: bool
        is_async: bool
        convert: tuple[str, ...]
        extras: tuple[str, ...]
        discovery: Discovery
        state: SelectionState
        observers: Observers
        warned: set[t.Any]

        @property
        def public_name(self) -> str: ...
        @property
        def known_extras(self) -> frozenset[str]: ...
        def shape(self) -> Shape: ...
        def plan(self, entry: Entry) -> CallPlan | None: ...
        def implementation(self, entry: Entry) -> Callable[..., t.Any] | None: ...
        def host_route(self) -> Route: ...
        def route(self, entry: Entry, *, strict: bool = False) -> Route: ...
        def route_parameter_names(self) -> list[str]: ...
        def dispatch_positions(self) -> list[int]: ...
        def implemented_by(self) -> list[str]: ...


_notes = threading.local()  # why earlier candidates did not run, for the final route's message


class Observer:
    """Told what dispatch does (``pytest --turnout-backend`` counts it); no-ops here.

    Subclass it and pass an instance to `BackendDispatcher.observe`. With
    `compare` true, each call a backend ran is run again on the host's code
    and both results go to `compared` (``pytest --turnout-compare``).
    """

    compare = False  # run the host's code too, and hand both results to `compared`

    def compared(self, function: str, backend: str, result: object, expected: object) -> None:
        """Check a backend's result against the host's for the same call."""

    def ran(self, function: str, backend: str) -> None:
        """Record that a backend function returned (or a backend class was built)."""

    def declined(self, function: str, backend: str, reason: str) -> None:
        """Record a declined call (a hook said no, or it raised NotImplementedError)."""

    def fell_back(self, function: str, backends: str, reason: str) -> None:
        """Record that the host's code ran for a call a backend was chosen for."""


class Observers(Observer):
    """The observers of one host, told in turn; empty (false) unless someone observes."""

    __slots__ = ("_observers",)

    def __init__(self) -> None:
        self._observers: tuple[Observer, ...] = ()

    def add(self, observer: Observer) -> Callable[[], None]:
        """Add `observer`; return the function that removes it again."""
        self._observers = (*self._observers, observer)

        def undo() -> None:
            self._observers = tuple(o for o in self._observers if o is not observer)

        return undo

    def __bool__(self) -> bool:
        return bool(self._observers)

    @property
    def comparing(self) -> bool:
        """Whether an observer wants each backend result compared with the host's."""
        return any(observer.compare for observer in self._observers)

    def compared(self, function: str, backend: str, result: object, expected: object) -> None:
        """Tell every comparing observer both results."""
        for observer in self._observers:
            if observer.compare:
                observer.compared(function, backend, result, expected)

    def ran(self, function: str, backend: str) -> None:
        """Tell every observer a backend ran."""
        for observer in self._observers:
            observer.ran(function, backend)

    def declined(self, function: str, backend: str, reason: str) -> None:
        """Tell every observer a candidate declined."""
        for observer in self._observers:
            observer.declined(function, backend, reason)

    def fell_back(self, function: str, backends: str, reason: str) -> None:
        """Tell every observer the host's code ran instead."""
        for observer in self._observers:
            observer.fell_back(function, backends, reason)


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
    record: Function,
    labels: Sequence[str],
    final: Route,
    *,
    explicit: bool = False,
    strict: bool = False,
) -> tuple[Route, list[str]]:
    """Return the route trying `labels` in order, then `final`; and why some were skipped.

    A label no usable backend answers to, or whose backend lacks the function,
    is skipped (its reason kept for the fallback's message). With `explicit` (one
    backend the user named), a ``should_run`` hook is not asked: the user chose.
    A backend function that cannot serve the host's signature is skipped too,
    its problem kept, unless `strict` (the call's keyword named it): then the
    `DispatchDefinitionError` is raised.
    """
    skipped: list[str] = []
    run = final
    for label in reversed(labels):
        try:
            entry = record.discovery.select(label)
        except TurnoutError as error:  # not installed, failed, refused: the next one
            skipped.append(f"{label}: {error}")
            continue
        try:
            plan = record.plan(entry)
        except DispatchDefinitionError as error:
            if strict:
                raise
            skipped.append(f"{entry.name}: {error.problem}")
            continue
        if plan is None:
            skipped.append(f"{entry.name}: does not implement it")
            continue
        route = backend_route(record, entry, plan, _decliner(record, entry.name, run))
        hooks = hooks_of(entry, plan.implementation, explicit=explicit)
        run = _gate(record, entry.name, hooks, route, run) if hooks else route
    skipped.reverse()
    return run, skipped


def _decliner(record: Function, backend: str, run: Route) -> Route:
    def declined(error: NotImplementedError, *args: t.Any) -> t.Any:
        if isinstance(error, TurnoutError):  # MissingImplementationError from deeper down
            raise error
        reason = f"{backend}: raised NotImplementedError" + (f": {error}" if str(error) else "")
        debug("%s: %s; next candidate", record.public_name, reason)
        if record.observers:
            record.observers.declined(record.public_name, backend, reason)
        return _pass_on(reason, run, args)

    return declined


def hooks_of(
    entry: Entry, implementation: t.Any, *, explicit: bool
) -> list[tuple[str, t.Any, bool]]:
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
    record: Function,
    backend: str,
    hooks: list[tuple[str, t.Any, bool]],
    route: Route,
    run: Route,
) -> Route:
    """Return `route` behind its hooks: one that says no (False, or a reason) runs `run`.

    Hooks see the call as `turnout._codegen.as_given` rebuilds it; an exception
    one raises (other than `NotImplementedError`, a "no") propagates with a
    note naming the backend and the hook.
    """

    def refuse(index: int, said: str, *args: t.Any) -> t.Any:
        reason = f"{backend}: {hooks[index][0]} said {said}"
        debug("%s: %s; next candidate", record.public_name, reason)
        if record.observers:
            record.observers.declined(record.public_name, backend, reason)
        return _pass_on(reason, run, args)

    def failed(error: Exception, index: int) -> None:
        kind, hook, _ = hooks[index]
        add_note(
            error,
            f"raised by the {kind} hook {describe_callable(hook)} of backend {backend!r}, "
            f"asked whether it runs {record.public_name}()",
        )

    gate: Route = hook_gate(
        record.name,
        record.shape(),
        hooks,
        key=record.key,
        route=route,
        refuse=refuse,
        failed=failed,
        judge=judge,
        extras=record.extras,
    )
    return gate


def add_note(error: BaseException, note: str) -> None:
    """Add a PEP 678 note to `error` (on Python 3.10 stored where 3.11+ keeps them)."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10: the notes are kept, tracebacks do not show them
        notes = getattr(error, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
            error.__notes__ = notes  # type: ignore[attr-defined]
        notes.append(note)


def choice_route(record: Function, selected: object) -> Route:
    """Return the route for a selection: one label, a priority list, automatic, per-function."""
    if isinstance(selected, Choice) and selected.automatic and record.dispatch_positions():
        return automatic_route(record, selected)
    state = record.state
    return decision_route(record, decide(selected, "", keys=record.keys, overrides=state.overrides))


def decision_route(record: Function, decision: Decision) -> Route:
    """Return the chain for a decision: its backends in order, then the host's code.

    When the user closed the candidates with ``"cpu"`` (or chose nothing), the
    host's code ends the chain as chosen; otherwise it ends it under the
    fallback policy.
    """
    backends = decision.backends
    if not backends:
        return record.host_route()
    if decision.named:
        return record.route(record.discovery.select(backends[0]), strict=decision.strict)
    reasons: list[str] = []
    shown = ", ".join(backends)
    final = record.host_route() if decision.closed else fallback_route(record, shown, reasons)
    run, skipped = chain(record, backends, final)
    reasons.extend(skipped)
    return run


def owner_ranking(record: Function, arguments: Sequence[tuple[str, type]]) -> t.Any:
    """Return how `decide` ranks the owners of a call's dispatch `arguments` (name, type)."""
    discovery, opted_in = record.discovery, record.state.opted_in

    def rank(preference: tuple[str, ...]) -> tuple[list[str], list[str]]:
        order = set_order(record)
        return owners_of(
            arguments,
            discovery.owners(),
            preference,
            opted_in,
            order=order.pairs_for(discovery) if order else (),
            order_source=order.variable,
        )

    return rank


def automatic_route(record: Function, selected: Choice) -> Route:
    """Return a route that picks a chain by the types of the dispatch arguments, cached per type.

    Its ``hosted`` attribute holds each single type met for which the host's
    code runs as chosen, its ``types`` the chain of each other one: a wrapper
    reads them without calling the route.
    """
    cache: dict[t.Any, Route] = {}
    table: dict[type, Route] = {}
    hosted: set[type] = set()
    positions = record.dispatch_positions()
    parameters = record.route_parameter_names()
    names = [parameters[index] for index in positions]
    state = record.state

    def resolve(key: t.Any) -> Route:
        types = key if isinstance(key, tuple) else (key,)
        arguments = list(zip(names, types, strict=True))
        decision = decide(
            selected,
            "",
            keys=record.keys,
            overrides=state.overrides,
            owners=owner_ranking(record, arguments),
        )
        found = decision_route(record, decision)
        debug(
            "%s: arguments %s: candidates %s; %s",
            record.public_name,
            ", ".join(f"{name}: {shown_type(kind)}" for name, kind in arguments),
            ", ".join(decision.candidates) or "none (the host's code runs)",
            "; ".join(decision.notes),
        )
        cache[key] = found
        if not isinstance(key, tuple):  # one dispatch argument: the wrapper looks it up
            if found is record.host_route():
                hosted.add(key)
            else:
                table[key] = found
        return found

    found: t.Any = chooser(
        record.name,
        record.shape(),
        positions,
        cache,
        resolve,
        is_async=record.is_async,
        extras=record.extras,
    )
    found.types, found.hosted = table, hosted
    route: Route = found
    return route


# -- the relative order users set: <HOST>_SET_ORDER -----------------------------------------


class SetOrder:
    """What ``<HOST>_SET_ORDER`` asks of one host, read once; each problem reported once.

    Parameters
    ----------
    variable
        The variable's name (``EXAMPLE_HOST_SET_ORDER``).
    text
        Its value.
    """

    __slots__ = ("pairs", "reported", "text", "variable")

    def __init__(self, variable: str, text: str) -> None:
        self.variable = variable
        self.text = text
        self.pairs, problems = parse_order(text)
        self.reported: set[str] = set()  # labels reported as unknown
        for problem in problems:
            self._report(problem)

    @classmethod
    def read(cls, host_name: str) -> SetOrder:
        """Read the host's ``<HOST>_SET_ORDER``, reporting its malformed entries now."""
        variable = f"{env_prefix(host_name)}_SET_ORDER"
        return cls(variable, os.environ.get(variable, "").strip())

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def pairs_for(self, discovery: Discovery) -> list[tuple[str, str]]:
        """Return the pairs by canonical name; report each label no backend answers to, once.

        Labels resolve against what discovery knows without importing: the
        names and aliases of loaded backends and of entry points, the host's
        trusted backends and deprecated labels.
        """
        canonical: dict[str, str] = {}
        for declared in discovery.declared():
            for label in (declared.entry.name, *declared.entry.labels):
                canonical.setdefault(label, declared.entry.name)
        found = []
        for pair in self.pairs:
            names = [self._canonical(label, canonical, discovery) for label in pair]
            if names[0] is not None and names[1] is not None:
                found.append((names[0], names[1]))
        return found

    def _canonical(self, label: str, known: dict[str, str], discovery: Discovery) -> str | None:
        label = discovery.deprecated.get(label, label)
        if label in known:
            return known[label]
        rule = discovery.rule_for(label)
        if rule is not None:
            return rule.canonical
        if label not in self.reported:
            self.reported.add(label)
            close = suggest(label, known)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(sorted(set(known.values()))) or "none"
            self._report(
                f"{label!r} is ignored: no installed, trusted or registered backend answers "
                f"to it.{hint} Backends: {shown}"
            )
        return None

    def _report(self, problem: str) -> None:
        warn(
            f"Environment variable {self.variable}={self.text!r}: {problem}. Expected backend "
            "labels joined by '>', the one to run first on the left, entries separated by "
            "commas (such as 'a>b,c>b').",
            ConfigurationWarning,
        )


_set_orders: t.Any = None  # Discovery -> SetOrder, weakly: one per host


def set_order(record: Function) -> SetOrder:
    """Return the relative order the host's ``<HOST>_SET_ORDER`` sets.

    Unlike the other ``<HOST>_*`` variables, read at import, it is read here
    when automatic selection first ranks backends for the host, once per host;
    its problems are reported then.
    """
    global _set_orders  # noqa: PLW0603 - created on first use: `weakref` costs an import
    if _set_orders is None:
        import weakref  # noqa: PLC0415 - only once automatic selection ranks owners

        _set_orders = weakref.WeakKeyDictionary()
    found: SetOrder | None = _set_orders.get(record.discovery)
    if found is None:
        found = _set_orders.setdefault(record.discovery, SetOrder.read(record.host_name))
    return found


# -- the end of a chain: the fallback policy ------------------------------------------


def fallback_route(record: Function, backends: str, reasons: list[str] | None = None) -> Route:
    """Return the host's code as the end of a chain: the fallback policy applies.

    `reasons` say why candidates were skipped when the chain was built; the
    reasons of candidates that declined this very call are added.
    """
    var, run = record.state.fallback_var, record.host_route()
    known = reasons if reasons is not None else []

    def fallback(*args: t.Any) -> t.Any:  # the route convention: all positional
        if record.observers:
            reason = "; ".join([*known, *noted()]) or "it does not implement it"
            record.observers.fell_back(record.public_name, backends, reason)
        if var.get().name is not Fallback.SILENT:
            said = [*known, *noted()]
            check_fallback(record, backends, "; ".join(said) or "it does not implement it")
        return run(*args)

    return fallback


def check_fallback(record: Function, backend: str, reason: str) -> None:
    """Apply the fallback policy in effect to a function: nothing, a warning once, or an error."""
    apply_fallback(
        record.state,
        record.warned,
        (backend, "fallback"),
        lambda: MissingImplementationError(
            label=backend,
            host_name=record.host_name,
            function=record.public_name,
            implemented_by=record.implemented_by(),
            reason=reason,
        ),
        lambda: (
            f"Backend {backend!r} did not run {record.public_name}() ({reason}); "
            f"{record.host_name}'s own code ran instead."
        ),
    )


def apply_fallback(
    state: SelectionState,
    warned: set[t.Any],
    key: object,
    error: Callable[[], Exception],
    message: Callable[[], str],
) -> None:
    """Apply the fallback policy in effect: nothing, a warning once per `key`, or `error()`."""
    policy = state.fallback_var.get().name
    if policy is Fallback.ERROR:
        raise error()
    if policy is Fallback.WARN and key not in warned:
        warn(message(), FallbackWarning)
        warned.add(key)


# -- one candidate: its plan and its route -----------------------------------------------


def make_plan(record: Function, entry: Entry) -> CallPlan | None:
    """Return how `record`'s calls reach `entry`'s function (None: it lacks it)."""
    implementation = record.implementation(entry)
    if implementation is None:
        debug("%s: backend %r lacks it; the host's code runs", record.public_name, entry.name)
        return None
    if record.is_async and not is_coroutine_function(
        getattr(implementation, "__func__", implementation)
    ):
        raise DispatchDefinitionError(
            target=f"{record.public_name}()",
            problem=(
                f"it is async, but backend {entry.name!r} implements it with "
                f"{describe_callable(implementation)}, which is not"
            ),
            action="define the backend function with async def",
        )
    try:
        backend = shape_of(implementation)
    except (TypeError, ValueError) as error:  # routing by name needs its parameters
        raise DispatchDefinitionError(
            target=f"{record.public_name}() to backend {entry.name!r}",
            problem=(
                f"it is implemented by {describe_callable(implementation)}, whose signature "
                f"cannot be inspected ({error})"
            ),
            action="expose a Python function, or give the callable a __signature__",
        ) from error
    if record.observers:  # someone counts what ran where (a test session)
        implementation = _counted(implementation, record, entry.name)
    plan = CallPlan(
        host=record.shape(),
        backend=backend,
        implementation=implementation,
        function=record.public_name,
        backend_name=entry.name,
        keyword=record.keyword,
        mapping=getattr(implementation, "turnout_parameters", None),
        forward_unknown=not record.plain,
        known=lambda: record.known_extras,
    )
    debug(
        "%s: backend %r runs %s (%s)",
        record.public_name,
        entry.name,
        describe_callable(implementation),
        plan.describe(),
    )
    return plan


def _counted(implementation: t.Any, record: Function, backend: str) -> t.Any:
    """Return `implementation`, telling the observers each time it returns."""
    observers, function = record.observers, record.public_name

    def counted(*args: t.Any, **kwargs: t.Any) -> t.Any:
        result = implementation(*args, **kwargs)
        observers.ran(function, backend)
        return result

    # What the backend attached to its function stays readable on the wrapper: the
    # hooks (can_run, should_run) and the parameter map (turnout_parameters), so an
    # observed call decides and routes exactly as an unobserved one.
    counted.__dict__.update(getattr(implementation, "__dict__", {}))
    counted.__wrapped__ = implementation  # type: ignore[attr-defined]
    counted.__name__ = getattr(implementation, "__name__", "counted")
    counted.__qualname__ = getattr(implementation, "__qualname__", "counted")
    counted.__module__ = getattr(implementation, "__module__", None) or __name__
    return counted


def backend_route(record: Function, entry: Entry, plan: CallPlan, decline: Route) -> Route:
    """Return the route calling `entry`'s function by `plan`, converting if both declared.

    A converting route that declines hands the next candidate the caller's own
    arguments, not the converted ones.
    """
    made = _backend_route(record, entry, plan, decline)
    if record.observers.comparing:
        made = _comparing(record, entry.name, made)
    return made


def _comparing(record: Function, backend: str, made: Route) -> Route:
    """Return `made` also running the host's code on the same call, for the observers."""
    host, observers, function = record.host_route(), record.observers, record.public_name
    if record.is_async:

        async def compare_async(*args: t.Any) -> t.Any:
            result = await made(*args)
            observers.compared(function, backend, result, await host(*args))
            return result

        return compare_async

    def compare(*args: t.Any) -> t.Any:
        result = made(*args)
        observers.compared(function, backend, result, host(*args))
        return result

    return compare


def _backend_route(record: Function, entry: Entry, plan: CallPlan, decline: Route) -> Route:
    if not record.convert or getattr(entry.obj, "convert_from_host", None) is None:
        return route(plan, record.name, decline, is_async=record.is_async, extras=record.extras)
    params = record.route_parameter_names()
    positions = [(params.index(name), name) for name in record.convert if name in params]
    return converting(
        route(plan, record.name, declined, is_async=record.is_async, extras=record.extras),
        entry.obj,
        decline,
        function=record.public_name,
        positions=positions,
        owned=frozenset(StaticInfo.of(entry.obj).types),
        is_async=record.is_async,
    )
