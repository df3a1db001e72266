"""The selection state: what the hot path reads, and how settings and scopes change it.

The dispatch wrapper reads ``state.var.get().name``: one ContextVar read and
one attribute. The name is what `turnout._decision.decide` takes: ``"cpu"``,
one canonical label, or a `Choice` (a priority list, automatic selection,
per-function priorities), or `PENDING` while ``<HOST>_BACKEND`` waits to be
resolved. Everything else here runs when a setting changes, never per call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from turnout import _lazytyping as t
from turnout._decision import DEFAULT, FORCED, GLOBAL, KEYWORD, SCOPE, Choice
from turnout._names import CPU
from turnout._policy import Fallback
from turnout._warnings import ConfigurationWarning, FallbackWarning, warn


class _Pending:
    """The process-wide selection while ``<HOST>_BACKEND`` is not resolved yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<pending <HOST>_BACKEND>"


PENDING: t.Any = _Pending()


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
            if not per_function:
                return Selection(base, GLOBAL)
            return Selection(Choice.of((base,), listed=False, per_function=True), GLOBAL)
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
