"""What users install: a backend's entry point, its standing with the host, its static metadata."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from turnout._dispatcher import BackendDispatcher
from turnout._entrypoints import load_reference
from turnout._errors import TurnoutError
from turnout._names import module_of, suggest
from turnout._registry import BackendStatus, Entry
from turnout._static import _READERS, INFO_FILE, Malformed, StaticInfo, module_directory, parse_info
from turnout.testing._finding import Finding

# What a loaded backend may declare as attributes besides name and aliases (static-metadata.rst).
DECLARED = tuple(key for key in _READERS if key not in ("name", "aliases", "functions"))
_PROBLEMS = {
    BackendStatus.FAILED: "load-failed",
    BackendStatus.REJECTED: "refused",
    BackendStatus.SHADOWED: "shadowed",
}


@contextmanager
def _quiet() -> Iterator[list[warnings.WarningMessage]]:
    """Keep the warnings discovery gives (the findings say it) out of the caller's test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _entries(dispatcher: BackendDispatcher) -> list[Entry]:
    """Return every backend of the host, loaded as turnout loads them, and every refusal.

    Entry points have a provider; in-process backends (in-tree classes,
    explicit registrations) have none.
    """
    with _quiet():
        dispatcher.discover()
    registry = dispatcher._registry  # noqa: SLF001 - turnout's own kit
    return [*registry.ready(), *registry.refused()]


def by_label(dispatcher: BackendDispatcher, label: str) -> tuple[list[Entry], list[Finding]]:
    """Return the installed entry points that answer to `label` (ready ones first), or why none."""
    entries = _entries(dispatcher)
    found = [e for e in entries if label in e.labels or (e.provider and e.provider.name == label)]
    if found:
        return found, []
    reason = dispatcher.reserved_backends.get(label)
    if reason is not None:
        return [], [Finding("reserved-name", label, f"{label!r} is reserved by the host: {reason}")]
    labels = sorted({item for entry in entries for item in entry.labels})
    close = suggest(label, labels)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    message = (
        f"no installed entry point of group {dispatcher.entrypoint_group!r} answers to it; "
        f"{hint}installed: {', '.join(labels) or 'none'}. Install your package "
        "(pip install -e .) and check its entry point"
    )
    return [], [Finding("not-installed", label, message)]


def by_object(dispatcher: BackendDispatcher, backend: Any) -> list[Entry]:
    """Return the installed entry points whose value names `backend` (its class, or module)."""
    if isinstance(backend, ModuleType):
        module = backend.__name__
    else:
        module = (backend if isinstance(backend, type) else type(backend)).__module__
    found = []
    for entry in _entries(dispatcher):
        if entry.provider is None or module_of(entry.provider.value) != module:
            continue
        value = entry.provider.value
        try:
            target = load_reference(value)
        except Exception:  # noqa: BLE001, S112 - a failed load is reported by its own entry
            continue
        named = target is backend or entry.obj is backend
        if named or (isinstance(target, type) and isinstance(backend, target)):
            found.append(entry)
    return found


def standing(dispatcher: BackendDispatcher, entry: Entry) -> list[Finding]:
    """Say where an installed backend stands with the host, and what users will see."""
    provider = entry.provider
    if provider is None:  # the host process registered it: trusted, nothing to install
        return []
    host = dispatcher.host_name
    if entry.status is BackendStatus.READY:
        if entry.trusted:
            return []
        ask = (
            f"ask {host}'s maintainers to add {{{entry.name!r}: {{'package': "
            f"{provider.distribution!r}}}}} to its trusted_backends"
        )
        policy = dispatcher._discovery.untrusted  # noqa: SLF001 - turnout's own kit
        if policy == "allow":
            seen = f"{host} runs backends it does not trust without a warning"
        else:
            with _quiet() as caught:
                dispatcher._discovery._admission.warn_untrusted(entry)  # noqa: SLF001
            seen = "users see, the first time they select it: " + "; ".join(
                f"{w.category.__name__}: {str(w.message).rstrip('.')}" for w in caught
            )
        message = f"{host} does not trust {provider.describe()}; {seen}. To be trusted, {ask}"
        return [Finding("untrusted", entry.name, message, severity="note")]
    message = f"{provider.describe()}: {entry.reason}"
    with _quiet():
        try:
            dispatcher._discovery.require(provider.name)  # noqa: SLF001 - turnout's own kit
        except TurnoutError as error:
            message += f". Users who select it get {type(error).__name__}: {error}"
    return [Finding(_PROBLEMS.get(entry.status, "refused"), entry.name, message)]


def declared(
    dispatcher: BackendDispatcher, entry: Entry, backend: Any, keys: list[str]
) -> list[Finding]:
    """Compare what the backend's ``turnout-backend.json`` declares with the backend itself.

    `keys` are the host's dispatch keys. turnout reads the file before it
    imports the backend (trust, automatic selection, ``report(load=False)``,
    the CLI's ``--no-import``), so what it says must be what the object does.
    """
    provider = entry.provider
    if provider is None:  # in-process: turnout reads no file for it
        return []
    directory = module_directory(provider.module)
    path = os.path.join(directory, INFO_FILE) if directory else None  # noqa: PTH118
    own = StaticInfo.of(backend)
    if path is None or not os.path.isfile(path):  # noqa: PTH113
        if own.types:
            return [_no_file(dispatcher)]
        return []
    with open(path, "rb") as handle:  # noqa: PTH123
        blob = handle.read()
    group = dispatcher.entrypoint_group
    findings = _file_problems(blob, group, path)
    info = parse_info(blob, group, path)
    if info is None:
        return findings
    findings.extend(_labels(info, backend, path))
    findings.extend(_functions(info, backend, keys, path, dispatcher.host_name))
    for key in DECLARED:
        mine, theirs = getattr(own, key), getattr(info, key)
        if getattr(backend, key, None) is not None and _differ(mine, theirs):
            message = f"{path} declares {key} {theirs!r}, the backend object {mine!r}"
            findings.append(Finding("metadata-mismatch", key, _before_import(message)))
    return findings


def _no_file(dispatcher: BackendDispatcher) -> Finding:
    return Finding(
        "no-static-metadata",
        "types",
        f"the backend declares the types it owns only as an attribute; until it is imported, "
        f"automatic selection in {dispatcher.host_name} cannot pick it: put them in a "
        f"{INFO_FILE} next to the module the entry point names (see the static metadata docs)",
        severity="note",
    )


def _before_import(message: str) -> str:
    return (
        f"{message}; turnout reads the file before importing the backend, so users see the "
        "file's answer until then: make them agree"
    )


def _differ(mine: object, theirs: object) -> bool:
    if isinstance(mine, tuple) and isinstance(theirs, tuple):
        return set(mine) != set(theirs)
    return mine != theirs


def _file_problems(blob: bytes, group: str, path: str) -> list[Finding]:
    """Return what turnout would ignore in the file: bad JSON, a missing group, unknown keys."""
    try:
        data = json.loads(blob.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        return [Finding("metadata-invalid", INFO_FILE, f"{path} is not valid JSON: {error}")]
    if not isinstance(data, dict):
        return [Finding("metadata-invalid", INFO_FILE, f"{path} is not a JSON object")]
    if group not in data:
        groups = [key for key in data if key != "turnout-backend"]
        close = suggest(group, groups)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        message = (
            f"{path} has no entry for the host's group {group!r}{hint}; "
            f"it has {groups or 'none'}, so turnout reads nothing from it for this host"
        )
        return [Finding("metadata-group", INFO_FILE, message)]
    found = data[group]
    if not isinstance(found, dict):
        return [Finding("metadata-invalid", group, f"{path}: {group!r} is not a JSON object")]
    findings = []
    for key, value in found.items():
        reader = _READERS.get(key)
        if reader is None:
            close = suggest(key, _READERS)
            hint = f"did you mean {close[0]!r}? " if close else ""
            message = f"{path}: turnout ignores the unknown key {key!r}; {hint}"
            findings.append(Finding("metadata-key", key, message + f"known: {', '.join(_READERS)}"))
            continue
        try:
            if value is not None:
                reader(value)
        except Malformed as error:
            message = f"{path}: turnout ignores {key!r}: {error}"
            findings.append(Finding("metadata-value", key, message))
    return findings


def _labels(info: StaticInfo, backend: Any, path: str) -> list[Finding]:
    findings = []
    name = getattr(backend, "name", None)
    if info.name is not None and info.name != name:
        message = f"{path} declares name {info.name!r}, the backend object {name!r}"
        findings.append(Finding("metadata-mismatch", "name", _before_import(message)))
    aliases = getattr(backend, "aliases", ())
    own = tuple(aliases) if isinstance(aliases, (list, tuple, set, frozenset)) else ()
    if info.aliases and set(info.aliases) != set(own):
        message = f"{path} declares aliases {list(info.aliases)}, the backend object {list(own)}"
        findings.append(Finding("metadata-mismatch", "aliases", _before_import(message)))
    return findings


def _functions(
    info: StaticInfo, backend: Any, keys: list[str], path: str, host: str
) -> list[Finding]:
    if info.functions is None:
        return []
    findings = []
    implemented = {key for key in keys if getattr(backend, key, None) is not None}
    for function in info.functions:
        if function in implemented:
            continue
        if function in keys:
            problem = f"the backend object does not implement {function!r}"
        else:
            close = suggest(function, keys)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            problem = f"{host} dispatches no {function!r}{hint}"
        message = f"{path} lists {function!r} among its functions, but {problem}"
        findings.append(Finding("metadata-functions", function, message))
    findings.extend(
        Finding(
            "metadata-functions",
            function,
            f"the backend implements {function!r}, but {path} does not list it: "
            "report(load=False), the support matrix and the CLI's --no-import omit it",
        )
        for function in sorted(implemented - set(info.functions))
    )
    return findings
