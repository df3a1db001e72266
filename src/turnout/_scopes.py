"""Selections in effect: the process-wide one, scopes in ContextVars, and scope objects.

The dispatch wrapper reads ``state.var.get().name``: one ContextVar read and
one attribute. The name is what `turnout._decision.decide` takes: ``"cpu"``,
one canonical label, or a `Choice` (a priority list, automatic selection,
per-function priorities), or `PENDING` while ``<HOST>_BACKEND`` waits to be
resolved. Everything else here runs when a setting changes, never per call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from types import CellType

from turnout import _lazytyping as t
from turnout._decision import DEFAULT, FORCED, GLOBAL, KEYWORD, SCOPE, Choice, held
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import CPU
from turnout._policy import Fallback
from turnout._shape import OMITTED
from turnout._warnings import ConfigurationWarning, warn


class _Pending:
    """The process-wide selection while ``<HOST>_BACKEND`` is not resolved yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<pending <HOST>_BACKEND>"


PENDING: t.Any = _Pending()
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


class Selection:
    """A backend selection: the process-wide default, or one scope.

    `name` is what the wrapper reads; `why` is what selected it (for `explain`).
    """

    __slots__ = ("name", "why")

    def __init__(self, name: t.Any, why: str = SCOPE) -> None:
        self.name = name
        self.why = why


class Flag:
    """A mutable boolean a ContextVar can default to (read by every thread)."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


class SelectionState:
    """The state `Settings` manages and `backend_dispatch` reads on every call.

    Parameters
    ----------
    host_name
        For the ContextVars' names.
    fallback
        The initial fallback policy.
    pending
        A label or priority list from ``<HOST>_BACKEND``, resolved on first use.
    automatic
        Whether automatic (type-based) selection starts on.
    forced
        The kill switch: the host's code everywhere, whatever code selects.
    """

    __slots__ = (
        "automatic",
        "automatic_var",
        "base",
        "default",
        "fallback_default",
        "fallback_var",
        "forced",
        "on_change",
        "opted_in",
        "overrides",
        "pending",
        "quiet",
        "untouched",
        "var",
    )

    def __init__(
        self,
        host_name: str,
        fallback: str = "silent",
        pending: str | tuple[str, ...] | None = None,
        *,
        automatic: bool = False,
        forced: bool = False,
    ) -> None:
        # The defaults are mutable objects shared by every thread: a ContextVar's
        # default is seen by threads started later, a value set in it is not.
        self.default = Selection(CPU, DEFAULT)
        self.var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:backend", default=self.default
        )
        self.automatic = Flag(automatic)
        self.automatic_var: ContextVar[Flag] = ContextVar(
            f"turnout:{host_name}:automatic", default=self.automatic
        )
        self.fallback_default = Selection(Fallback(fallback))
        self.fallback_var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:fallback", default=self.fallback_default
        )
        self.forced = forced
        self.overrides: dict[str, tuple[str, ...]] = {}  # dispatch key -> canonical labels
        self.opted_in: set[str] = set()
        self.on_change: Callable[[], None] | None = None  # routes to forget
        # The user's process-wide choice: None (nothing), a canonical label, or a list.
        self.base: str | tuple[str, ...] | None = CPU if pending == CPU else None
        self.pending = None if pending == CPU else pending  # <HOST>_BACKEND, until first use
        self.quiet = False  # a test session's choice: a host without it runs its own code
        # The process-wide selection's name while no scope was ever entered (in any
        # thread), then OMITTED: wrappers share this cell and read the ContextVar only
        # once a scope may have set it.
        self.untouched = CellType(CPU)
        self.recompute()

    def recompute(self) -> None:
        """Derive the process-wide selection from the settings (after any of them changes)."""
        default = self.default
        if self.forced:
            default.name, default.why = CPU, FORCED
        elif self.pending is not None:
            default.name, default.why = PENDING, GLOBAL
        else:
            made = self.process_wide(self.base, self.automatic.value)
            default.name, default.why = made.name, made.why
        if self.untouched.cell_contents is not OMITTED:
            self.untouched.cell_contents = default.name

    def touch(self) -> None:
        """Make every wrapper read the ContextVar from now on (a scope may set it)."""
        self.untouched.cell_contents = OMITTED

    def process_wide(self, base: str | tuple[str, ...] | None, automatic: bool) -> Selection:
        """Return the selection a process-wide choice `base` makes (a label, a list, or None).

        Per-function priorities may replace it, and automatic selection adds to a
        list or to nothing; a label stands alone.
        """
        per_function = bool(self.overrides)
        if base is None:
            if not automatic and not per_function:
                return Selection(CPU, DEFAULT)
            choice = Choice.of((), automatic=automatic, per_function=per_function)
            return Selection(choice, DEFAULT)
        if isinstance(base, str):
            if base == CPU and not per_function:
                return Selection(CPU, GLOBAL)
            return Selection(Choice.of((base,), listed=False, per_function=per_function), GLOBAL)
        return Selection(Choice.of(base, automatic=automatic, per_function=per_function), GLOBAL)

    def changed(self) -> None:
        """Recompute, and tell the dispatcher its routes for choices are stale."""
        self.recompute()
        if self.on_change is not None:
            self.on_change()

    def with_automatic(self, selection: Selection, automatic: bool) -> Selection:
        """Return `selection` with automatic selection switched (a label or a scope stays)."""
        if self.forced or selection.why in (SCOPE, KEYWORD):
            return selection
        name = selection.name
        if selection.why == DEFAULT:  # nothing chosen: automatic selection decides, or nothing
            return self.unchosen(automatic)
        if not isinstance(name, Choice):
            return selection
        return Selection(name.switched(automatic), selection.why)

    def unchosen(self, automatic: bool | None = None) -> Selection:
        """Return a selection as if nothing were chosen here (a snapshot's None)."""
        if self.forced:
            return Selection(CPU, FORCED)
        if automatic is None:
            automatic = self.automatic_var.get().value
        return self.process_wide(None, automatic)


if TYPE_CHECKING:
    from typing import Generic, TypeVar

    V = TypeVar("V")

    class _Scoped(Generic[V]):
        """What a scope gives on entering: `V` (a generic only for type checkers)."""

        __slots__ = ()

else:

    class _Scoped:
        __slots__ = ()

        def __class_getitem__(cls, item: object) -> type:  # `BackendScope[str]` at runtime
            return cls

    V = None


class BackendScope(_Scoped[V]):
    """Select a backend, a fallback policy or automatic selection in a ``with`` block.

    Returned by `Settings.use_backend`, `Settings.use_fallback` and
    `Settings.use_automatic`; also a decorator (sync and async functions). A
    backend is resolved when the scope is entered, so decorating a function
    imports no backend. One scope object may be entered again, nested or in turn.
    """

    __slots__ = ("_choose", "_kind", "_state", "_tokens", "_value")

    def __init__(
        self,
        state: SelectionState,
        value: t.Any,
        *,
        kind: str = "backend",
        choose: Callable[[object], str | Choice] | None = None,
    ) -> None:
        self._state = state
        self._value = value
        self._kind = kind
        self._choose = choose  # a user's value -> a selection (backend kinds only)
        self._tokens: list[list[t.Any]] = []

    def __enter__(self) -> V:
        return self._enter()  # type: ignore[no-any-return]  # V: what the kind gives

    def _enter(self) -> t.Any:
        state = self._state
        if self._kind == "fallback":
            self._tokens.append([state.fallback_var.set(Selection(self._value))])
            return self._value
        state.touch()  # before the ContextVar is set: wrappers must read it
        if self._kind == "automatic":
            selection = state.with_automatic(state.var.get(), self._value)
            self._tokens.append(
                [state.automatic_var.set(Flag(self._value)), state.var.set(selection)]
            )
            return self._value
        if self._kind == "unchosen":  # as if nothing were chosen (a snapshot's None)
            self._tokens.append([state.var.set(state.unchosen())])
            return None
        if state.forced:  # the kill switch: whatever the code selects
            self._tokens.append([state.var.set(Selection(CPU, FORCED))])
            return CPU
        assert self._choose is not None  # noqa: S101 - given for the backend kinds
        selected = self._choose(self._value)
        if self._kind == "process-wide":  # a snapshot's process-wide choice, here only
            base = selected.labels if isinstance(selected, Choice) else selected
            made = state.process_wide(base, state.automatic_var.get().value)
            self._tokens.append([state.var.set(made)])
            return made.name
        self._tokens.append([state.var.set(Selection(held(selected), SCOPE))])
        return list(selected.labels) if isinstance(selected, Choice) else selected

    def __exit__(self, *exc_info: object) -> None:
        state = self._state
        tokens = self._tokens.pop()
        if self._kind == "fallback":
            state.fallback_var.reset(tokens[0])
        elif self._kind == "automatic":
            state.var.reset(tokens[1])
            state.automatic_var.reset(tokens[0])
        else:
            state.var.reset(tokens[0])

    def __call__(self, func: t.F) -> t.F:
        """Run every call of `func` (sync or async) inside this scope."""
        state, value, kind, chooser = self._state, self._value, self._kind, self._choose
        return run_within(func, lambda: BackendScope(state, value, kind=kind, choose=chooser))

    def __repr__(self) -> str:
        return f"use_{self._kind}({self._value!r})"


def run_within(func: t.F, scope: Callable[[], t.Any]) -> t.F:
    """Return `func` running each call inside a new scope from `scope`.

    A fresh scope object per call, so that calls in several threads or tasks
    each keep their own tokens; an ``async def`` function runs its whole body
    inside the scope, not only the creation of its coroutine.
    """
    code = getattr(func, "__code__", None)
    if code is not None and code.co_flags & _CO_COROUTINE:

        @wraps(func)
        async def run_async(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with scope():
                return await func(*args, **kwargs)

        return run_async  # type: ignore[return-value]

    @wraps(func)
    def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with scope():
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


def settle_environment(state: SelectionState, resolve: Callable[[str], str], variable: str) -> None:
    """Resolve what ``<HOST>_BACKEND`` chose, once; report each label that is unusable.

    An unusable label is reported with a `ConfigurationWarning` (unless a test
    session chose it: a host without it quietly runs its own code) and left out.
    """
    value = state.pending
    if value is None:
        return
    state.pending = None
    listed = not isinstance(value, str)
    labels = value if not isinstance(value, str) else (value,)
    kept: list[str] = []
    for label in labels:
        name, error = _resolved(label, resolve)
        if name is not None:
            kept.append(name)
        elif not state.quiet:
            if listed:
                shown = ",".join(labels)
                what = f"{variable}={shown!r}: label {label!r} is ignored: {error}"
            else:
                what = f"{variable}={label!r} is ignored: {error} Using 'cpu' (the host's code)."
            warn(f"Environment variable {what}", ConfigurationWarning)
    canonical = tuple(dict.fromkeys(kept))
    if not canonical:
        state.base = None
        if listed and not state.quiet:
            warn(
                f"Environment variable {variable} selects no usable backend; using 'cpu' "
                "(the host's own code).",
                ConfigurationWarning,
            )
    else:
        state.base = canonical if listed else canonical[0]
    state.recompute()


def _resolved(label: str, resolve: Callable[[str], str]) -> tuple[str | None, Exception | None]:
    """Return the canonical name of `label`, or why it has none."""
    if label == CPU:
        return CPU, None
    try:
        return resolve(label), None
    except (ValueError, ImportError) as error:
        return None, error


def select_for_session(state: SelectionState, label: str) -> None:
    """Select `label` process-wide, resolved on first use; quietly the host's code if absent."""
    state.pending = label
    state.base = None
    state.quiet = True
    state.recompute()


BackendScope.__module__ = "turnout"
