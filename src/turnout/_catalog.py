"""A host's entry points as their metadata describes them: scanned once, never imported here.

`Catalog` reads the group's entry points (through `turnout._entrypoints`),
admits each before any import (`turnout._admission`), leaves out what
``<HOST>_BLOCK`` lists, and answers what is known without running backend code:
each entry point's ``turnout-backend.json``, the labels it answers to, and which
entry points may answer to a label, in the order to import them. Importing is
`turnout._discovery`'s; every method here runs under its lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from turnout import _lazytyping as t
from turnout._admission import KEEP, SHADOWED, Admission
from turnout._entrypoints import entry_points
from turnout._log import debug
from turnout._names import CPU, fold_label, suggest
from turnout._registry import Registry
from turnout._static import StaticInfo, read_info
from turnout._trust import Provider, TrustRule
from turnout._warnings import ConfigurationWarning

PENDING, LOADING, DONE = "pending", "loading", "done"
_UNREAD = object()


class Candidate:
    """An entry point that passed the metadata checks and may be loaded."""

    __slots__ = ("info", "provider", "rule", "shadowed", "state")

    def __init__(self, provider: Provider, rule: TrustRule | None) -> None:
        self.provider = provider
        self.rule = rule  # the trust rule its entry-point name was verified against
        self.state = PENDING
        self.shadowed: str | None = None  # the name an in-process backend hid it under
        self.info: t.Any = _UNREAD  # its static metadata, read when first needed


class Catalog:
    """The entry points of one group, read once, with what their metadata says.

    Parameters
    ----------
    group
        The entry-point group backends declare.
    host_name
        The host library, for messages.
    admission
        Decides, before import, which entry points are kept.
    registry
        Where refusals are recorded, and the host's ``<HOST>_BLOCK``.
    deprecated
        Deprecated labels and their replacements (a blocked one is known).
    prepare
        Run before each first scan (the import of the host's in-tree backends).
    """

    def __init__(
        self,
        group: str,
        host_name: str,
        *,
        admission: Admission,
        registry: Registry,
        deprecated: Mapping[str, str],
        prepare: Callable[[], None] | None = None,
    ) -> None:
        self.group = group
        self.host_name = host_name
        self._admission = admission
        self._registry = registry
        self._deprecated = deprecated
        self._prepare = prepare
        self.candidates: list[Candidate] | None = None  # None: not scanned yet
        self.shadowed: list[Candidate] = []  # hidden by an in-process backend, for unshadow
        self._fresh = False  # the next scan reads from disk, not from the cache
        self._block_checked = False  # unknown labels in <HOST>_BLOCK are reported once

    def forget(self) -> None:
        """Start over: the next scan reads the files, not the cache."""
        self.candidates = None
        self.shadowed = []
        self._fresh = True

    # -- the scan ------------------------------------------------------------------

    def scan(self) -> list[Candidate]:
        """Read the group's entry-point metadata once and decide trust for each."""
        if self.candidates is not None:
            return self.candidates
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
        candidates: list[Candidate] = []
        claimed: dict[str, Provider] = {}
        block = self._registry.block
        answered: set[str] = set()  # every label an entry point answers to before import
        for provider in found:
            candidate = Candidate(provider, verified(provider))
            if block:  # what <HOST>_BLOCK lists is left out before anything is imported
                labels = self.static_labels(candidate)
                answered.update(labels)
                if self._admission.block(provider, labels):
                    continue
            decision = self._admission.admit(provider, claimed)
            if decision == KEEP:
                claimed[fold_label(provider.name)] = provider
                candidates.append(candidate)
            elif decision == SHADOWED:  # comes back if the in-process backend goes
                self.shadowed.append(candidate)
        self.candidates = candidates
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
            len(self.shadowed),
            len(found) - len(candidates) - len(self.shadowed),
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
        back = [c for c in self.shadowed if c.provider.name in labels]
        self.shadowed = [c for c in self.shadowed if c not in back]
        if self.candidates is not None:
            for candidate in self.candidates:
                if candidate.shadowed in labels:
                    candidate.state, candidate.shadowed = PENDING, None
                    back.append(candidate)
            self.candidates = [*(c for c in self.candidates if c not in back), *back]

    def pending(self) -> list[Candidate]:
        """Return the entry points admitted but not imported yet (scans if needed)."""
        return [c for c in self.scan() if c.state == PENDING]

    def candidate_of(self, provider: Provider | None) -> Candidate | None:
        """Return the candidate of `provider`, if it was scanned."""
        if provider is None:
            return None
        return next((c for c in self.candidates or () if c.provider is provider), None)

    # -- what metadata says, without import ------------------------------------------

    def info(self, candidate: Candidate | None) -> StaticInfo | None:
        """Return what a candidate's distribution declares (read once, without import)."""
        if candidate is None:
            return None
        if candidate.info is _UNREAD:
            candidate.info = read_info(candidate.provider, self.group)
        return candidate.info  # type: ignore[no-any-return]

    def static_labels(self, candidate: Candidate) -> list[str]:
        """Return the labels an entry point answers to before import (its static metadata)."""
        info = self.info(candidate)
        declared = () if info is None else (*([info.name] if info.name else []), *info.aliases)
        return self._admission.labels_of(candidate.provider, declared)

    def names_itself(self, candidate: Candidate) -> bool:
        """Whether an entry point's ``turnout-backend.json`` gives its name (and so its labels)."""
        info = self.info(candidate)
        return info is not None and info.name is not None

    def answering(
        self, label: str, rule: TrustRule | None, candidates: list[Candidate]
    ) -> Iterator[Candidate]:
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
        declaring = [c for c in allowed if label in self.static_labels(c)]
        yield from declaring
        for candidate in allowed:
            if candidate not in declaring and (rule is not None or self._may_declare(candidate)):
                yield candidate

    def _may_declare(self, candidate: Candidate) -> bool:
        """Whether only a trusted entry point's code can tell which labels it answers to."""
        # untrusted: its code does not run to answer a question
        return candidate.rule is not None and not self.names_itself(candidate)

    def shown(self, pending: list[Candidate]) -> list[str]:
        """Return the labels users may select, and cpu, as far as known without import.

        What loaded backends answer to, and what the metadata of the `pending`
        entry points gives: the list an unknown label's error shows and takes
        its did-you-mean from.
        """
        labels = {CPU, *self._registry.labels()}
        for candidate in pending:
            labels.update(self.static_labels(candidate))
        return sorted(labels)

    def unasked(self, pending: list[Candidate]) -> list[str]:
        """Say which untrusted entry points may answer to more labels than their metadata gives."""
        names = [c.provider.name for c in pending if c.rule is None and not self.names_itself(c)]
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
