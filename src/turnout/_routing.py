"""CallPlan: how to call one backend function for one host function, computed once."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

from turnout._errors import DispatchDefinitionError
from turnout._warnings import IgnoredArgumentWarning, warn

_P = inspect.Parameter
_EMPTY = inspect.Parameter.empty
_POSITIONAL = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)


class HostShape:
    """The host's parameters in the order the dispatch wrapper passes them.

    The wrapper calls every plan as the host would be called: positional and
    positional-or-keyword parameters by position, then ``*args``, then
    keyword-only parameters and any other keywords by name.
    """

    __slots__ = ("defaults", "keyword_only", "positional", "var_keyword", "var_positional")

    def __init__(self, signature: inspect.Signature) -> None:
        params = list(signature.parameters.values())
        self.positional = tuple(p.name for p in params if p.kind in _POSITIONAL)
        self.keyword_only = tuple(p.name for p in params if p.kind is _P.KEYWORD_ONLY)
        self.var_positional = next((p.name for p in params if p.kind is _P.VAR_POSITIONAL), None)
        self.var_keyword = next((p.name for p in params if p.kind is _P.VAR_KEYWORD), None)
        self.defaults = {p.name: p.default for p in params if p.default is not _EMPTY}

    @property
    def named(self) -> tuple[str, ...]:
        """Every parameter but ``*args`` and ``**kwargs``, in order."""
        return self.positional + self.keyword_only


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


class CallPlan:
    """Routing of one host function's arguments to one backend function.

    Shared parameters are forwarded (one left at the host's default lets the
    backend use its own), backend-only keywords are forwarded, host-only
    parameters are dropped with an `IgnoredArgumentWarning` when not at their
    default, and unknown keywords raise the host's usual `TypeError`.

    Parameters
    ----------
    host
        The host function's signature.
    backend
        The backend function's signature.
    implementation
        The backend function.
    function
        ``module.qualname`` of the host function, for messages.
    backend_name
        The backend's canonical name, for messages.
    keyword
        The selector keyword, never forwarded.
    known
        Backend-only parameters of any loaded backend: passing one that this
        backend lacks warns instead of raising.

    Raises
    ------
    DispatchDefinitionError
        The backend function cannot serve the host's parameters.
    """

    __slots__ = (
        "_accepts_any_keyword",
        "_backend_defaults",
        "_backend_keywords",
        "_by_position",
        "_host",
        "_host_only",
        "_known",
        "_omit_at_default",
        "backend_name",
        "backend_only",
        "function",
        "host_only",
        "identity",
        "implementation",
        "shared",
    )

    def __init__(
        self,
        *,
        host: inspect.Signature,
        backend: inspect.Signature,
        implementation: Callable[..., Any],
        function: str,
        backend_name: str,
        keyword: str,
        known: Collection[str] = (),
    ) -> None:
        self.implementation = implementation
        self.function = function
        self.backend_name = backend_name
        self._known = known
        shape = self._host = HostShape(host)
        params = [p for p in backend.parameters.values() if p.name != keyword]
        named = {p.name: p for p in params if p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)}
        self._accepts_any_keyword = any(p.kind is _P.VAR_KEYWORD for p in params)
        takes_varargs = any(p.kind is _P.VAR_POSITIONAL for p in params)
        self._backend_defaults = {n: p.default for n, p in named.items() if p.default is not _EMPTY}
        self._backend_keywords = frozenset(
            n for n, p in named.items() if p.kind is not _P.POSITIONAL_ONLY
        )
        self.shared = tuple(
            n for n in shape.named if n in named or (self._accepts_any_keyword and n not in named)
        )
        self.host_only = tuple(n for n in shape.named if n not in self.shared)
        self._host_only = tuple((n, shape.defaults.get(n, _EMPTY)) for n in self.host_only)
        self.backend_only = tuple(n for n in named if n not in shape.named)
        self._check(named, takes_varargs)
        # Backend parameters passed by position: all of them before *args, else
        # only the positional-only ones (the rest go by keyword).
        by_position = _POSITIONAL if shape.var_positional else (_P.POSITIONAL_ONLY,)
        self._by_position = tuple(n for n, p in named.items() if p.kind in by_position)
        self._omit_at_default = frozenset(
            n
            for n in self.shared
            if n in shape.defaults
            and n in self._backend_defaults
            and not is_default(self._backend_defaults[n], shape.defaults[n])
        )
        self.identity = self._is_identity(named, takes_varargs)

    def _check(self, named: dict[str, inspect.Parameter], takes_varargs: bool) -> None:
        shape = self._host
        problems = []
        required = [n for n in self.backend_only if named[n].default is _EMPTY]
        if required:
            problems.append(
                f"its parameter(s) {', '.join(map(repr, required))} are required but "
                f"{self.function}() has no such parameter; give them defaults"
            )
        unserved = [n for n in self.host_only if n not in shape.defaults]
        if unserved:
            problems.append(
                f"it does not take {', '.join(map(repr, unserved))}, which "
                f"{self.function}() requires; add them (parameters are matched by name)"
            )
        if shape.var_positional and not takes_varargs:
            problems.append(
                f"{self.function}() takes *{shape.var_positional} but the backend function "
                "does not; add *args to it"
            )
        if problems:
            raise DispatchDefinitionError(
                target=f"{self.function}() to backend {self.backend_name!r}",
                problem=f"{_describe(self.implementation)} cannot serve it: " + "; ".join(problems),
                action="fix the backend function's signature, or remove it so the host's code runs",
            )

    def _is_identity(self, named: dict[str, inspect.Parameter], takes_varargs: bool) -> bool:
        """Whether the backend can take the host's call unchanged (the fast path)."""
        shape = self._host
        if self.host_only or self._omit_at_default:
            return False
        if bool(shape.var_positional) != takes_varargs:
            return False
        if shape.var_keyword and not self._accepts_any_keyword:
            return False
        backend_positional = [n for n, p in named.items() if p.kind in _POSITIONAL]
        if backend_positional[: len(shape.positional)] != list(shape.positional):
            return False
        if shape.var_positional and len(backend_positional) != len(shape.positional):
            return False
        return all(
            n in self._backend_keywords or self._accepts_any_keyword for n in shape.keyword_only
        )

    @property
    def fast(self) -> Callable[..., Any]:
        """What the wrapper calls: the backend function itself when routing is a no-op."""
        return self.implementation if self.identity else self.call

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """Route a host-convention call and run the backend function."""
        shape = self._host
        count = len(shape.positional)
        values = dict(zip(shape.positional, args[:count], strict=False))
        varargs = args[count:]
        extra: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in shape.keyword_only:
                values[key] = value
            else:
                extra[key] = value
        for name, default in self._host_only:
            if name in values and (default is _EMPTY or not is_default(values[name], default)):
                self._ignored(name, values[name], default)
        positional, pending, keywords = self._arrange(values, extra)
        if varargs:  # the backend's own defaults keep *args from shifting into them
            positional.extend(pending)
        return self.implementation(*positional, *varargs, **keywords)

    def _arrange(
        self, values: dict[str, Any], extra: dict[str, Any]
    ) -> tuple[list[Any], list[Any], dict[str, Any]]:
        keywords: dict[str, Any] = {}
        for name in self.shared:
            if name in values and not (
                name in self._omit_at_default and values[name] is self._host.defaults[name]
            ):
                keywords[name] = values[name]
        for key, value in extra.items():
            if key in self._backend_keywords or self._accepts_any_keyword:
                keywords[key] = value
            elif self._host.var_keyword or key in self._known:
                self._ignored(key, value, _EMPTY)
            else:
                raise TypeError(f"{self.function}() got an unexpected keyword argument {key!r}")
        positional: list[Any] = []
        pending: list[Any] = []
        for name in self._by_position:
            if name in keywords:
                positional.extend(pending)
                pending.clear()
                positional.append(keywords.pop(name))
            else:
                pending.append(self._backend_defaults.get(name))
        return positional, pending, keywords

    def _ignored(self, name: str, value: object, default: object) -> None:
        hint = f"leave it at its default ({default!r})" if default is not _EMPTY else "omit it"
        warn(
            f"{self.function}(): argument {name!r}={_short(value)} is ignored by backend "
            f"{self.backend_name!r}, whose {_describe(self.implementation)} does not take it; "
            f"{hint}, or select a backend that uses it.",
            IgnoredArgumentWarning,
        )

    def describe(self) -> str:
        """One line: what is forwarded, dropped and added (for logs and explain)."""
        parts = [f"forwards {', '.join(self.shared) or 'nothing'}"]
        if self.host_only:
            parts.append(f"drops {', '.join(self.host_only)}")
        if self.backend_only:
            parts.append(f"adds {', '.join(self.backend_only)}")
        return "; ".join(parts)


def _describe(func: object) -> str:
    module = getattr(func, "__module__", None) or type(func).__module__
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{qualname}()"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."  # noqa: PLR2004 - message width
