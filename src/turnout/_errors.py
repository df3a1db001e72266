"""Exceptions: each says what was wrong, what was expected and what to do."""

from __future__ import annotations

from collections.abc import Sequence

from turnout import _lazytyping as t


def _rebuild(cls: type[TurnoutError], fields: dict[str, t.Any]) -> TurnoutError:
    """Recreate an error from its fields (used by pickle)."""
    return cls(**fields)


def _quoted(labels: Sequence[str]) -> str:
    return ", ".join(repr(label) for label in labels)


class TurnoutError(Exception):
    """Base class of every exception turnout raises.

    Catch it to handle any turnout failure; each subclass also derives from the
    builtin exception that scverse-backends raised in the same situation, so
    ``except ValueError`` and ``except ImportError`` keep working.
    """

    def __init__(self, message: str, **fields: t.Any) -> None:
        super().__init__(message)
        self.message = message
        self._fields = fields or {"message": message}

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[t.Any, ...]:
        return (_rebuild, (type(self), self._fields))


class UnknownBackendError(TurnoutError, ValueError):
    """A backend label that nothing provides was requested.

    Attributes
    ----------
    label
        The label as given (may be a non-string when the type was wrong).
    host_name
        The host library.
    suggestions
        Close matches among the installed labels.
    installed
        Every label that can be requested, ``"cpu"`` included.
    """

    def __init__(
        self,
        *,
        label: object,
        host_name: str,
        suggestions: Sequence[str] = (),
        installed: Sequence[str] = (),
        problem: str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        self.label = label
        self.host_name = host_name
        self.suggestions = tuple(suggestions)
        self.installed = tuple(installed)
        self.problem = problem
        self.notes = tuple(notes)
        listing = ", ".join(self.installed) or "cpu"
        if not isinstance(label, str) or not label:
            message = (
                f"Backend name must be a non-empty string, got {label!r}. Use one of: {listing}."
            )
        elif problem is not None:
            message = f"Backend name {problem}. Use one of: {listing}."
        else:
            hint = f" Did you mean {_quoted(self.suggestions)}?" if suggestions else ""
            message = f"Unknown backend {label!r} for {host_name}.{hint} Installed: {listing}."
        message += "".join(f" {note}" for note in self.notes)
        super().__init__(
            message,
            label=label,
            host_name=host_name,
            suggestions=self.suggestions,
            installed=self.installed,
            problem=problem,
            notes=self.notes,
        )


class ReservedBackendError(TurnoutError, ValueError):
    """A label the host reserved was requested or claimed."""

    def __init__(self, *, label: str, host_name: str, reason: str) -> None:
        self.label = label
        self.host_name = host_name
        self.reason = reason
        super().__init__(
            f"Backend name {label!r} is reserved by {host_name}: {reason}",
            label=label,
            host_name=host_name,
            reason=reason,
        )


class BackendNotInstalledError(TurnoutError, ImportError):
    """A backend the host trusts was requested, but its package is not installed."""

    def __init__(self, *, label: str, host_name: str, canonical: str, package: str) -> None:
        self.label = label
        self.host_name = host_name
        self.canonical = canonical
        self.package = package
        shown = repr(label) if label == canonical else f"{label!r} ({canonical})"
        super().__init__(
            f"Backend {shown} for {host_name} is not installed. "
            f"Install it with: pip install {package}",
            label=label,
            host_name=host_name,
            canonical=canonical,
            package=package,
        )


class BackendLoadError(TurnoutError, ImportError):
    """An installed backend raised while it was imported or constructed.

    The original exception is chained as ``__cause__``; the backend is not
    imported again until the dispatcher is refreshed.
    """

    def __init__(self, *, label: str, host_name: str, source: str, error: str) -> None:
        self.label = label
        self.host_name = host_name
        self.source = source
        self.error = error
        super().__init__(
            f"Backend {label!r} for {host_name} failed to load from {source}: "
            f"{error}. Fix or reinstall that package, or uninstall it; "
            f"{host_name} and its other backends keep working.",
            label=label,
            host_name=host_name,
            source=source,
            error=error,
        )


class UntrustedBackendError(TurnoutError, ImportError):
    """An untrusted backend was requested while the host refuses untrusted ones."""

    def __init__(self, *, label: str, host_name: str, source: str) -> None:
        self.label = label
        self.host_name = host_name
        self.source = source
        super().__init__(
            f"Backend {label!r} from {source} is not trusted by {host_name}, "
            "which refuses untrusted backends. Ask the host to list it in "
            "trusted_backends, or relax the untrusted-backend policy.",
            label=label,
            host_name=host_name,
            source=source,
        )


class BackendRefusedError(TurnoutError, ImportError):
    """An installed backend was refused by the host's checks, before it was imported.

    For example, a distribution other than the one the host trusts claims a
    trusted name, or the backend does not support this version of the host.
    """

    def __init__(
        self, *, label: str, host_name: str, source: str, reason: str, package: str | None = None
    ) -> None:
        self.label = label
        self.host_name = host_name
        self.source = source
        self.reason = reason
        self.package = package
        hint = f" The trusted one comes with: pip install {package}" if package else ""
        super().__init__(
            f"Backend {label!r} for {host_name} is installed but was refused: {source}: "
            f"{reason}.{hint}",
            label=label,
            host_name=host_name,
            source=source,
            reason=reason,
            package=package,
        )


class BackendExistsError(TurnoutError, ValueError):
    """A backend name is already taken."""

    def __init__(self, *, label: str, host_name: str, holder: str) -> None:
        self.label = label
        self.host_name = host_name
        self.holder = holder
        super().__init__(
            f"Backend name {label!r} for {host_name} is already taken by {holder}. "
            "Pass replace=True to replace it, or choose another name.",
            label=label,
            host_name=host_name,
            holder=holder,
        )


class ConfigurationError(TurnoutError, ValueError):
    """The arguments given to `BackendDispatcher` are invalid; all problems are listed."""

    def __init__(
        self,
        *,
        problems: Sequence[str],
        host_name: str = "",
        subject: str = "BackendDispatcher configuration",
    ) -> None:
        self.problems = tuple(problems)
        self.host_name = host_name
        self.subject = subject
        owner = f" for {host_name}" if host_name else ""
        lines = "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(
            f"Invalid {subject}{owner}:{lines}",
            problems=self.problems,
            host_name=host_name,
            subject=subject,
        )


class DispatchDefinitionError(TurnoutError, TypeError):
    """A function, class or backend implementation cannot take part in dispatch."""

    def __init__(self, *, target: str, problem: str, action: str) -> None:
        self.target = target
        self.problem = problem
        self.action = action
        super().__init__(
            f"Cannot dispatch {target}: {problem}; {action}",
            target=target,
            problem=problem,
            action=action,
        )


class MissingImplementationError(TurnoutError, NotImplementedError):
    """The selected backend lacks a function and the fallback policy is ``"error"``."""

    def __init__(
        self,
        *,
        label: str,
        host_name: str,
        function: str,
        implemented_by: Sequence[str] = (),
        reason: str = "it does not implement it",
    ) -> None:
        self.label = label
        self.host_name = host_name
        self.function = function
        self.implemented_by = tuple(implemented_by)
        self.reason = reason
        others = ", ".join(self.implemented_by) or "none of the installed backends"
        super().__init__(
            f"Backend {label!r} did not run {function}() ({reason}) and {host_name}'s "
            f"fallback policy is 'error'. Implemented by: {others}. Select one of "
            "those, or allow the host's code with fallback='silent' or 'warn'.",
            label=label,
            host_name=host_name,
            function=function,
            implemented_by=self.implemented_by,
            reason=reason,
        )


class UnknownFunctionError(TurnoutError, KeyError):
    """A name that no dispatched function or class of the host goes by.

    Raised by ``settings.priority[name]``; a `KeyError`, as a mapping raises.

    Attributes
    ----------
    function
        The name as given.
    host_name
        The host library.
    suggestions
        Close matches among the dispatched names.
    known
        The dispatch keys of the host's functions and classes.
    """

    def __init__(
        self,
        *,
        function: object,
        host_name: str,
        suggestions: Sequence[str] = (),
        known: Sequence[str] = (),
    ) -> None:
        self.function = function
        self.host_name = host_name
        self.suggestions = tuple(suggestions)
        self.known = tuple(known)
        hint = f" Did you mean {_quoted(self.suggestions)}?" if self.suggestions else ""
        listing = ", ".join(self.known) or "none yet (import the host's modules first)"
        super().__init__(
            f"{host_name} has no dispatched function or class {function!r}.{hint} "
            f"Dispatched: {listing}.",
            function=function,
            host_name=host_name,
            suggestions=self.suggestions,
            known=self.known,
        )


class HostNotFoundError(TurnoutError, LookupError):
    """No `BackendDispatcher` was found for a host (a module name or an entry-point group).

    Attributes
    ----------
    host
        The module or group asked for.
    problem
        What was looked at and not found.
    """

    def __init__(self, *, host: str, problem: str) -> None:
        self.host = host
        self.problem = problem
        super().__init__(
            f"No turnout.BackendDispatcher found for {host!r}: {problem}. Pass the host's "
            "package (the module that creates its dispatcher, or one that imports it), "
            "and check that it is installed where this code runs.",
            host=host,
            problem=problem,
        )


for _cls in (
    TurnoutError,
    HostNotFoundError,
    UnknownBackendError,
    ReservedBackendError,
    BackendNotInstalledError,
    BackendLoadError,
    UntrustedBackendError,
    BackendExistsError,
    BackendRefusedError,
    ConfigurationError,
    DispatchDefinitionError,
    MissingImplementationError,
    UnknownFunctionError,
):
    _cls.__module__ = "turnout"
del _cls
