"""Why a label selects no backend: the one precise error, built from what discovery recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from turnout._admission import Admission
from turnout._errors import (
    BackendLoadError,
    BackendNotInstalledError,
    BackendRefusedError,
    ReservedBackendError,
    TurnoutError,
    UnknownBackendError,
    UntrustedBackendError,
)
from turnout._names import suggest
from turnout._registry import Entry, Registry


def why_missing(
    label: object,
    *,
    host_name: str,
    admission: Admission,
    registry: Registry,
    installed: Callable[[], list[str]],
    notes: Sequence[str] = (),
) -> TurnoutError:
    """Return the error for a label no ready backend answers to.

    In order: not a label at all; a backend ``<HOST>_BLOCK`` blocks; a backend
    that failed to load; a reserved label; one the untrusted policy refused;
    one the host's checks refused; a trusted backend not installed; else
    unknown, with a did-you-mean among `installed` (the labels known without
    importing anything more).
    """
    if not isinstance(label, str) or not label:
        return UnknownBackendError(label=label, host_name=host_name, installed=installed())
    blocked = registry.blocked(label)
    if blocked is not None:
        return BackendRefusedError(
            label=label,
            host_name=host_name,
            source=blocked.describe_source(),
            reason=str(blocked.reason),
        )
    failed = registry.failure(label)
    if failed is not None:
        return load_error(label, host_name, failed)
    reason = admission.reserved_reason(label)
    if reason is not None:
        return ReservedBackendError(label=label, host_name=host_name, reason=reason)
    refused = admission.refused_untrusted(label)
    if refused is not None:
        return UntrustedBackendError(
            label=label, host_name=host_name, source=refused.describe_source()
        )
    return _not_installed(
        label,
        host_name=host_name,
        admission=admission,
        registry=registry,
        installed=installed,
        notes=notes,
    )


def _not_installed(
    label: str,
    *,
    host_name: str,
    admission: Admission,
    registry: Registry,
    installed: Callable[[], list[str]],
    notes: Sequence[str],
) -> TurnoutError:
    """Return the error for a label no installed, admitted backend provides."""
    rule = admission.rule_for(label)
    rejected = registry.rejected(rule.labels if rule is not None else (label,))
    if rejected is not None:
        return BackendRefusedError(
            label=label,
            host_name=host_name,
            source=rejected.describe_source(),
            reason=str(rejected.reason),
            package=rule.package if rule is not None else None,
        )
    if rule is not None:
        return BackendNotInstalledError(
            label=label, host_name=host_name, canonical=rule.canonical, package=rule.package
        )
    shown = installed()
    if label in registry.block:
        variable = registry.block.variable
        notes = [*notes, f"Note: {variable} lists {label!r}, so it would be blocked anyway."]
    return UnknownBackendError(
        label=label,
        host_name=host_name,
        suggestions=suggest(label, shown),
        installed=shown,
        notes=notes,
    )


def load_error(label: str, host_name: str, failed: Entry) -> BackendLoadError:
    """Return the error for a backend that failed to load, chaining what it raised."""
    error = failed.error
    detail = f"{type(error).__name__}: {error}" if error is not None else str(failed.reason)
    exc = BackendLoadError(
        label=label, host_name=host_name, source=failed.describe_source(), error=detail
    )
    exc.__cause__ = error
    return exc
