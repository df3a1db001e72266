"""Check a backend against the host it targets, before users find the bugs."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from turnout._dispatcher import BackendDispatcher
from turnout._docstrings import parameter_entries
from turnout._errors import DispatchDefinitionError
from turnout._merged_api import backend_only_shape_parameters
from turnout._names import CPU, label_problem, suggest
from turnout._plan import CallPlan
from turnout._shape import POSITIONAL, Shape, shape_of
from turnout._static import _READERS, Malformed
from turnout.testing import _installed
from turnout.testing._finding import Finding
from turnout.testing._known import known_patterns

# Attributes a backend may have besides its implementations: documented, never "unknown".
HOOKS: dict[str, tuple[str, Callable[[inspect.Signature], object]]] = {
    "can_run": ("can_run(function, args, kwargs)", lambda s: s.bind("f", (), {})),
    "should_run": ("should_run(function, args, kwargs)", lambda s: s.bind("f", (), {})),
    "convert_from_host": (
        "convert_from_host(value, *, function, parameter)",
        lambda s: s.bind(None, function="f", parameter="p"),
    ),
    "convert_to_host": (
        "convert_to_host(result, *, function)",
        lambda s: s.bind(None, function="f"),
    ),
    "on_start_tests": ("on_start_tests(items)", lambda s: s.bind([])),
    "turnout_compare": (
        "turnout_compare(function, result, expected)",
        lambda s: s.bind("f", None, None),
    ),
}
OWN = frozenset({"name", "aliases", "known_failures", *_installed.DECLARED, *HOOKS})


def check_backend(
    dispatcher: BackendDispatcher,
    backend: Any = None,
    *,
    name: str | None = None,
    private: Iterable[str] = (),
) -> list[Finding]:
    """Check a backend against a host's dispatcher, as users will install and call it.

    The backend is given as an object, or by the label users select it by:
    then the installed entry point in the host's group is loaded as turnout
    loads it, and that object is checked. An object that an installed entry
    point names is checked as installed too.

    Checks that its name and aliases are valid and not reserved; that each
    public callable matches a dispatched function or class (did-you-mean for
    a misspelling), is a documented hook (``can_run``, ``should_run``,
    ``convert_from_host``, ``convert_to_host``, ``on_start_tests``,
    ``turnout_compare``) with a signature turnout can call, starts with
    ``_``, or is listed in `private`; that each implementation can serve the
    host's signature (a renamed parameter is reported with the
    `turnout.parameter_map` that fixes it); that shared positional parameters
    come in the host's order; that backend-only parameters are documented in
    a numpydoc ``Parameters`` section; and that declarations such as
    ``types`` and ``priority`` are of a kind turnout reads. When installed:
    that it loads, how the host's trust treats it (a note says what users of
    a backend the host does not trust see), and that its
    ``turnout-backend.json`` agrees with the object.

    Parameters
    ----------
    dispatcher
        The host's `BackendDispatcher` (its functions must be decorated: import
        the host first; `turnout.processes.dispatcher_for` finds it).
    backend
        The backend (module, class or object; a class is instantiated without
        arguments, as turnout does), or a label (``"accel"``) of an installed one.
    name
        A label of an installed backend, instead of `backend`.
    private
        Public attribute names that are deliberately not host functions.

    Returns
    -------
    list of Finding
        Problems (`Finding.is_error`) and notes; no problem when the backend conforms.
    """
    if (name is None) == (backend is None):
        msg = "check_backend() takes the backend, or its label as name=, not both or neither"
        raise TypeError(msg)
    label = name if name is not None else backend if isinstance(backend, str) else None
    if label is not None:
        entries, findings = _installed.by_label(dispatcher, label)
        ready = [entry for entry in entries if entry.obj is not None]
        if not ready:  # failed or refused: nothing users could call
            for entry in entries:
                findings.extend(_installed.standing(dispatcher, entry))
            return findings
        backend = ready[0].obj
    else:
        entries, findings = _installed.by_object(dispatcher, backend), []
    if isinstance(backend, type):
        try:
            backend = backend()
        except Exception as error:  # noqa: BLE001 - reported as a finding
            message = f"constructing it without arguments, as turnout does, raised {error!r}"
            return [*findings, Finding("cannot-construct", "__init__", message)]
    findings.extend(_check_object(dispatcher, backend, set(private)))
    keys = list(_keys(dispatcher))
    for entry in entries:
        findings.extend(_installed.standing(dispatcher, entry))
        if entry.obj is not None:
            findings.extend(_installed.declared(dispatcher, entry, backend, keys))
    return findings


def _check_object(
    dispatcher: BackendDispatcher, backend: object, private: set[str]
) -> list[Finding]:
    """Check the backend object itself: labels, attributes, implementations."""
    keys = _keys(dispatcher)
    findings = _check_labels(dispatcher, backend)
    findings.extend(_check_attributes(dispatcher, backend, keys, private))
    for key, host in keys.items():
        implementation = getattr(backend, key, None)
        if implementation is not None:
            findings.extend(_check_implementation(dispatcher, key, host, implementation))
    return findings


def _keys(dispatcher: BackendDispatcher) -> dict[str, Any]:
    """Return the host's dispatched functions and classes by dispatch key (the attribute name)."""
    return {key: record.wrapper for key, record in dispatcher._by_key.items()}  # noqa: SLF001


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


def _check_attributes(
    dispatcher: BackendDispatcher, backend: object, keys: dict[str, Any], private: set[str]
) -> list[Finding]:
    """Check attributes that are no implementation: hooks, declarations, and strays."""
    findings = []
    for attribute in sorted(dir(backend)):
        if attribute.startswith("_") or attribute in private or attribute in keys:
            continue
        value = getattr(backend, attribute, None)
        if attribute in HOOKS:
            findings.extend(_check_hook(attribute, value))
        elif attribute == "known_failures" and value is not None:
            try:
                known_patterns(value)
            except TypeError as error:
                findings.append(Finding("metadata-attribute", attribute, str(error)))
        elif attribute in _READERS and value is not None and attribute not in ("name", "aliases"):
            try:
                _READERS[attribute](value)
            except Malformed as error:
                message = f"{value!r}: {error}; turnout ignores it"
                findings.append(Finding("metadata-attribute", attribute, message))
        elif attribute not in OWN and callable(value) and not inspect.ismodule(value):
            close = suggest(attribute, keys)
            hint = f"did you mean {' or '.join(map(repr, close))}? Else " if close else ""
            message = (
                f"matches no dispatched function or class of {dispatcher.host_name}; {hint}"
                "rename it to match one, prefix it with '_', or list it in private="
            )
            findings.append(Finding("unknown-callable", attribute, message))
    return findings


def _check_hook(attribute: str, hook: object) -> list[Finding]:
    call, bind = HOOKS[attribute]
    if not callable(hook):
        message = f"is a {type(hook).__name__}; turnout ignores it: define {call}"
        return [Finding("hook-signature", attribute, message)]
    try:
        bind(inspect.signature(hook))
    except TypeError as error:
        return [Finding("hook-signature", attribute, f"turnout calls {call}: {error}")]
    except ValueError:  # no signature to read (a builtin): trust it
        return []
    return []


def _check_implementation(
    dispatcher: BackendDispatcher, key: str, host: Any, implementation: Any
) -> list[Finding]:
    if isinstance(host, type):
        if not isinstance(implementation, type):
            return [Finding("not-callable", key, "the host's is a class; expose a class")]
        return []
    if not callable(implementation):
        message = f"is a {type(implementation).__name__}; expose a function, or nothing"
        return [Finding("not-callable", key, message)]
    host_function = inspect.unwrap(host)
    try:
        host_shape = shape_of(host_function)
        shape = shape_of(implementation)
    except (TypeError, ValueError):
        return []
    mapping = dict(getattr(implementation, "turnout_parameters", None) or {})
    findings = []
    renames = _renames(host_shape, shape, mapping)
    if renames:
        fix = ", ".join(f"{h}={b!r}" for h, b in renames.items())
        shown = ", ".join(f"{b!r} for the host's {h!r}" for h, b in renames.items())
        message = (
            f"renamed parameter(s): {shown}; turnout routes arguments by name, so decorate "
            f"it with @turnout.parameter_map({fix}), or use the host's names"
        )
        findings.append(Finding("renamed-parameter", key, message))
    try:
        CallPlan(
            host=host_shape,
            backend=shape,
            implementation=implementation,
            function=f"{host_function.__module__}.{host_function.__qualname__}",
            backend_name=str(getattr(implementation, "__self__", None) or key),
            keyword=dispatcher.backend_keyword,
            mapping={**mapping, **renames},
        )
    except DispatchDefinitionError as error:
        findings.append(Finding("cannot-serve", key, error.problem))
    findings.extend(_order(key, host_shape, shape))
    documented = parameter_entries(getattr(implementation, "__doc__", None))
    mergeable, _ = backend_only_shape_parameters(host_shape, dispatcher.backend_keyword, shape)
    findings.extend(
        Finding(
            "undocumented-parameter",
            key,
            f"backend-only parameter {param.name!r} has no entry in the docstring's "
            "numpydoc Parameters section; users see that text in the host's help()",
        )
        for param in mergeable
        if param.name not in documented and param.name not in renames.values()
    )
    return findings


def _renames(host: Shape, backend: Shape, mapping: dict[str, Any]) -> dict[str, str]:
    """Return ``{host parameter: backend parameter}`` for parameters that look renamed.

    A host parameter the backend does not take (nor map, nor take by
    ``**kwargs``) pairs with a backend-only parameter at the same position
    when the host's is required, else with one of a similar name.
    """
    if backend.var_keyword is not None:
        return {}
    mapped = {target if isinstance(target, str) else target[0] for target in mapping.values()}
    extra = [p.name for p in backend.named if p.name not in host.by_name and p.name not in mapped]
    host_order = [p.name for p in host.params if p.kind in POSITIONAL]
    backend_order = [p.name for p in backend.params if p.kind in POSITIONAL]
    found: dict[str, str] = {}
    for param in host.named:
        if param.name in backend.by_name or param.name in mapping or not extra:
            continue
        index = host_order.index(param.name) if param.name in host_order else len(backend_order)
        beside = backend_order[index] if index < len(backend_order) else None
        if beside in extra and not param.has_default:
            found[param.name] = beside
        else:
            close = suggest(param.name, extra, limit=1)
            if not close:
                continue
            found[param.name] = close[0]
        extra.remove(found[param.name])
    return found


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
    dispatcher: BackendDispatcher,
    backend: Any = None,
    *,
    name: str | None = None,
    private: Iterable[str] = (),
) -> list[Finding]:
    """Fail with every finding listed unless `backend` conforms (for a backend's tests).

    Takes what `check_backend` takes. Notes (a host that does not trust the
    backend) do not fail it; they are returned, and listed with the problems
    when it fails.

    Returns
    -------
    list of Finding
        The notes.

    Raises
    ------
    AssertionError
        Listing every finding, when one is a problem.
    """
    findings = check_backend(dispatcher, backend, name=name, private=private)
    if any(finding.is_error for finding in findings):
        lines = "\n".join(f"  {finding}" for finding in findings)
        msg = f"backend does not conform to {dispatcher.host_name}:\n{lines}"
        raise AssertionError(msg)
    return findings


Checker = Callable[..., list[Finding]]
