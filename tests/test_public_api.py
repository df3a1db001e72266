"""The public API: its names, its annotations, and how little `import turnout` loads."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from typing import get_type_hints

import turnout
from turnout import BackendDispatcher, Settings
from turnout.testing import DistributionSite, run_conformance

PUBLIC = [
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
# Reachable from turnout, out of __all__: the types of the dispatcher's attributes, and
# the process helpers, whose home is turnout.processes.
TYPES = [
    "Backend",
    "BackendConfig",
    "BackendMeta",
    "BackendScope",
    "BackendsView",
    "ConfigMap",
    "ConfigScope",
    "PriorityMap",
    "Trace",
    "TracedCall",
    "TraceScope",
]
PROCESSES = ["Bound", "Snapshot", "apply_snapshot", "dispatcher_for", "submit"]


def test_all_is_the_public_api():
    assert turnout.__all__ == PUBLIC
    for name in PUBLIC + TYPES:
        assert getattr(turnout, name).__module__ == "turnout", name
    from turnout import processes  # noqa: PLC0415

    assert processes.__all__ == PROCESSES
    for name in PROCESSES:
        assert getattr(turnout, name) is getattr(processes, name)
        assert getattr(processes, name).__module__ == "turnout.processes", name


def test_version_is_read_lazily():
    assert turnout.__version__.startswith("0.")


def test_public_annotations_resolve_at_runtime():
    targets = [
        BackendDispatcher.__init__,
        BackendDispatcher.backend_dispatch.fget,
        BackendDispatcher.backend_class.fget,
        BackendDispatcher.settings.fget,
        BackendDispatcher.get_backend,
        BackendDispatcher.available_backend_names,
        BackendDispatcher.discover,
        BackendDispatcher.report,
        BackendDispatcher.explain,
        BackendDispatcher.register_backend,
        BackendDispatcher.registered,
        BackendDispatcher.backends.fget,
        Settings.__init__,
        Settings.backend.fget,
        Settings.backend.fset,
        Settings.use_backend,
        Settings.available_backends,
        Settings.get_backend,
        run_conformance,
        DistributionSite.add,
    ]
    for target in targets:
        assert get_type_hints(target), target


def test_import_and_decoration_are_cheap():
    code = (
        "import sys; import turnout; "
        "d = turnout.BackendDispatcher('x.backends', 'x')\n"
        "@d.backend_dispatch\ndef f(a): return a\n"
        "print(sorted(sys.modules))"
    )
    output = subprocess.check_output([sys.executable, "-c", code], text=True)
    loaded = set(ast.literal_eval(output))
    heavy = {
        "inspect",
        "importlib.metadata",
        "difflib",
        "dataclasses",
        "typing_extensions",
        "packaging.markers",
        "logging",
        "typing",  # annotations resolve through turnout._lazytyping on demand
        "json",
    }
    assert loaded & heavy == set()


def test_a_warm_first_backend_call_imports_nothing_heavy(site, group, tmp_path):
    site.add(
        "light-backend",
        entry_points={group: {"light": "light_backend:Backend"}},
        modules={
            "light_backend.py": "class Backend:\n    name = 'light'\n    def f(self, a, *, x=1):\n        return a\n"
        },
    )
    code = (
        "import sys; import turnout\n"
        f"d = turnout.BackendDispatcher({group!r}, 'x', trusted_backends={{'light': {{'package': 'light-backend'}}}})\n"
        "@d.backend_dispatch\ndef f(a): return a\n"
        "before = set(sys.modules)\n"
        "assert f(1, backend='light', x=2) == 1\n"
        "print(sorted(set(sys.modules) - before))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(site.root),
        "TURNOUT_CACHE_DIR": str(tmp_path / "cache"),
    }
    for _ in range(2):  # cold, then warm
        output = subprocess.check_output([sys.executable, "-c", code], text=True, env=env)
    loaded = set(ast.literal_eval(output))
    heavy = {"inspect", "importlib.metadata", "typing", "json", "re", "tempfile", "logging"}
    assert not loaded & heavy, loaded & heavy
    assert "light_backend" in loaded


def test_the_testing_helpers_import_without_pytest():
    # benchmarks and backend authors' own scripts use DistributionSite without pytest
    code = "import sys; import turnout.testing; print('pytest' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"
