"""turnout: send a host library's functions and classes to optional backends."""

from __future__ import annotations

from typing import Any

from turnout._dispatcher import BackendDispatcher
from turnout._errors import (
    BackendExistsError,
    BackendLoadError,
    BackendNotInstalledError,
    ConfigurationError,
    DispatchDefinitionError,
    MissingImplementationError,
    ReservedBackendError,
    TurnoutError,
    UnknownBackendError,
    UntrustedBackendError,
)
from turnout._registry import BackendStatus
from turnout._settings import BackendScope, Settings
from turnout._trust import TrustedBackend
from turnout._warnings import (
    BackendSignatureWarning,
    EntryPointRejectedWarning,
    FallbackWarning,
    IgnoredArgumentWarning,
    ShadowedBackendWarning,
    TurnoutWarning,
    UntrustedBackendWarning,
)

__all__ = [
    "BackendDispatcher",
    "BackendExistsError",
    "BackendLoadError",
    "BackendNotInstalledError",
    "BackendScope",
    "BackendSignatureWarning",
    "BackendStatus",
    "ConfigurationError",
    "DispatchDefinitionError",
    "EntryPointRejectedWarning",
    "FallbackWarning",
    "IgnoredArgumentWarning",
    "MissingImplementationError",
    "ReservedBackendError",
    "Settings",
    "ShadowedBackendWarning",
    "TrustedBackend",
    "TurnoutError",
    "TurnoutWarning",
    "UnknownBackendError",
    "UntrustedBackendError",
    "UntrustedBackendWarning",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - keep `import turnout` cheap

        return version("turnout")
    msg = f"module 'turnout' has no attribute {name!r}"
    raise AttributeError(msg)
