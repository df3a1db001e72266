"""CallPlan: how a call of one host function reaches one backend function, decided once (analysis).

A plan is pure analysis of two parameter shapes plus the backend's declared
parameter map. It compiles to a *route*: a generated function with the host's
parameters (every default replaced by `OMITTED`, so it knows what the caller
left out) that calls the backend function. Rules:

- host positional-only parameters are matched by position, the others by name
  (or through the backend's parameter map, which may also transform values);
- an argument the caller gave is forwarded unchanged, whatever its value; one
  the caller omitted lets the backend use its own default;
- host-only arguments are dropped, with an `IgnoredArgumentWarning` when given
  and not equal to the host's default;
- backend-only keywords are forwarded; unknown keywords raise the host's usual
  `TypeError` (a host whose real signature is wider passes them on).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError, DispatchDefinitionError
from turnout._lazytyping import TYPE_CHECKING
from turnout._shape import (
    EMPTY,
    POSITIONAL,
    POSITIONAL_ONLY,
    Param,
    Shape,
)
from turnout._warnings import IgnoredArgumentWarning, warn

if TYPE_CHECKING:  # `typing` stays unimported on the first backend call
    Transform = Callable[[t.Any], t.Any]
    ParameterMap = Mapping[str, "str | tuple[str, Transform]"]


def is_default(value: object, default: object) -> bool:
    """Return whether `value` is `default`, without trusting arbitrary ``__eq__``."""
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:  # noqa: BLE001 - arrays and odd types: treat as different
        return False


class Source:
    """Where one backend parameter's value comes from in a host call."""

    __slots__ = ("backend", "host", "transform")

    def __init__(self, backend: Param, host: Param | None, transform: Transform | None) -> None:
        self.backend = backend
        self.host = host
        self.transform = transform


class CallPlan:
    """Routing of one host function's arguments to one backend function.

    Parameters
    ----------
    host
        The host function's documented parameters.
    backend
        The backend function's parameters.
    implementation
        The backend function.
    function
        The host function's public name, for messages.
    backend_name
        The backend's canonical name, for messages.
    keyword
        The selector keyword, never forwarded.
    mapping
        The backend's parameter map for this function: host name -> backend
        name, or ``(backend name, transform)``.
    forward_unknown
        Pass keywords that neither side names on to the backend (for hosts
        whose documented signature is narrower than what they accept).

    Raises
    ------
    DispatchDefinitionError
        The backend function cannot serve the host's parameters.
    """

    __slots__ = (
        "accepted",
        "accepts_any_keyword",
        "backend",
        "backend_name",
        "backend_only",
        "compiled",
        "forward_unknown",
        "function",
        "host",
        "host_only",
        "implementation",
        "known",
        "renamed",
        "shared",
        "sources",
    )

    def __init__(
        self,
        *,
        host: Shape,
        backend: Shape,
        implementation: Callable[..., t.Any],
        function: str,
        backend_name: str,
        keyword: str,
        mapping: ParameterMap | None = None,
        forward_unknown: bool = False,
        known: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        self.host = host
        self.known = known
        # its route factory: (backend-only keywords taken by name, factory, free values)
        self.compiled: tuple[tuple[str, ...], t.Any, dict[str, t.Any]] | None = None
        self.implementation = implementation
        self.function = function
        self.backend_name = backend_name
        self.forward_unknown = forward_unknown
        params = [p for p in backend.params if p.name != keyword]
        self.backend = Shape(params, exact=backend.exact)
        self.accepts_any_keyword = self.backend.var_keyword is not None
        self.renamed: dict[str, str] = {}
        self.sources = self._match(mapping or {})
        sourced = {s.host.name for s in self.sources if s.host is not None}
        if self.accepts_any_keyword:  # its **kwargs takes every other host parameter by name
            sourced |= {p.name for p in host.named if p.kind != POSITIONAL_ONLY}
        self.shared = tuple(p.name for p in host.named if p.name in sourced)
        self.host_only = tuple(p.name for p in host.named if p.name not in sourced)
        taken = {s.backend.name for s in self.sources if s.host is not None}
        self.backend_only = tuple(
            p.name for p in self.backend.named if p.name not in taken and p.name not in host.by_name
        )
        self.accepted = frozenset(
            p.name for p in self.backend.named if p.kind != POSITIONAL_ONLY and p.name not in taken
        )
        self._check()

    # -- analysis -----------------------------------------------------------------------

    def _match(self, mapping: ParameterMap) -> list[Source]:
        """Give each backend parameter its host source (or None)."""
        host, backend = self.host, self.backend
        by_host: dict[str, tuple[Param, Transform | None]] = {}
        positional = [p for p in backend.params if p.kind in POSITIONAL]
        for index, param in enumerate(p for p in host.params if p.kind == POSITIONAL_ONLY):
            if param.name not in mapping and index < len(positional):
                by_host[param.name] = (positional[index], None)
        for name, spec in mapping.items():
            backend_name, transform = (spec, None) if isinstance(spec, str) else spec
            if name in host.by_name and backend_name in backend.by_name:
                by_host[name] = (backend.by_name[backend_name], transform)
                self.renamed[name] = backend_name
        for param in host.named:
            if param.name in by_host or param.kind == POSITIONAL_ONLY:
                continue
            if param.name in backend.by_name:
                by_host[param.name] = (backend.by_name[param.name], None)
        owner: dict[str, Source] = {}
        for name, (target, transform) in by_host.items():
            if target.name in owner:
                raise self._error(
                    f"its parameter {target.name!r} would receive both "
                    f"{owner[target.name].host.name!r} and {name!r}"  # type: ignore[union-attr]
                )
            owner[target.name] = Source(target, host.by_name[name], transform)
        return [owner.get(p.name, Source(p, None, None)) for p in backend.named]

    def _check(self) -> None:
        problems = []
        required = [
            s.backend.name for s in self.sources if s.host is None and not s.backend.has_default
        ]
        if required:
            problems.append(
                f"its parameter(s) {', '.join(map(repr, required))} are required but "
                f"{self.function}() has no such parameter; give them defaults"
            )
        unserved = [n for n in self.host_only if not self.host.by_name[n].has_default]
        if unserved:
            problems.append(
                f"it does not take {', '.join(map(repr, unserved))}, which "
                f"{self.function}() requires; add them (positional-only parameters are "
                "matched by position, the others by name)"
            )
        if self.host.var_positional and not self.backend.var_positional:
            problems.append(
                f"{self.function}() takes *{self.host.var_positional} but the backend "
                "function does not; add *args to it"
            )
        if problems:
            raise self._error("; ".join(problems))

    def _error(self, problem: str) -> DispatchDefinitionError:
        return DispatchDefinitionError(
            target=f"{self.function}() to backend {self.backend_name!r}",
            problem=f"{describe_callable(self.implementation)} cannot serve it: {problem}",
            action="fix the backend function's signature, or remove it so the host's code runs",
        )

    def describe(self) -> str:
        """One line: what is forwarded, renamed, dropped and added (for logs and explain)."""
        parts = [f"forwards {', '.join(self.shared) or 'nothing'}"]
        if self.renamed:
            renames = ", ".join(f"{a} as {b}" for a, b in self.renamed.items())
            parts.append(f"renames {renames}")
        if self.host_only:
            parts.append(f"drops {', '.join(self.host_only)}")
        if self.backend_only:
            parts.append(f"adds {', '.join(self.backend_only)}")
        return "; ".join(parts)

    # -- slow paths the route calls -------------------------------------------------------

    def extra(self, extra: dict[str, t.Any]) -> dict[str, t.Any]:
        """Sort keywords the backend does not name: forward, drop with a warning, or raise."""
        kept = {}
        known = self.known()
        for key, value in extra.items():
            if key in self.accepted or self.forward_unknown:
                kept[key] = value
            elif key in known or self.host.var_keyword is not None:
                self.ignored(key, value, EMPTY)
            else:
                msg = f"{self.function}() got an unexpected keyword argument {key!r}"
                raise TypeError(msg)
        return kept

    def ignored(self, name: str, value: object, default: object) -> None:
        hint = f"leave it at its default ({default!r})" if default is not EMPTY else "omit it"
        warn(
            f"{self.function}(): argument {name!r}={short_repr(value)} is ignored by backend "
            f"{self.backend_name!r}, whose {describe_callable(self.implementation)} does not "
            f"take it; {hint}, or select a backend that uses it.",
            IgnoredArgumentWarning,
        )


def describe_callable(func: object) -> str:
    """Return ``module.qualname()`` of a function or callable object."""
    module = getattr(func, "__module__", None) or type(func).__module__
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{qualname}()"


def short_repr(value: object) -> str:
    """Return a repr short enough for a warning."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the call
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 40 else text[:37] + "..."  # noqa: PLR2004 - message width


def parameter_map(**mapping: t.Any) -> Callable[[t.F], t.F]:
    """Declare how a backend function's parameters differ from the host function's.

    Each keyword names a host parameter; its value is the backend parameter that
    receives it, or ``(backend parameter, transform)`` where ``transform(value)``
    gives the backend's value. An argument the caller left out is not
    transformed: the backend's own default applies.

    Examples
    --------
    >>> import operator
    >>> from turnout import parameter_map
    >>> @parameter_map(data="adata", inplace=("copy", operator.not_))
    ... def pca(adata, n_comps=50, copy=False):
    ...     return adata
    >>> pca.turnout_parameters["data"]
    'adata'
    """
    problems = [
        f"{host!r}: expected a parameter name or (name, transform), got {target!r}"
        for host, target in mapping.items()
        if not (
            isinstance(target, str)
            or (
                isinstance(target, tuple)
                and len(target) == 2  # noqa: PLR2004 - (name, transform)
                and isinstance(target[0], str)
                and callable(target[1])
            )
        )
    ]
    if problems:
        raise ConfigurationError(problems=problems, subject="parameter_map")

    def decorate(function: t.F) -> t.F:
        function.turnout_parameters = dict(mapping)  # type: ignore[attr-defined]
        return function

    return decorate


parameter_map.__module__ = "turnout"
