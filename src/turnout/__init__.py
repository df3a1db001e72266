"""turnout: send a host library's functions and classes to optional backends."""

from __future__ import annotations

from turnout import _lazytyping as t
from turnout._dispatcher import BackendDispatcher
from turnout._errors import (
    BackendExistsError,
    BackendLoadError,
    BackendNotInstalledError,
    BackendRefusedError,
    ConfigurationError,
    DispatchDefinitionError,
    HostNotFoundError,
    MissingImplementationError,
    ReservedBackendError,
    TurnoutError,
    UnknownBackendError,
    UnknownFunctionError,
    UntrustedBackendError,
)
from turnout._hosts import dispatcher_for
from turnout._inprocess import Backend, BackendMeta
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import key_from_class_name
from turnout._plan import parameter_map
from turnout._registry import BackendStatus
from turnout._scopes import BackendScope
from turnout._settings import PriorityMap, Settings
from turnout._snapshot import Bound, Snapshot, apply_snapshot, submit
from turnout._view import BackendsView
from turnout._warnings import (
    BackendLoadWarning,
    BackendSignatureWarning,
    ConfigurationWarning,
    DeprecatedBackendWarning,
    EntryPointRejectedWarning,
    FallbackWarning,
    IgnoredArgumentWarning,
    ShadowedBackendWarning,
    TurnoutWarning,
    UntrustedBackendWarning,
)

if TYPE_CHECKING:
    from turnout._introspect import BackendInfo, Explanation
    from turnout._typeddict import TrustedBackend

__all__ = [
    "Backend",
    "BackendDispatcher",
    "BackendExistsError",
    "BackendInfo",
    "BackendLoadError",
    "BackendLoadWarning",
    "BackendMeta",
    "BackendNotInstalledError",
    "BackendRefusedError",
    "BackendScope",
    "BackendSignatureWarning",
    "BackendStatus",
    "BackendsView",
    "Bound",
    "ConfigurationError",
    "ConfigurationWarning",
    "DeprecatedBackendWarning",
    "DispatchDefinitionError",
    "EntryPointRejectedWarning",
    "Explanation",
    "FallbackWarning",
    "HostNotFoundError",
    "IgnoredArgumentWarning",
    "MissingImplementationError",
    "PriorityMap",
    "ReservedBackendError",
    "Settings",
    "ShadowedBackendWarning",
    "Snapshot",
    "TrustedBackend",
    "TurnoutError",
    "TurnoutWarning",
    "UnknownBackendError",
    "UnknownFunctionError",
    "UntrustedBackendError",
    "UntrustedBackendWarning",
    "apply_snapshot",
    "dispatcher_for",
    "key_from_class_name",
    "parameter_map",
    "submit",
]

for _public in (
    key_from_class_name,
    dispatcher_for,
    apply_snapshot,
    submit,
    Bound,
    Snapshot,
    PriorityMap,
):
    _public.__module__ = "turnout"
del _public
# Loaded on first use: dataclasses and TypedDict need modules `import turnout` avoids.
_LAZY = {
    "BackendInfo": "turnout._introspect",
    "Explanation": "turnout._introspect",
    "TrustedBackend": "turnout._typeddict",
}


def __getattr__(name: str) -> t.Any:
    if name in _LAZY:  # records built with dataclasses, which imports inspect
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - keep `import turnout` cheap

        return version("turnout")
    msg = f"module 'turnout' has no attribute {name!r}"
    raise AttributeError(msg)
