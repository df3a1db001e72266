"""The selection state: what the hot path reads, and how settings and scopes change it.

The dispatch wrapper reads ``state.var.get().name``: one ContextVar read and
one attribute. The name is ``"cpu"``, one label, or a `Choice` (a priority
list, automatic selection, or per-function priorities). Everything else here
runs when a setting changes, never per call.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from turnout import _lazytyping as t
from turnout._names import CPU
from turnout._selection import Choice
from turnout._warnings import ConfigurationWarning, FallbackWarning, warn

FALLBACK_POLICIES = ("silent", "warn", "error")
Key = "str | Choice"  # what a selection's name is: a label, "cpu", or a Choice


class Selection:
    """A backend selection: the process-wide default, or one scope.

    `explicit` tells a ``"cpu"`` the user chose (which automatic selection
    never overrides) from the default one.
    """

    __slots__ = ("explicit", "name")

    def __init__(self, name: t.Any, explicit: bool = False) -> None:
        self.name = name
        self.explicit = explicit


class Flag:
    """A mutable boolean a ContextVar can default to (read by every thread)."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


def key_of(backends: tuple[str, ...], automatic: bool, per_function: bool = False) -> t.Any:
    """Return the selection name for a priority list (``"cpu"`` when it selects nothing)."""
    if not backends and not automatic and not per_function:
        return CPU
    return Choice.of(backends, automatic=automatic, per_function=per_function)


class SelectionState:
    """The state `Settings` manages and `backend_dispatch` reads on every call.

    Parameters
    ----------
    host_name
        For the ContextVars' names.
    fallback
        The initial fallback policy.
    env_backend
        A label from ``<HOST>_BACKEND``, resolved on first use.
    env_priority
        A priority list from ``<HOST>_BACKEND=a,b``.
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
        "env_backend",
        "env_quiet",
        "fallback_default",
        "fallback_var",
        "forced",
        "on_change",
        "opted_in",
        "overrides",
        "var",
    )

    def __init__(
        self,
        host_name: str,
        fallback: str = "silent",
        env_backend: str | None = None,
        *,
        env_priority: tuple[str, ...] | None = None,
        automatic: bool = False,
        forced: bool = False,
    ) -> None:
        # The defaults are mutable objects shared by every thread: a ContextVar's
        # default is seen by threads started later, a value set in it is not.
        self.default = Selection(CPU)
        self.var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:backend", default=self.default
        )
        self.automatic = Flag(automatic)
        self.automatic_var: ContextVar[Flag] = ContextVar(
            f"turnout:{host_name}:automatic", default=self.automatic
        )
        self.fallback_default = Selection(fallback)
        self.fallback_var: ContextVar[Selection] = ContextVar(
            f"turnout:{host_name}:fallback", default=self.fallback_default
        )
        self.forced = forced
        self.overrides: dict[str, tuple[str, ...]] = {}
        self.opted_in: set[str] = set()
        self.on_change: Callable[[], None] | None = None  # routes to forget
        # The user's process-wide choice: None (nothing set), a label, or a list.
        # <HOST>_BACKEND: a label resolved (or reported) on first use.
        self.env_backend = env_backend
        self.env_quiet = False  # a test session's choice: a host without it runs its own code
        self.base: str | tuple[str, ...] | None = env_priority or env_backend
        self.recompute()

    def recompute(self) -> None:
        """Derive the process-wide selection from the settings (after any of them changes)."""
        default = self.default
        if self.forced:
            default.name, default.explicit = CPU, True
            return
        base = self.base
        backends: tuple[str, ...]
        if base == CPU:
            backends, automatic = (), False
        elif isinstance(base, str):
            backends, automatic = (base,), False
        else:
            backends, automatic = base or (), self.automatic.value
        if self.overrides:
            default.name = key_of(backends, automatic, per_function=True)
        elif isinstance(base, str):
            default.name = base
        else:
            default.name = key_of(backends, automatic)
        default.explicit = base is not None

    def changed(self) -> None:
        """Recompute, and tell the dispatcher its routes for choices are stale."""
        self.recompute()
        if self.on_change is not None:
            self.on_change()

    def with_automatic(self, selection: Selection, automatic: bool) -> Selection:
        """Return `selection` with automatic selection switched (an explicit label stays)."""
        name = selection.name
        if self.forced or (isinstance(name, str) and (name != CPU or selection.explicit)):
            return selection
        if isinstance(name, Choice):
            return Selection(
                key_of(name.backends, automatic, name.per_function), selection.explicit
            )
        return Selection(key_of((), automatic), selection.explicit)


def apply_fallback(
    state: SelectionState,
    warned: set[t.Any],
    key: object,
    error: Callable[[], Exception],
    message: Callable[[], str],
) -> None:
    """Apply the fallback policy in effect: nothing, a warning once per `key`, or `error()`."""
    policy = state.fallback_var.get().name
    if policy == "error":
        raise error()
    if policy == "warn" and key not in warned:
        warn(message(), FallbackWarning)
        warned.add(key)


def settle_environment(state: SelectionState, resolve: Callable[[str], str], variable: str) -> None:
    """Resolve the default a ``<HOST>_BACKEND`` variable set, once; report it if unusable."""
    label = state.env_backend
    if label is None:
        return
    state.env_backend = None
    if state.base != label:
        return  # the program assigned settings.backend since
    try:
        state.base = resolve(label)
    except (ValueError, ImportError) as error:
        state.base = None
        if state.env_quiet:
            state.recompute()
            return
        warn(
            f"Environment variable {variable}={label!r} is ignored: {error} "
            "Using 'cpu' (the host's own code).",
            ConfigurationWarning,
        )
    state.recompute()


def environment_label(state: SelectionState, settle: Callable[[], None], label: object) -> object:
    """Return `label`, or, when it is the ``<HOST>_BACKEND`` choice, what that resolves to."""
    if state.env_backend is None or label != state.env_backend:
        return label
    settle()  # resolves once (or reports it and falls back to cpu)
    return state.default.name


def select_for_session(state: SelectionState, label: str) -> None:
    """Select `label` process-wide, resolved on first use; quietly the host's code if absent."""
    state.env_backend = state.base = label
    state.env_quiet = True
    state.recompute()
