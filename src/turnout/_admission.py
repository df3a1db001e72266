"""Admission: whether an entry point may be imported, and what a loaded backend becomes.

Every decision about trust, labels and claims for one host lives here; the
discovery module decides only when to read metadata and what to import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from turnout._names import (
    CPU,
    entry_point_problem,
    fold_label,
    label_problem,
    normalize_distribution,
)
from turnout._registry import CLAIMED, BackendStatus, Entry, Origin, Registry
from turnout._trust import Provider, TrustRule
from turnout._warnings import (
    EntryPointRejectedWarning,
    ShadowedBackendWarning,
    TurnoutWarning,
    UntrustedBackendWarning,
    warn,
)

_ALIAS_TYPES = (list, tuple, set, frozenset)
# What admit and accept decide
KEEP, SHADOWED, REFUSED, BLOCKED = "keep", "shadowed", "refused", "blocked"
_NO_ALIASES: tuple[str, ...] = ()


def inspect_backend(backend: object) -> tuple[object, object]:
    """Return a loaded backend's declared ``name`` and ``aliases``.

    Also takes its ``repr`` and asks for an attribute it surely lacks: a backend
    whose ``name``, ``aliases``, ``__repr__`` or ``__getattr__`` raises fails
    here, as if it had raised on import, rather than later in a query that
    touches every backend.
    """
    declared = getattr(backend, "name", None)
    aliases = getattr(backend, "aliases", _NO_ALIASES)
    if isinstance(aliases, (set, frozenset)):
        aliases = tuple(sorted(aliases, key=str))  # no order of their own: a stable one
    elif isinstance(aliases, (list, tuple)):
        aliases = tuple(aliases)
    repr(backend)
    getattr(backend, "__turnout_no_such_attribute__", None)
    return declared, aliases


class Admission:
    """One host's trust rules, reserved labels and untrusted policy, applied.

    Parameters
    ----------
    host_name
        The host library, for messages.
    rules
        Trusted backends by canonical name.
    reserved
        Reserved labels and the host's reason for each.
    registry
        Where accepted, failed and refused backends are recorded.
    untrusted
        ``"allow"``, ``"warn"`` or ``"error"``.
    """

    def __init__(
        self,
        host_name: str,
        *,
        rules: Mapping[str, TrustRule],
        reserved: Mapping[str, str],
        registry: Registry,
        untrusted: str,
    ) -> None:
        self.host_name = host_name
        self._reserved = dict(reserved)
        self._registry = registry
        self.untrusted = untrusted
        self._trusted = {label: rule for rule in rules.values() for label in rule.labels}
        # Claims compare folded labels: no look-alike of cpu, a reserved or a trusted label.
        self._folded_trusted = {fold_label(label): rule for label, rule in self._trusted.items()}
        self._folded_reserved = {fold_label(label): label for label in reserved}
        self._trusted_dists = {d for rule in rules.values() for d in rule.distributions}
        self._refused_untrusted: dict[str, Entry] = {}
        # Warnings wait until the registry is consistent: a filter that turns one
        # into an error must not leave discovery half done.
        self.pending: list[tuple[str, type[TurnoutWarning]]] = []

    def flush(self) -> None:
        """Emit the warnings recorded so far (each once, even if one raises)."""
        while self.pending:
            message, category = self.pending.pop(0)
            warn(message, category)

    def trusted_labels(self) -> list[str]:
        """Return every label of every trusted backend, installed or not."""
        return list(self._trusted)

    def rule_for(self, label: str) -> TrustRule | None:
        """Return the trust rule `label` belongs to, if the host trusts it."""
        return self._trusted.get(label)

    def reserved_reason(self, label: str) -> str | None:
        """Return the host's reason for reserving `label`, if it is reserved."""
        return self._reserved.get(label)

    def refused_untrusted(self, label: str) -> Entry | None:
        """Return the entry the untrusted policy refused under `label`, if any."""
        return self._refused_untrusted.get(label)

    def forget(self) -> None:
        """Forget policy refusals (discovery starts over)."""
        self._refused_untrusted.clear()

    def labels_of(self, provider: Provider, declared: Sequence[str] = ()) -> list[str]:
        """Return the labels an entry point answers to before import.

        Its name, the host's trusted labels when its name is one of them, and
        `declared` (its ``turnout-backend.json`` name and aliases) except
        ``cpu``, reserved labels and labels of another trusted backend.
        """
        rule = self._trusted.get(provider.name)
        labels = [provider.name, *(rule.labels if rule is not None else ())]
        for label in declared:
            owner = self._trusted.get(label)
            if owner is not None and owner is not rule:
                continue  # a trusted backend's label: never this entry point's by its say-so
            if self._reserved_refusal(label) is None:
                labels.append(label)
        return list(dict.fromkeys(labels))

    def block(self, provider: Provider, labels: Sequence[str]) -> bool:
        """Record an entry point ``<HOST>_BLOCK`` leaves out, before import; say whether it did.

        `labels` are those it answers to before import (`labels_of`).
        """
        matched = self._registry.block.matches(labels)
        if not matched:
            return False
        entry = Entry(
            labels[0],
            labels=tuple(labels),
            provider=provider,
            trusted=self.verified(provider) is not None,
        )
        self._registry.add_blocked(entry, matched)
        return True

    def admit(self, provider: Provider, claimed: Mapping[str, Provider]) -> str:
        """Decide from metadata alone whether to keep an entry point; record a refusal.

        Returns `KEEP`, `SHADOWED` (an in-process backend holds its name) or `REFUSED`.
        """
        holder = self._registry.lookup(provider.name)
        if holder is not None and holder.in_process:
            self._shadow(provider, provider.name, holder)
            return SHADOWED
        reason = self._precheck(provider, claimed)
        if reason is not None:
            self._refuse(provider, provider.name, reason)
            return REFUSED
        if self.untrusted == "error" and not self._may_be_trusted(provider):
            self._refuse_untrusted(provider, provider.name)
            return REFUSED
        return KEEP

    def _may_be_trusted(self, provider: Provider) -> bool:
        """Whether an entry point may provide a trusted backend (so may be imported)."""
        if self.verified(provider) is not None:
            return True
        return normalize_distribution(provider.distribution) in self._trusted_dists

    def _refuse_untrusted(self, provider: Provider, name: str) -> None:
        entry = Entry(
            name,
            provider=provider,
            status=BackendStatus.REJECTED,
            reason=(
                f"{self.host_name} refuses untrusted backends (untrusted='error'); it was "
                "not imported. Ask the host to list it in trusted_backends"
            ),
        )
        self._registry.add_refused(entry)
        self._refused_untrusted.setdefault(name, entry)

    def verified(self, provider: Provider) -> TrustRule | None:
        rule = self._trusted.get(provider.name)
        if rule is not None and rule.refusal(provider) is None:
            return rule
        return None

    def _precheck(self, provider: Provider, claimed: Mapping[str, Provider]) -> str | None:
        """Return why an entry point is refused before import, or None to keep it."""
        name = provider.name
        problem = label_problem(name)
        if problem is not None:
            return f"its name is invalid: {problem}; the package must rename its entry point"
        problem = entry_point_problem(provider.value)
        if problem is not None:
            return f"its value is invalid: {problem}; the package must fix its entry point"
        refusal = self._refusal(name, provider)
        if refusal is not None:
            return refusal
        earlier = claimed.get(fold_label(name))
        if earlier is not None:
            alike = "" if earlier.name == name else f" (as {earlier.name!r}, a look-alike)"
            return (
                f"{name!r} {CLAIMED} {earlier.describe()}{alike}; uninstall one of the two packages"
            )
        return None

    def fail(
        self, provider: Provider, rule: TrustRule | None, target: object, error: BaseException
    ) -> None:
        """Record a backend whose import or construction raised."""
        labels = [provider.name]
        if rule is not None:
            labels.extend(rule.labels)
        # A class that failed to construct still tells the names it would answer to.
        try:
            declared = getattr(target, "name", None) if target is not None else None
            aliases = getattr(target, "aliases", ()) if target is not None else ()
        except Exception:  # noqa: BLE001 - a hostile class: its entry-point name will do
            declared, aliases = None, ()
        if not isinstance(aliases, _ALIAS_TYPES):
            aliases = ()
        labels.extend(
            label
            for label in (declared, *aliases)
            if isinstance(label, str) and label_problem(label) is None
        )
        labels = [
            label for label in dict.fromkeys(labels) if label != CPU and label not in self._reserved
        ]
        entry = Entry(
            labels[0] if rule is None else rule.canonical,
            labels=tuple(labels),
            origin=Origin.ENTRY_POINT,
            provider=provider,
            trusted=rule is not None,
            status=BackendStatus.FAILED,
            error=error,
            reason=(
                f"importing it raised {type(error).__name__}: {error}; fix or reinstall "
                f"{provider.distribution}, or uninstall it"
            ),
        )
        self._registry.add_failed(entry)

    def accept(
        self,
        provider: Provider,
        rule: TrustRule | None,
        backend: object,
        declared: object,
        aliases: object,
    ) -> str:
        """Register a loaded backend, or refuse it; return `KEEP`, `SHADOWED` or `REFUSED`.

        `declared` and `aliases` are what `inspect_backend` read from it.
        """
        if rule is not None:
            name = rule.canonical
        elif declared is None:
            name = provider.name
        else:
            problem = label_problem(declared)
            if problem is not None:
                self._refuse(provider, provider.name, f"its backend name is invalid: {problem}")
                return REFUSED
            name = str(declared)
        holder = self._registry.lookup(name)
        if holder is not None and holder.in_process:
            self._shadow(provider, name, holder)
            return SHADOWED
        reason = self._claim_problem(name, provider)
        if reason is not None:
            self._refuse(provider, name, reason)
            return REFUSED
        if rule is None:
            rule = self._trusted.get(name)  # verified by _claim_problem when present
        if rule is None and self.untrusted == "error":
            self._refuse_untrusted(provider, name)
            return REFUSED
        labels = self._labels(name, aliases, provider, rule)
        entry = Entry(
            name,
            labels=labels,
            obj=backend,
            provider=provider,
            trusted=rule is not None,
        )
        self._registry.add_ready(entry)  # blocked instead if one of its labels is blocked
        return KEEP if entry.status is BackendStatus.READY else BLOCKED

    def warn_untrusted(self, entry: Entry) -> None:
        """Warn that a backend the host does not trust was selected (the caller warns once)."""
        provider = entry.provider
        source = provider.describe() if provider is not None else entry.describe_source()
        dist = provider.distribution if provider is not None else "its package"
        warn(
            f"Backend {entry.name!r} from {source} is not in {self.host_name}'s trusted "
            f"backends; it runs with the same rights as {self.host_name}. Uninstall {dist} "
            "if you did not mean to install it.",
            UntrustedBackendWarning,
        )

    def _refusal(self, label: str, provider: Provider) -> str | None:
        """Return why `provider` may never take `label`: cpu, reserved, or trusted elsewhere.

        Look-alikes count (`fold_label`): ``CPU``, ``Hx-Good`` beside a trusted
        ``hx_good``; the trusted provider itself may still take them.
        """
        reason = self._reserved_refusal(label)
        if reason is not None:
            return reason
        rule = self._trusted.get(label)
        if rule is not None:
            return rule.refusal(provider)
        owner = self._folded_trusted.get(fold_label(label))
        if owner is not None and owner.refusal(provider) is not None:
            return (
                f"{label!r} is a look-alike of trusted backend {owner.canonical!r}, which must "
                f"come from {owner.package}; uninstall {provider.distribution}"
            )
        return None

    def _reserved_refusal(self, label: str) -> str | None:
        """Return why no provider may take `label`: cpu, reserved, or a look-alike of either."""
        folded = fold_label(label)
        if label == CPU:
            return "'cpu' always means the host's own code and cannot be claimed"
        if folded == CPU:
            return f"{label!r} is a look-alike of 'cpu', which always means the host's own code"
        if label in self._reserved:
            return f"{label!r} is reserved by {self.host_name}: {self._reserved[label]}"
        if folded in self._folded_reserved:
            reserved = self._folded_reserved[folded]
            return (
                f"{label!r} is a look-alike of reserved {reserved!r} "
                f"({self.host_name}: {self._reserved[reserved]})"
            )
        return None

    def _claim_problem(self, label: str, provider: Provider) -> str | None:
        """Return why `provider` may not take `label` now (held, or a look-alike of a held one)."""
        refusal = self._refusal(label, provider)
        if refusal is not None:
            return refusal
        holder = self._registry.lookup(label)
        if holder is not None:
            return f"{label!r} {CLAIMED} {holder.describe_source()}"
        folded = fold_label(label)
        for held in self._registry.labels():
            if fold_label(held) == folded:
                alike = self._registry.lookup(held)
                source = alike.describe_source() if alike is not None else "another backend"
                return f"{label!r} is a look-alike of {held!r}, which {CLAIMED} {source}"
        return None

    def _labels(
        self, name: str, own: object, provider: Provider, rule: TrustRule | None
    ) -> tuple[str, ...]:
        wanted: list[object] = [name, *(rule.aliases if rule is not None else ()), provider.name]
        if isinstance(own, tuple):
            wanted.extend(own)
        else:
            self._warn(
                f"{provider.describe()}: backend.aliases must be a list, tuple or set "
                "of labels; its aliases are ignored"
            )
        labels: list[str] = []
        for item in wanted:
            problem = label_problem(item)
            label = str(item)
            if problem is None and label in labels:
                continue
            if problem is None and label != name:
                problem = self._claim_problem(label, provider)
                owner = self._trusted.get(label)
                if problem is None and owner is not None and owner is not rule:
                    problem = f"{label!r} belongs to trusted backend {owner.canonical!r}"
            if problem is not None:
                self._warn(
                    f"Alias ignored for backend {name!r} from {provider.describe()}: {problem}"
                )
                continue
            labels.append(label)
        return tuple(labels)

    def refuse(self, provider: Provider, name: str, reason: str) -> None:
        """Record an entry point refused for `reason`, with a warning."""
        self._refuse(provider, name, reason)

    def _refuse(self, provider: Provider, name: str, reason: str) -> None:
        self._registry.add_refused(
            Entry(name, provider=provider, status=BackendStatus.REJECTED, reason=reason)
        )
        self._warn(f"Entry point refused by {self.host_name}: {provider.describe()}: {reason}")

    def _shadow(self, provider: Provider, name: str, holder: Entry) -> None:
        reason = (
            f"{name!r} is held by {holder.describe_source()}, which the host process "
            "registered; the in-process backend wins"
        )
        self._registry.add_refused(
            Entry(name, provider=provider, status=BackendStatus.SHADOWED, reason=reason)
        )
        message = (
            f"Entry point hidden in {self.host_name}: {provider.describe()}: {reason}. "
            f"Uninstall {provider.distribution}, or rename one of the two."
        )
        self.pending.append((message, ShadowedBackendWarning))

    def _warn(self, message: str) -> None:
        self.pending.append((message, EntryPointRejectedWarning))
