"""turnout: send a host library's functions and classes to optional backends.

``__all__`` names what a host maintainer, a backend author and a user need: the
dispatcher, its settings, the records its questions return, two helpers, and
every error and warning. Process helpers live in `turnout.processes`, testing
helpers in `turnout.testing`.
"""

from __future__ import annotations

from turnout import _lazytyping as t
from turnout._config import BackendConfig, ConfigMap, ConfigScope, UnknownConfigKeyError
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
from turnout._inprocess import Backend, BackendMeta
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import key_from_class_name
from turnout._plan import parameter_map
from turnout._registry import BackendStatus
from turnout._scopes import BackendScope
from turnout._settings import PriorityMap, Settings
from turnout._trace import Trace, TracedCall, TraceScope
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
    from turnout.processes import Bound as Bound
    from turnout.processes import Snapshot as Snapshot
    from turnout.processes import apply_snapshot as apply_snapshot
    from turnout.processes import dispatcher_for as dispatcher_for
    from turnout.processes import submit as submit

__all__ = [
    "BackendDispatcher",
    "BackendExistsError",
    "BackendInfo",
    "BackendLoadError",
    "BackendLoadWarning",
    "BackendNotInstalledError",
    "BackendRefusedError",
    "BackendSignatureWarning",
    "BackendStatus",
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
    "ReservedBackendError",
    "Settings",
    "ShadowedBackendWarning",
    "TrustedBackend",
    "TurnoutError",
    "TurnoutWarning",
    "UnknownBackendError",
    "UnknownConfigKeyError",
    "UnknownFunctionError",
    "UntrustedBackendError",
    "UntrustedBackendWarning",
    "key_from_class_name",
    "parameter_map",
]
# Reachable here too, out of __all__: the types of the dispatcher's attributes ...
_TYPES = (
    Backend,
    BackendConfig,
    BackendMeta,
    BackendScope,
    BackendsView,
    ConfigMap,
    ConfigScope,
    PriorityMap,
    Trace,
    TracedCall,
    TraceScope,
)
for _public in (key_from_class_name, PriorityMap):
    _public.__module__ = "turnout"
del _public
# ... and, loaded on first use, records built with dataclasses or TypedDict (which
# need modules `import turnout` avoids) and the process helpers of turnout.processes.
_LAZY = {
    "BackendInfo": "turnout._introspect",
    "Explanation": "turnout._introspect",
    "TrustedBackend": "turnout._typeddict",
    "Bound": "turnout.processes",
    "Snapshot": "turnout.processes",
    "apply_snapshot": "turnout.processes",
    "dispatcher_for": "turnout.processes",
    "submit": "turnout.processes",
}


def __getattr__(name: str) -> t.Any:
    if name in _LAZY:
        import importlib  # noqa: PLC0415 - only for the names above, on first use

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - keep `import turnout` cheap

        return version("turnout")
    msg = f"module 'turnout' has no attribute {name!r}"
    raise AttributeError(msg)
