"""Entry-point discovery: lazy, once, under a lock; trust before import; keeps failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping

from turnout import _lazytyping as t
from turnout._admission import KEEP, SHADOWED, Admission, inspect_backend
from turnout._decision import Owner
from turnout._diagnosis import load_error, why_missing
from turnout._entrypoints import entry_points, load_reference, verify
from turnout._errors import (
    BackendLoadError,
    TurnoutError,
    UnknownBackendError,
)
from turnout._log import debug
from turnout._names import CPU, fold_label, label_problem, suggest
from turnout._policy import Untrusted, stricter
from turnout._registry import BackendStatus, Entry, Origin, Registry
from turnout._static import Declared, StaticInfo, host_version, read_info, version_problem
from turnout._trust import Provider, TrustRule
from turnout._warnings import (
    BackendLoadWarning,
    ConfigurationWarning,
    DeprecatedBackendWarning,
    warn,
)

_PENDING, _LOADING, _DONE = "pending", "loading", "done"


class _StaleCache(Exception):  # noqa: N818 - a signal, not an error users see
    """A cached row did not match its distribution's files: scan again from disk."""


_UNREAD = object()


class _Candidate:
    """An entry point that passed the metadata checks and may be loaded."""

    __slots__ = ("info", "provider", "rule", "shadowed", "state")

    def __init__(self, provider: Provider, rule: TrustRule | None) -> None:
        self.provider = provider
        self.rule = rule  # the trust rule its entry-point name was verified against
        self.state = _PENDING
        self.shadowed: str | None = None  # the name an in-process backend hid it under
        self.info: t.Any = _UNREAD  # its static metadata, read when first needed


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
        self._block_checked = False  # unknown labels in <HOST>_BLOCK are reported once
        self._host_version = host_version
        self._host_package = host_package  # the top-level package of the dispatcher's module
        self._registry = registry
        self._prepare = prepare  # run before each first scan
        self._admission = Admission(
            host_name, rules=rules, reserved=reserved, registry=registry, untrusted=untrusted
        )
        # Re-entrant: a backend module may import the host, and the host may ask
        # for a backend while that import runs.
        self.lock = threading.RLock()
        self._candidates: list[_Candidate] | None = None
        self._shadowed: list[_Candidate] = []  # hidden by an in-process backend, for unshadow
        self._failed_modules: list[str] = []  # in-tree modules that failed to import
        self._warned_untrusted: set[str] = set()
        self.on_ready: Callable[[], None] | None = None  # called after each backend loads
        self.on_reset: Callable[[], None] | None = None  # called when discovery starts over
        self._fresh = False  # the next scan reads from disk, not from the cache

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
            self._candidates = None
            self._shadowed = []
            self._failed_modules = []
            self._admission.forget()
            self._fresh = True
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
        for candidate in self._candidates or ():
            if candidate.state == _LOADING:
                candidate.state = _DONE
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
            candidates = self._scan()
            if label in self._registry.block or self._registry.blocked(label) is not None:
                return None  # as if not installed: nothing is imported for it
            rule = self.rule_for(label)
            for candidate in self._answering(label, rule, candidates):
                self._load(candidate)
                if self._registry.lookup(label) is not None:
                    return self._find(label, instantiate=instantiate)
                if self._registry.failure(label) is not None:
                    return None
        return None

    def _answering(
        self, label: str, rule: TrustRule | None, candidates: list[_Candidate]
    ) -> Iterator[_Candidate]:
        """Yield the entry points that may answer to `label`, in the order to import them.

        First those named after it (after any label of its trusted backend),
        then those whose ``turnout-backend.json`` gives it as name or alias.
        Then those whose code alone may declare it, if the host vouches for
        them: for a trusted label, every other entry point its trust rule
        allows; for any other label, the trusted entry points whose static
        metadata does not give their name. An untrusted entry point is never
        imported for a label its metadata does not give, so a typo runs no
        untrusted code. Lazy: the caller stops at the first that answers.
        """
        names = set(rule.labels) if rule is not None else {label}
        named = [c for c in candidates if c.provider.name in names]
        yield from named
        allowed = [
            c
            for c in candidates
            if c not in named and (rule is None or rule.refusal(c.provider) is None)
        ]
        declaring = [c for c in allowed if label in self._static_labels(c)]
        yield from declaring
        for candidate in allowed:
            if candidate not in declaring and (rule is not None or self._may_declare(candidate)):
                yield candidate

    def _may_declare(self, candidate: _Candidate) -> bool:
        """Whether only a trusted entry point's code can tell which labels it answers to."""
        # untrusted: its code does not run to answer a question
        return candidate.rule is not None and not self._names_itself(candidate)

    def _names_itself(self, candidate: _Candidate) -> bool:
        """Whether an entry point's ``turnout-backend.json`` gives its name (and so its labels)."""
        info = self.info(candidate)
        return info is not None and info.name is not None

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
            pending = [c for c in self._candidates or () if c.state == _PENDING]
        names = [c.provider.name for c in pending if c.rule is None and not self._names_itself(c)]
        if not names:
            return []
        which, whose = ("it is", "its") if len(names) == 1 else ("they are", "their")
        note = (
            f"Note: {', '.join(map(repr, names))} may answer to more labels once imported; "
            f"not trusted by {self.host_name}, {which} imported only for a label "
            f"{whose} metadata gives, or when every backend is loaded (discover(), report(), "
            "available_backend_names())."
        )
        return [note]

    def _static_labels(self, candidate: _Candidate) -> list[str]:
        """Return the labels an entry point answers to before import (reads its static metadata)."""
        info = self.info(candidate)
        declared = () if info is None else (*([info.name] if info.name else []), *info.aliases)
        return self._admission.labels_of(candidate.provider, declared)

    def _shown(self) -> list[str]:
        """Return the labels users may select, and cpu, as far as known without import.

        What loaded backends answer to, and what the metadata of the entry
        points not imported yet gives (`_static_labels`): the list an unknown
        label's error shows and takes its did-you-mean from. Imports nothing.
        """
        with self.lock:
            pending = [c for c in self._scan() if c.state == _PENDING]
        labels = {CPU, *self._registry.labels()}
        for candidate in pending:
            labels.update(self._static_labels(candidate))
        self._admission.flush()
        return sorted(labels)

    # -- scanning ----------------------------------------------------------------

    def _scan(self) -> list[_Candidate]:
        """Read the group's entry-point metadata once and decide trust for each."""
        if self._candidates is not None:
            return self._candidates
        if self._prepare is not None:
            self._prepare()  # import the host's in-tree backend package
        started = time.perf_counter()
        stats: dict[str, t.Any] = {}
        found = entry_points(self.group, fresh=self._fresh, stats=stats)
        self._fresh = False
        # Trusted providers first, then by name and distribution: a stable order
        # so that which of two claimants wins never depends on sys.path order.
        verified = self._admission.verified
        found.sort(key=lambda p: (verified(p) is None, p.name, p.distribution))
        candidates: list[_Candidate] = []
        claimed: dict[str, Provider] = {}
        block = self._registry.block
        answered: set[str] = set()  # every label an entry point answers to before import
        for provider in found:
            candidate = _Candidate(provider, verified(provider))
            if block:  # what <HOST>_BLOCK lists is left out before anything is imported
                labels = self._static_labels(candidate)
                answered.update(labels)
                if self._admission.block(provider, labels):
                    continue
            decision = self._admission.admit(provider, claimed)
            if decision == KEEP:
                claimed[fold_label(provider.name)] = provider
                candidates.append(candidate)
            elif decision == SHADOWED:  # comes back if the in-process backend goes
                self._shadowed.append(candidate)
        self._candidates = candidates
        if block and not self._block_checked:
            self._block_checked = True
            self._check_block(answered)
        debug(
            "%s: entry-point group %r: %d entry points (%d admitted, %d shadowed, %d refused) "
            "among %s distributions on %s sys.path entries, %s metadata folders read, "
            "from %s, in %.1f ms",
            self.host_name,
            self.group,
            len(found),
            len(candidates),
            len(self._shadowed),
            len(found) - len(candidates) - len(self._shadowed),
            stats.get("distributions", "?"),
            stats.get("paths", "?"),
            stats.get("read", "?"),
            stats.get("source", "?"),
            (time.perf_counter() - started) * 1e3,
        )
        return candidates

    def _check_block(self, answered: set[str]) -> None:
        """Report each label ``<HOST>_BLOCK`` lists that no backend answers to (once)."""
        known = {
            *answered,
            *self._admission.trusted_labels(),
            *self._registry.labels(),
            *(label for entry in self._registry.refused() for label in entry.labels),
            *self._deprecated,
        }
        block = self._registry.block
        for label in block.labels:
            if label in known:
                continue
            close = suggest(label, known - set(block.labels) - {CPU})
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            message = (
                f"Environment variable {block.variable} lists {label!r}, but no backend of "
                f"{self.host_name} answers to it: no entry point, trusted backend, "
                f"turnout-backend.json or registered backend gives that name or alias (an "
                f"alias only a backend's code declares blocks it once imported). "
                f"Check its spelling.{hint}"
            )
            self._admission.pending.append((message, ConfigurationWarning))

    def unshadow(self, labels: tuple[str, ...]) -> None:
        """Let entry points an in-process backend hid under `labels` be found again."""
        with self.lock:
            back = [c for c in self._shadowed if c.provider.name in labels]
            self._shadowed = [c for c in self._shadowed if c not in back]
            if self._candidates is not None:
                for candidate in self._candidates:
                    if candidate.shadowed in labels:
                        candidate.state, candidate.shadowed = _PENDING, None
                        back.append(candidate)
                self._candidates = [
                    *(c for c in self._candidates if c not in back),
                    *back,
                ]
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

    def info(self, candidate: _Candidate) -> StaticInfo | None:
        """Return what a candidate's distribution declares (read once, without import)."""
        if candidate.info is _UNREAD:
            candidate.info = read_info(candidate.provider, self.group)
        return candidate.info  # type: ignore[no-any-return]

    def host_version(self) -> str | None:
        """Return the host's version: given to the dispatcher, else its package's."""
        if self._host_version is None and self._host_package:
            self._host_version = host_version(self._host_package)
        return self._host_version

    def _version_problem(self, spec: str | None) -> str | None:
        if spec is None:
            return None
        return version_problem(spec, self.host_version(), self.host_name)

    def declared(self) -> list[Declared]:
        """Return what each backend declares about itself, importing nothing.

        Loaded backends say it themselves (their static metadata fills what they
        leave out); entry points not imported yet, in their static metadata.
        """
        found = []
        for entry in self._registry.ready():
            target = entry.obj if entry.factory is None else entry.factory
            candidate = self._candidate_of(entry.provider) if entry.provider else None
            static = self.info(candidate) if candidate is not None else None
            found.append(Declared.loaded(entry, StaticInfo.of(target), static))
        found.extend(Declared.unloaded(*pending) for pending in self.pending())
        return found

    def pending(self) -> list[tuple[Provider, TrustRule | None, StaticInfo | None]]:
        """Return the entry points admitted but not imported yet, with their static metadata."""
        with self.lock:
            candidates = [c for c in self._scan() if c.state == _PENDING]
        found = [(c.provider, c.rule, self.info(c)) for c in candidates]
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
            candidate = self._candidate_of(entry.provider) if entry.provider else None
            info = self.info(candidate) if candidate is not None else None
            if info is not None and info.function_info:
                found.append((entry, info))
        if unloaded:
            found.extend(
                (entry, info)
                for entry, info in self.unloaded()
                if info is not None and info.function_info
            )
        return found

    def _candidate_of(self, provider: Provider) -> _Candidate | None:
        return next((c for c in self._candidates or () if c.provider is provider), None)

    # -- loading -------------------------------------------------------------------

    def _load(self, candidate: _Candidate) -> None:
        """Import and construct one backend, once; record what happened.

        Anything it raises is recorded (the host keeps working) and it is never
        imported again, except `KeyboardInterrupt` and `SystemExit`: they
        propagate, and the backend counts as not tried yet.
        """
        if candidate.state != _PENDING:
            return  # done, or being imported further up this very stack
        if candidate.provider.cached and not verify(candidate.provider, self.group):
            raise _StaleCache
        info = self.info(candidate)
        problem = self._version_problem(info.host_versions if info is not None else None)
        if problem is not None:  # refused before import, from its metadata
            candidate.state = _DONE
            self._admission.refuse(candidate.provider, candidate.provider.name, problem)
            return
        candidate.state = _LOADING
        target: t.Any = None
        loaded = False
        try:
            target = load_reference(candidate.provider.value)
            backend = target() if isinstance(target, type) else target
            loaded = True
            declared, aliases = inspect_backend(backend)
        except (KeyboardInterrupt, SystemExit):
            candidate.state = _PENDING
            raise
        except BaseException as error:  # noqa: BLE001 - a broken backend must not break the host
            candidate.state = _DONE
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
        candidate.state = _DONE
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
