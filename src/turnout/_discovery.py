"""Entry-point discovery: lazy, once, under a lock; trust before import; keeps failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from turnout import _lazytyping as t
from turnout._admission import Admission
from turnout._errors import (
    BackendLoadError,
    BackendNotInstalledError,
    ReservedBackendError,
    TurnoutError,
    UnknownBackendError,
    UntrustedBackendError,
)
from turnout._metadata import entry_points, load_reference
from turnout._names import CPU, suggest
from turnout._registry import BackendStatus, Entry, Origin, Registry
from turnout._trust import Provider, TrustRule

_PENDING, _LOADING, _DONE = "pending", "loading", "done"


class _Candidate:
    """An entry point that passed the metadata checks and may be loaded."""

    __slots__ = ("provider", "rule", "state")

    def __init__(self, provider: Provider, rule: TrustRule | None) -> None:
        self.provider = provider
        self.rule = rule  # the trust rule its entry-point name was verified against
        self.state = _PENDING


class Discovery:
    """Finds backends for one host: scans metadata once, imports only what is asked.

    Parameters
    ----------
    group
        The entry-point group backends declare.
    host_name
        The host library, for messages.
    rules
        Trusted backends by canonical name.
    reserved
        Reserved labels and the host's reason for each.
    registry
        Where ready, failed and refused backends are recorded.
    """

    def __init__(
        self,
        group: str,
        host_name: str,
        *,
        rules: Mapping[str, TrustRule],
        reserved: Mapping[str, str],
        registry: Registry,
        package: str | None = None,
        untrusted: str = "warn",
    ) -> None:
        self.group = group
        self.host_name = host_name
        self._registry = registry
        self._package = package
        self._admission = Admission(
            host_name, rules=rules, reserved=reserved, registry=registry, untrusted=untrusted
        )
        # Re-entrant: a backend module may import the host, and the host may ask
        # for a backend while that import runs.
        self.lock = threading.RLock()
        self._candidates: list[_Candidate] | None = None
        self._warned_untrusted: set[str] = set()
        self.on_ready: Callable[[], None] | None = None  # called after each backend loads

    def rule_for(self, label: str) -> TrustRule | None:
        """Return the trust rule `label` belongs to, if the host trusts it."""
        return self._admission.rule_for(label)

    def reserved_reason(self, label: str) -> str | None:
        """Return the host's reason for reserving `label`, if it is reserved."""
        return self._admission.reserved_reason(label)

    def refresh(self) -> None:
        """Forget what discovery found, so the next query reads the metadata again."""
        import importlib  # noqa: PLC0415

        with self.lock:
            self._registry.forget_entry_points()
            self._candidates = None
            self._admission.forget()
            importlib.invalidate_caches()

    # -- queries ---------------------------------------------------------------

    def find(self, label: str) -> Entry | None:
        """Return the ready backend for `label`, importing at most what it needs."""
        entry = self._registry.lookup(label)
        if entry is not None and entry.factory is not None:
            entry = self._instantiate(entry, label)
        if entry is not None or label == CPU or self.reserved_reason(label) is not None:
            return entry
        with self.lock:
            candidates = self._scan()
            rule = self.rule_for(label)
            names = set(rule.labels) if rule is not None else {label}
            for candidate in candidates:
                if candidate.provider.name in names:
                    self._load(candidate)
            entry = self._registry.lookup(label)
            if entry is not None or self._registry.failure(label) is not None:
                return self.find(label) if entry is not None else None
            # No entry point is named after `label`, but a backend may declare it
            # as its own name or alias: load the others (for a trusted label, only
            # those its rule allows) until one answers to it.
            for candidate in candidates:
                if rule is None or rule.refusal(candidate.provider) is None:
                    self._load(candidate)
                    if self._registry.lookup(label) is not None:
                        return self.find(label)
        return None

    def _instantiate(self, entry: Entry, label: str) -> Entry | None:
        """Create an in-tree backend's instance on first use (once, under the lock)."""
        with self.lock:
            factory = entry.factory
            if factory is None:
                return entry
            try:
                entry.obj = factory()
            except (Exception, SystemExit) as error:
                self._registry.remove(entry)
                entry.status, entry.error = BackendStatus.FAILED, error
                entry.reason = (
                    f"creating it raised {type(error).__name__}: {error}; fix "
                    f"{entry.describe_source()}"
                )
                self._registry.add_failed(entry)
                raise self._load_error(label, entry) from error
            entry.factory = None
            if self.on_ready is not None:
                self.on_ready()
        return entry

    def select(self, label: object) -> Entry:
        """Return the ready backend for `label` as a user's choice (see `require`).

        The first choice of a backend the host does not trust warns, once per
        backend; a warning turned into an error raises and warns again next time.
        """
        entry = self.require(label)
        if (
            not entry.trusted
            and self._admission.untrusted == "warn"
            and entry.name not in self._warned_untrusted
        ):
            self._admission.warn_untrusted(entry)
            self._warned_untrusted.add(entry.name)
        return entry

    def require(self, label: object) -> Entry:
        """Return the ready backend for `label` or raise the error that explains why not."""
        if isinstance(label, str) and label:
            entry = self.find(label)
            if entry is not None:
                return entry
        raise self.missing(label)

    def get(self, label: object) -> object | None:
        """Return the backend object for `label`; None for ``"cpu"`` or nothing found.

        A backend that failed to load raises its `BackendLoadError`, and one the
        untrusted policy refused raises `UntrustedBackendError`.
        """
        if not isinstance(label, str) or not label or label == CPU:
            return None
        entry = self.find(label)
        if entry is not None:
            return entry.obj
        failed = self._registry.failure(label)
        if failed is not None:
            raise self._load_error(label, failed)
        if self._admission.refused_untrusted(label) is not None:
            raise self.missing(label)
        return None

    def canonical_names(self) -> list[str]:
        """Return the canonical name of each installed backend, sorted (loads all)."""
        self.load_all()
        return [entry.name for entry in self._registry.ready()]

    def has_loaded(self) -> bool:
        """Whether any backend has loaded yet (cheap: no sorting, no loading)."""
        return self._registry.has_ready()

    def loaded_names(self) -> list[str]:
        """Return the canonical names of the backends loaded so far (loads nothing)."""
        return [entry.name for entry in self.loaded_entries()]

    def loaded_entries(self) -> list[Entry]:
        """Return the backends loaded so far, sorted by name (loads nothing, takes no lock)."""
        return [entry for entry in self._registry.ready() if entry.factory is None]

    def load_all(self) -> None:
        """Import every entry point and instantiate every in-tree backend (idempotent).

        A backend that fails is recorded, never raised here.
        """
        with self.lock:
            for candidate in self._scan():
                self._load(candidate)
            for entry in self._registry.ready():
                if entry.factory is not None:
                    try:  # noqa: SIM105 - contextlib would cost import time
                        self._instantiate(entry, entry.name)
                    except BackendLoadError:
                        pass  # recorded as failed; raised when asked for

    def labels(self) -> list[str]:
        """Return every label an installed backend answers to (loads all)."""
        self.load_all()
        return self._registry.labels()

    def missing(self, label: object) -> TurnoutError:
        """Build the error for a label no ready backend answers to."""
        if not isinstance(label, str) or not label:
            return UnknownBackendError(
                label=label, host_name=self.host_name, installed=self._shown()
            )
        failed = self._registry.failure(label)
        if failed is not None:
            return self._load_error(label, failed)
        reason = self.reserved_reason(label)
        if reason is not None:
            return ReservedBackendError(label=label, host_name=self.host_name, reason=reason)
        refused = self._admission.refused_untrusted(label)
        if refused is not None:
            return UntrustedBackendError(
                label=label, host_name=self.host_name, source=refused.describe_source()
            )
        rule = self.rule_for(label)
        if rule is not None:
            return BackendNotInstalledError(
                label=label,
                host_name=self.host_name,
                canonical=rule.canonical,
                package=rule.package,
            )
        installed = self._shown()
        return UnknownBackendError(
            label=label,
            host_name=self.host_name,
            suggestions=suggest(label, installed),
            installed=installed,
        )

    def _shown(self) -> list[str]:
        return sorted({CPU, *self.labels()})

    def _load_error(self, label: str, failed: Entry) -> BackendLoadError:
        error = failed.error
        detail = f"{type(error).__name__}: {error}" if error is not None else str(failed.reason)
        exc = BackendLoadError(
            label=label,
            host_name=self.host_name,
            source=failed.describe_source(),
            error=detail,
        )
        exc.__cause__ = error
        return exc

    # -- scanning ----------------------------------------------------------------

    def _scan(self) -> list[_Candidate]:
        """Read the group's entry-point metadata once and decide trust for each."""
        if self._candidates is not None:
            return self._candidates
        if self._package is not None:
            self._import_package(self._package)
        found = entry_points(self.group)
        # Trusted providers first, then by name and distribution: a stable order
        # so that which of two claimants wins never depends on sys.path order.
        verified = self._admission.verified
        found.sort(key=lambda p: (verified(p) is None, p.name, p.distribution))
        candidates: list[_Candidate] = []
        claimed: dict[str, Provider] = {}
        for provider in found:
            if self._admission.admit(provider, claimed):
                claimed[provider.name] = provider
                candidates.append(_Candidate(provider, verified(provider)))
        self._candidates = candidates
        return candidates

    def _import_package(self, package: str) -> None:
        """Import every module of the host's in-tree backend package (recursively)."""
        import importlib  # noqa: PLC0415
        import pkgutil  # noqa: PLC0415

        def failed(name: str, error: BaseException) -> None:
            self._registry.add_refused(
                Entry(
                    name,
                    origin=Origin.PACKAGE,
                    status=BackendStatus.FAILED,
                    error=error,
                    reason=f"importing in-tree backend module {name} failed: {error!r}",
                )
            )

        try:
            root = importlib.import_module(package)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - reported, host keeps working
            failed(package, error)
            return
        for module in pkgutil.walk_packages(getattr(root, "__path__", []), f"{package}."):
            try:
                importlib.import_module(module.name)
            except (Exception, SystemExit) as error:  # noqa: BLE001, PERF203 - reported
                failed(module.name, error)

    # -- loading -------------------------------------------------------------------

    def _load(self, candidate: _Candidate) -> None:
        """Import and construct one backend, once; record what happened."""
        if candidate.state != _PENDING:
            return  # done, or being imported further up this very stack
        candidate.state = _LOADING
        target: t.Any = None
        try:
            try:
                target = load_reference(candidate.provider.value)
                backend = target() if isinstance(target, type) else target
            # A broken backend must not break the host: record anything it raises
            # but KeyboardInterrupt (and GeneratorExit, which imports never raise).
            except (Exception, SystemExit) as error:  # noqa: BLE001
                self._admission.fail(candidate.provider, candidate.rule, target, error)
            else:
                accepted = self._admission.accept(candidate.provider, candidate.rule, backend)
                if accepted and self.on_ready is not None:
                    self.on_ready()
        except BaseException:
            candidate.state = _PENDING  # KeyboardInterrupt: it may be tried again
            raise
        candidate.state = _DONE
