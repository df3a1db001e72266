"""Check a backend against the host it targets, before users find the bugs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from turnout._dispatcher import BackendDispatcher
from turnout._docstrings import parameter_entries
from turnout._errors import DispatchDefinitionError
from turnout._merged_api import backend_only_shape_parameters
from turnout._names import CPU, label_problem
from turnout._plan import CallPlan
from turnout._shape import POSITIONAL, Shape, shape_of

_OWN = frozenset({"name", "aliases"})


@dataclass(frozen=True)
class Finding:
    """One problem `check_backend` found.

    .. versionadded:: 0.1
    """

    code: str
    """What kind of problem: ``invalid-name``, ``reserved-name``, ``invalid-alias``,
    ``unknown-callable``, ``not-callable``, ``cannot-serve``, ``positional-order``
    or ``undocumented-parameter``."""
    target: str
    """The backend attribute concerned (or ``name``/``aliases``)."""
    message: str
    """What is wrong and what to do."""

    def __str__(self) -> str:
        return f"[{self.code}] {self.target}: {self.message}"


def check_backend(
    dispatcher: BackendDispatcher, backend: Any, *, private: Iterable[str] = ()
) -> list[Finding]:
    """Check a backend (module, class or object) against a host's dispatcher.

    Checks that its name and aliases are valid and not reserved; that each
    public callable matches a dispatched function or class (or starts with
    ``_``, or is listed in `private`); that each implementation can serve the
    host's signature (no required backend-only parameter, the host's required
    parameters taken, ``*args`` if the host has them); that shared positional
    parameters come in the host's order; and that backend-only parameters are
    documented in a numpydoc ``Parameters`` section.

    .. versionadded:: 0.1

    Parameters
    ----------
    dispatcher
        The host's `BackendDispatcher` (its functions must be decorated: import
        the host first).
    backend
        The backend. A class is instantiated without arguments, as turnout does.
    private
        Public attribute names that are deliberately not host functions.

    Returns
    -------
    list of Finding
        Empty when the backend conforms.
    """
    findings: list[Finding] = []
    if isinstance(backend, type):
        try:
            backend = backend()
        except Exception as error:  # noqa: BLE001 - reported as a finding
            return [Finding("not-callable", "__init__", f"constructing it raised {error!r}")]
    findings.extend(_check_labels(dispatcher, backend))
    hosts = {getattr(obj, "__name__", ""): obj for obj in dispatcher.dispatched()}
    skip = _OWN | set(private)
    for attribute in sorted(dir(backend)):
        if attribute.startswith("_") or attribute in skip or attribute in hosts:
            continue
        value = getattr(backend, attribute, None)
        if callable(value) and not inspect.ismodule(value):
            findings.append(
                Finding(
                    "unknown-callable",
                    attribute,
                    f"matches no dispatched function or class of {dispatcher.host_name}; "
                    "rename it to match one, prefix it with '_', or list it in private=",
                )
            )
    for host_name, host in hosts.items():
        implementation = getattr(backend, host_name, None)
        if implementation is not None:
            findings.extend(_check_implementation(dispatcher, host_name, host, implementation))
    return findings


def _check_labels(dispatcher: BackendDispatcher, backend: object) -> list[Finding]:
    findings = []
    name = getattr(backend, "name", None)
    reserved = dispatcher.reserved_backends
    problem = label_problem(name) if name is not None else "it has no `name` attribute"
    if problem is not None:
        findings.append(Finding("invalid-name", "name", f"{problem}; set a valid `name`"))
    elif name == CPU or name in reserved:
        reason = reserved.get(str(name), "'cpu' always means the host's own code")
        findings.append(Finding("reserved-name", "name", f"{name!r} is reserved: {reason}"))
    aliases = getattr(backend, "aliases", ())
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple, set, frozenset)):
        findings.append(
            Finding("invalid-alias", "aliases", "must be a list, tuple or set of labels")
        )
        aliases = ()
    for alias in aliases:
        problem = label_problem(alias)
        if problem is None and (alias == CPU or alias in reserved):
            problem = f"{alias!r} is reserved"
        if problem is not None:
            findings.append(Finding("invalid-alias", "aliases", f"{problem}; drop or rename it"))
    return findings


def _check_implementation(
    dispatcher: BackendDispatcher, host_name: str, host: Any, implementation: Any
) -> list[Finding]:
    if isinstance(host, type):
        if not isinstance(implementation, type):
            return [Finding("not-callable", host_name, "the host's is a class; expose a class")]
        return []
    if not callable(implementation):
        message = f"is a {type(implementation).__name__}; expose a function, or nothing"
        return [Finding("not-callable", host_name, message)]
    host_function = inspect.unwrap(host)
    try:
        host_shape = shape_of(host_function)
        shape = shape_of(implementation)
    except (TypeError, ValueError):
        return []
    findings = []
    try:
        CallPlan(
            host=host_shape,
            backend=shape,
            implementation=implementation,
            function=f"{host_function.__module__}.{host_function.__qualname__}",
            backend_name=str(getattr(implementation, "__self__", None) or host_name),
            keyword=dispatcher.backend_keyword,
            mapping=getattr(implementation, "turnout_parameters", None),
        )
    except DispatchDefinitionError as error:
        findings.append(Finding("cannot-serve", host_name, error.problem))
    findings.extend(_order(host_name, host_shape, shape))
    documented = parameter_entries(getattr(implementation, "__doc__", None))
    mergeable, _ = backend_only_shape_parameters(host_shape, dispatcher.backend_keyword, shape)
    findings.extend(
        Finding(
            "undocumented-parameter",
            host_name,
            f"backend-only parameter {param.name!r} has no entry in the docstring's "
            "numpydoc Parameters section; users see that text in the host's help()",
        )
        for param in mergeable
        if param.name not in documented
    )
    return findings


def _order(name: str, host: Shape, backend: Shape) -> list[Finding]:
    host_order = [p.name for p in host.params if p.kind in POSITIONAL]
    backend_order = [p.name for p in backend.params if p.kind in POSITIONAL]
    shared = [n for n in backend_order if n in host_order]
    if shared != [n for n in host_order if n in shared]:
        return [
            Finding(
                "positional-order",
                name,
                f"shared positional parameters come as {shared}, the host's as "
                f"{[n for n in host_order if n in shared]}; turnout routes by name, but "
                "calls that pass them by position read differently: use the host's order",
            )
        ]
    return []


def assert_conformance(
    dispatcher: BackendDispatcher, backend: Any, *, private: Iterable[str] = ()
) -> None:
    """Fail with every finding listed unless `backend` conforms (for a backend's tests).

    .. versionadded:: 0.1
    """
    findings = check_backend(dispatcher, backend, private=private)
    if findings:
        lines = "\n".join(f"  {finding}" for finding in findings)
        msg = f"backend does not conform to {dispatcher.host_name}:\n{lines}"
        raise AssertionError(msg)


Checker = Callable[..., None]
