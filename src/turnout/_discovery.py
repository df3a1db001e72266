"""Entry-point discovery: lazy, once, under a lock; imports what a label needs; keeps failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from turnout import _lazytyping as t
from turnout._admission import KEEP, SHADOWED, Admission, inspect_backend
from turnout._catalog import DONE, LOADING, PENDING, Candidate, Catalog
from turnout._decision import Owner
from turnout._diagnosis import load_error, why_missing
from turnout._entrypoints import load_reference, verify
from turnout._errors import (
    BackendLoadError,
    TurnoutError,
    UnknownBackendError,
)
from turnout._names import CPU, label_problem
from turnout._policy import Untrusted, stricter
from turnout._registry import BackendStatus, Entry, Origin, Registry
from turnout._static import Declared, StaticInfo, host_version, version_problem
from turnout._trust import Provider, TrustRule
from turnout._warnings import (
    BackendLoadWarning,
    DeprecatedBackendWarning,
    warn,
)


class _StaleCache(Exception):  # noqa: N818 - a signal, not an error users see
    """A cached row did not match its distribution's files: scan again from disk."""


class Discovery:
    """Finds backends for one host: imports only what is asked, once, under one lock.

    What the entry points are and what their metadata says comes from its
    `Catalog`; Discovery imports and constructs them, records what happened,
    answers lookups and recovers after a fork.

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
        prepare: Callable[[], None] | None = None,
        untrusted: str = "warn",
        deprecated: Mapping[str, str] | None = None,
        host_version: str | None = None,
        host_package: str = "",
    ) -> None:
        self.group = group
        self.host_name = host_name
        self._deprecated = dict(deprecated or {})
        self._warned_deprecated: set[str] = set()
        # <HOST>_BLOCK listing a deprecated label blocks the backend that label selects
        registry.block = registry.block.renamed(self._deprecated)
        self._host_version = host_version
        self._host_package = host_package  # the top-level package of the dispatcher's module
        self._registry = registry
        self._admission = Admission(
            host_name, rules=rules, reserved=reserved, registry=registry, untrusted=untrusted
        )
        # Re-entrant: a backend module may import the host, and the host may ask
        # for a backend while that import runs.
        self.lock = threading.RLock()
        self._catalog = Catalog(
            group,
            host_name,
            admission=self._admission,
            registry=registry,
            deprecated=self._deprecated,
            prepare=prepare,
        )
        self._failed_modules: list[str] = []  # in-tree modules that failed to import
        self._warned_untrusted: set[str] = set()
        self.on_ready: Callable[[], None] | None = None  # called after each backend loads
        self.on_reset: Callable[[], None] | None = None  # called when discovery starts over

    @property
    def deprecated(self) -> Mapping[str, str]:
        """Deprecated labels and the labels that replace them."""
        return self._deprecated

    def rule_for(self, label: str) -> TrustRule | None:
        """Return the trust rule `label` belongs to, if the host trusts it."""
        return self._admission.rule_for(label)

    def reserved_reason(self, label: str) -> str | None:
        """Return the host's reason for reserving `label`, if it is reserved."""
        return self._admission.reserved_reason(label)

    def refresh(self) -> None:
        """Forget what discovery found; the next query reads the metadata from disk again.

        The next scan bypasses the disk cache (and rewrites it).
        """
        import importlib  # noqa: PLC0415

        with self.lock:
            self._registry.forget_entry_points()
            self._catalog.forget()
            self._failed_modules = []
            self._admission.forget()
            importlib.invalidate_caches()
        if self.on_reset is not None:
            self.on_reset()

    @property
    def untrusted(self) -> str:
        """The policy for backends the host does not trust."""
        return self._admission.untrusted

    def tighten_untrusted(self, policy: str) -> None:
        """Make the untrusted policy `policy` if that is stricter; start over if it changed."""
        new = stricter(Untrusted(self._admission.untrusted), Untrusted(policy))
        if new != self._admission.untrusted:
            with self.lock:
                self._admission.untrusted = new
            self.refresh()  # backends admitted under the looser policy are looked at again

    def after_fork(self) -> None:
        """In a child process: a new lock, and no import left half done.

        A thread of the parent may have held the lock, or been importing a
        backend, when the process forked; that thread does not exist here. Its
        half-imported module (and Python's lock on it) came along, so the child
        records that backend as failed rather than import it again.
        """
        self.lock = threading.RLock()
        for candidate in self._catalog.candidates or ():
            if candidate.state == LOADING:
                candidate.state = DONE
                error = RuntimeError(
                    "its import was in progress in another thread when the process forked, "
                    "so this process cannot finish it; select it in the parent before forking"
                )
                self._admission.fail(candidate.provider, candidate.rule, None, error)

    # -- queries ---------------------------------------------------------------

    def find(self, label: str, *, instantiate: bool = True) -> Entry | None:
        """Return the ready backend for `label`, importing at most what it needs.

        With `instantiate` false, an in-tree backend class is not instantiated yet.
        """
        try:
            found = self._find(label, instantiate=instantiate)
        except _StaleCache:
            self.refresh()  # rows from the cache did not match the files: read the files
            found = self._find(label, instantiate=instantiate)
        self._admission.flush()
        return found

    def _find(self, label: str, *, instantiate: bool = True) -> Entry | None:
        entry = self._registry.lookup(label)
        if entry is not None and entry.factory is not None and instantiate:
            entry = self._instantiate(entry, label)
        if entry is not None or label == CPU or self.reserved_reason(label) is not None:
            return entry
        with self.lock:
            candidates = self._catalog.scan()
            if label in self._registry.block or self._registry.blocked(label) is not None:
                return None  # as if not installed: nothing is imported for it
            rule = self.rule_for(label)
            for candidate in self._catalog.answering(label, rule, candidates):
                self._load(candidate)
                if self._registry.lookup(label) is not None:
                    return self._find(label, instantiate=instantiate)
                if self._registry.failure(label) is not None:
                    return None
        return None

    def _instantiate(self, entry: Entry, label: str) -> Entry | None:
        """Create an in-tree backend's instance on first use (once, under the lock)."""
        with self.lock:
            factory = entry.factory
            if factory is None:
                return entry
            try:
                entry.obj = factory()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as error:
                self._registry.remove(entry)
                entry.status, entry.error = BackendStatus.FAILED, error
                entry.reason = (
                    f"creating it raised {type(error).__name__}: {error}; fix "
                    f"{entry.describe_source()}"
                )
                self._registry.add_failed(entry)
                raise load_error(label, self.host_name, entry) from error
            entry.factory = None
            if self.on_ready is not None:
                self.on_ready()
        return entry

    def select(self, label: object) -> Entry:
        """Return the ready backend for `label` as a user's choice (see `require`).

        The first choice of a backend the host does not trust warns, once per
        backend; a warning turned into an error raises and warns again next time.
        """
        if isinstance(label, str) and label in self._deprecated:
            label = self._deprecate(label)
        entry = self.require(label)
        if (
            not entry.trusted
            and self._admission.untrusted == "warn"
            and entry.name not in self._warned_untrusted
        ):
            self._admission.warn_untrusted(entry)
            self._warned_untrusted.add(entry.name)
        return entry

    def _deprecate(self, label: str) -> str:
        """Warn (once per label) that the host deprecated `label`; return its replacement."""
        new = self._deprecated[label]
        if label not in self._warned_deprecated:
            warn(
                f"Backend name {label!r} is deprecated by {self.host_name}; use {new!r} instead.",
                DeprecatedBackendWarning,
            )
            self._warned_deprecated.add(label)
        return new

    def require(self, label: object) -> Entry:
        """Return the ready backend for `label` or raise the error that explains why not.

        A label that cannot be valid (``" cpu "``) raises at once, importing nothing.
        """
        if isinstance(label, str) and label:
            problem = label_problem(label)
            if problem is not None:
                raise UnknownBackendError(
                    label=label, host_name=self.host_name, problem=problem, installed=self._shown()
                )
            entry = self.find(label)
            if entry is not None:
                return entry
        raise self.missing(label)

    def get(self, label: object) -> object | None:
        """Return the backend object for `label`; None if no usable backend answers to it.

        None for ``"cpu"``, an unknown label, a trusted backend not installed, and
        one that failed or was refused, as scverse-backends does; `report` and
        `explain` tell why, and a call that selects the label raises the precise
        error. A label that is not a non-empty string raises `UnknownBackendError`.
        """
        if not isinstance(label, str) or not label:
            raise self.missing(label)
        if label == CPU:
            return None
        label = self._deprecated.get(label, label)
        try:
            entry = self.find(label)
        except BackendLoadError:  # an in-tree backend that failed to construct
            return None
        return entry.obj if entry is not None else None

    def canonical_names(self) -> list[str]:
        """Return the canonical name of each installed backend, sorted (loads all)."""
        self.load_all()
        return [entry.name for entry in self._registry.ready()]

    def has_loaded(self) -> bool:
        """Whether any backend has loaded yet (cheap: no sorting, no loading)."""
        return self._registry.has_ready()

    def loaded_entries(self) -> list[Entry]:
        """Return the backends loaded so far, sorted by name (loads nothing, takes no lock)."""
        return [entry for entry in self._registry.ready() if entry.factory is None]

    def load_all(self) -> None:
        """Import every entry point and instantiate every in-tree backend (idempotent).

        A backend that fails is recorded, never raised here.
        """
        try:
            self._load_all()
        except _StaleCache:
            self.refresh()  # rows from the cache did not match the files: read the files
            self._load_all()
        self._admission.flush()

    def _load_all(self) -> None:
        with self.lock:
            for candidate in self._catalog.scan():
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
        notes = [f"Note: {reason[0].upper()}{reason[1:]}." for reason in self._failed_modules]
        return why_missing(
            label,
            host_name=self.host_name,
            admission=self._admission,
            registry=self._registry,
            installed=self._shown,
            notes=[*notes, *self._unasked()],
        )

    def _unasked(self) -> list[str]:
        """Say which untrusted entry points may answer to more labels than their metadata gives."""
        with self.lock:
            pending = [c for c in self._catalog.candidates or () if c.state == PENDING]
        return self._catalog.unasked(pending)

    def _shown(self) -> list[str]:
        """Return the labels users may select, and cpu, as far as known without import."""
        with self.lock:
            pending = self._catalog.pending()
        shown = self._catalog.shown(pending)
        self._admission.flush()
        return shown

    # -- scanning ----------------------------------------------------------------

    def unshadow(self, labels: tuple[str, ...]) -> None:
        """Let entry points an in-process backend hid under `labels` be found again."""
        with self.lock:
            self._catalog.unshadow(labels)
            self._registry.forget_shadowed(labels)

    def module_failed(self, name: str, error: BaseException) -> None:
        """Record an in-tree backend module that failed to import (it is reported)."""
        reason = (
            f"importing in-tree backend module {name} failed with "
            f"{type(error).__name__}: {error}; the backends it defines are missing"
        )
        self._registry.add_refused(
            Entry(
                name, origin=Origin.PACKAGE, status=BackendStatus.FAILED, error=error, reason=reason
            )
        )
        self._failed_modules.append(reason)
        self._admission.pending.append((f"{self.host_name}: {reason}.", BackendLoadWarning))

    # -- static metadata -----------------------------------------------------------

    def host_version(self) -> str | None:
        """Return the host's version: given to the dispatcher, else its package's."""
        if self._host_version is None and self._host_package:
            self._host_version = host_version(self._host_package)
        return self._host_version

    def _version_problem(self, spec: str | None) -> str | None:
        if spec is None:
            return None
        return version_problem(spec, self.host_version(), self.host_name)

    def static_info(self, entry: Entry) -> StaticInfo | None:
        """Return what a backend's entry point declares in turnout-backend.json (read once)."""
        return self._catalog.info(self._catalog.candidate_of(entry.provider))

    def declared(self) -> list[Declared]:
        """Return what each backend declares about itself, importing nothing.

        Loaded backends say it themselves (their static metadata fills what they
        leave out); entry points not imported yet, in their static metadata.
        """
        found = []
        for entry in self._registry.ready():
            target = entry.obj if entry.factory is None else entry.factory
            static = self.static_info(entry)
            found.append(Declared.loaded(entry, StaticInfo.of(target), static))
        found.extend(Declared.unloaded(*pending) for pending in self.pending())
        return found

    def pending(self) -> list[tuple[Provider, TrustRule | None, StaticInfo | None]]:
        """Return the entry points admitted but not imported yet, with their static metadata."""
        with self.lock:
            candidates = self._catalog.pending()
        found = [(c.provider, c.rule, self._catalog.info(c)) for c in candidates]
        self._admission.flush()
        return found

    def owners(self) -> list[Owner]:
        """Return every backend that declares types it owns (importing nothing)."""
        owners: dict[str, Owner] = {}
        for declared in self.declared():
            owner = declared.owner()
            if owner is not None:
                owners.setdefault(owner.name, owner)
        return sorted(owners.values(), key=lambda owner: owner.name)

    def unloaded(self) -> list[tuple[Entry, StaticInfo | None]]:
        """Return the entry points admitted but not imported yet, as ``NOT_LOADED`` entries."""
        return [(Declared.unloaded(*pending).entry, pending[2]) for pending in self.pending()]

    def described(self, *, unloaded: bool = False) -> list[tuple[Entry, StaticInfo]]:
        """Pair backends with the ``turnout-backend.json`` that says something of their functions.

        Loaded entry points always (their file was read when they loaded); the
        ones not imported yet only if `unloaded` (``discover(import_backends=False)``),
        which scans but imports nothing. In-process backends have no file.
        """
        found: list[tuple[Entry, StaticInfo]] = []
        for entry in self.loaded_entries():
            info = self.static_info(entry)
            if info is not None and info.function_info:
                found.append((entry, info))
        if unloaded:
            found.extend(
                (entry, info)
                for entry, info in self.unloaded()
                if info is not None and info.function_info
            )
        return found

    # -- loading -------------------------------------------------------------------

    def _load(self, candidate: Candidate) -> None:
        """Import and construct one backend, once; record what happened.

        Anything it raises is recorded (the host keeps working) and it is never
        imported again, except `KeyboardInterrupt` and `SystemExit`: they
        propagate, and the backend counts as not tried yet.
        """
        if candidate.state != PENDING:
            return  # done, or being imported further up this very stack
        if candidate.provider.cached and not verify(candidate.provider, self.group):
            raise _StaleCache
        info = self._catalog.info(candidate)
        problem = self._version_problem(info.host_versions if info is not None else None)
        if problem is not None:  # refused before import, from its metadata
            candidate.state = DONE
            self._admission.refuse(candidate.provider, candidate.provider.name, problem)
            return
        candidate.state = LOADING
        target: t.Any = None
        loaded = False
        try:
            target = load_reference(candidate.provider.value)
            backend = target() if isinstance(target, type) else target
            loaded = True
            declared, aliases = inspect_backend(backend)
        except (KeyboardInterrupt, SystemExit):
            candidate.state = PENDING
            raise
        except BaseException as error:  # noqa: BLE001 - a broken backend must not break the host
            candidate.state = DONE
            self._admission.fail(candidate.provider, candidate.rule, target, error)
            if loaded:  # it imported, then broke when asked who it is: say so now
                message = (
                    f"{self.host_name}: the backend of {candidate.provider.describe()} is "
                    f"left out: reading its name, aliases or repr raised "
                    f"{type(error).__name__}: {error}. Fix or reinstall "
                    f"{candidate.provider.distribution}; the other backends keep working."
                )
                self._admission.pending.append((message, BackendLoadWarning))
            return
        candidate.state = DONE
        problem = self._version_problem(StaticInfo.of(backend).host_versions)
        if problem is not None:  # declared by the backend object only: refused after import
            self._admission.refuse(candidate.provider, candidate.provider.name, problem)
            return
        decision = self._admission.accept(
            candidate.provider, candidate.rule, backend, declared, aliases
        )
        if decision == SHADOWED:
            candidate.shadowed = str(declared) if isinstance(declared, str) else None
        if decision == KEEP and self.on_ready is not None:
            self.on_ready()
