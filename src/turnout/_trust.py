"""Trusted-backend configuration: its checks, and verification of providers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from turnout._names import (
    CPU,
    is_under_module,
    label_problem,
    module_of,
    normalize_distribution,
    suggest,
)

_LIST_KEYS = (
    "aliases",
    "distributions",
    "entrypoints",
    "object_refs",
    "module_prefixes",
)
# scverse-backends 0.0.3 spellings, accepted for drop-in compatibility: each
# singular key takes one string and adds to its list.
_SINGULAR = {
    "distribution": "distributions",
    "entrypoint": "entrypoints",
    "object_ref": "object_refs",
    "module_prefix": "module_prefixes",
    "packages": "distributions",
}
_KEYS = ("package", *_LIST_KEYS, *_SINGULAR)


class Provider:
    """An entry point that offers a backend: its name, value and distribution.

    `path` is the distribution's metadata folder (None when `importlib.metadata`
    found it); `cached` says the row came from the disk cache, so it is read
    again from that folder before its backend is imported.
    """

    __slots__ = ("cached", "distribution", "name", "path", "value", "version")

    def __init__(
        self,
        name: str,
        value: str,
        distribution: str,
        version: str,
        *,
        path: str | None = None,
        cached: bool = False,
    ) -> None:
        self.name = name
        self.value = value
        self.distribution = distribution
        self.version = version
        self.path = path
        self.cached = cached

    @property
    def module(self) -> str:
        """The module the entry point imports."""
        return module_of(self.value)

    def describe(self) -> str:
        """Return ``entry point 'name = value' from dist version``."""
        return (
            f"entry point '{self.name} = {self.value}' from "
            f"{self.distribution} {self.version}".rstrip()
        )

    def __repr__(self) -> str:
        return f"Provider({self.describe()})"


class TrustRule:
    """A validated `TrustedBackend` entry for one canonical name."""

    __slots__ = (
        "aliases",
        "canonical",
        "distributions",
        "entrypoints",
        "module_prefixes",
        "object_refs",
        "package",
    )

    def __init__(
        self,
        *,
        canonical: str,
        aliases: tuple[str, ...],
        package: str,
        distributions: frozenset[str],
        entrypoints: frozenset[str] | None,
        object_refs: frozenset[str] | None,
        module_prefixes: tuple[str, ...] | None,
    ) -> None:
        self.canonical = canonical
        self.aliases = aliases
        self.package = package
        self.distributions = distributions
        self.entrypoints = entrypoints
        self.object_refs = object_refs
        self.module_prefixes = module_prefixes

    @property
    def labels(self) -> tuple[str, ...]:
        """The canonical name followed by the host's aliases for it."""
        return (self.canonical, *self.aliases)

    def refusal(self, provider: Provider) -> str | None:
        """Return why `provider` may not provide this backend, or None if it may."""
        expected: str | None = None
        if normalize_distribution(provider.distribution) not in self.distributions:
            expected = f"distribution {_listing(sorted(self.distributions))}"
        elif self.entrypoints is not None and provider.name not in self.entrypoints:
            expected = f"entry point name {_listing(sorted(self.entrypoints))}"
        elif self.object_refs is not None and _ref(provider.value) not in self.object_refs:
            expected = f"object reference {_listing(sorted(self.object_refs))}"
        elif self.module_prefixes is not None and not any(
            _under(provider.module, prefix) for prefix in self.module_prefixes
        ):
            expected = f"module under {_listing(self.module_prefixes)}"
        if expected is None:
            return None
        return (
            f"it claims trusted backend {self.canonical!r}, but the host expects "
            f"{expected}; uninstall {provider.distribution}, or ask the host to trust it"
        )


def _under(module: str, prefix: str) -> bool:
    """Return `is_under_module`; a prefix ending in ``.`` matches any module it starts."""
    if prefix.endswith("."):
        return module.startswith(prefix)
    return is_under_module(module, prefix)


def _listing(values: Sequence[str]) -> str:
    return " or ".join(repr(value) for value in values)


def _ref(value: str) -> str:
    return "".join(value.split())


def parse_reserved(reserved: object, problems: list[str], host_name: str) -> dict[str, str]:
    """Validate ``reserved_backends``; append each problem to `problems`."""
    if reserved is None:
        return {}
    if not isinstance(reserved, Mapping):
        problems.append(
            "reserved_backends must be a mapping of label to reason (or None), "
            f"not {type(reserved).__name__}"
        )
        return {}
    result: dict[str, str] = {}
    for label, reason in reserved.items():
        problem = label_problem(label)
        if problem is not None:
            problems.append(f"Invalid reserved backend label: {problem}")
            continue
        if label == CPU:
            problems.append(f"'cpu' cannot be reserved: it always means {host_name}'s own code")
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(
                f"Reason for reserved backend {label!r} must be a non-empty string "
                "telling users what to use instead"
            )
            continue
        result[label] = reason.strip()
    return result


def parse_trusted(
    trusted: object,
    reserved: Mapping[str, str],
    problems: list[str],
    host_name: str,
) -> dict[str, TrustRule]:
    """Validate ``trusted_backends``; return one rule per canonical name.

    Every problem is appended to `problems`, so a host sees them all at once.
    """
    if trusted is None:
        return {}
    if not isinstance(trusted, Mapping):
        problems.append(
            "trusted_backends must be a mapping of canonical name to settings "
            f"(or None), not {type(trusted).__name__}"
        )
        return {}
    rules: dict[str, TrustRule] = {}
    owner_of: dict[str, str] = {}
    for canonical, info in trusted.items():
        rule = _parse_rule(canonical, info, problems)
        if rule is None:
            continue
        for label in rule.labels:
            kind = "name" if label == rule.canonical else "alias"
            if label in reserved:
                problems.append(
                    f"Trusted backend {kind} {label!r} for {canonical!r} is reserved "
                    f"by {host_name} ({reserved[label]}); remove one of the two"
                )
            elif label in owner_of and owner_of[label] != canonical:
                problems.append(
                    f"Alias {label!r} is configured for both {owner_of[label]!r} and "
                    f"{canonical!r}; give each label to one backend"
                )
            else:
                owner_of[label] = canonical
        rules[canonical] = rule
    return rules


def _parse_rule(canonical: object, info: object, problems: list[str]) -> TrustRule | None:
    count = len(problems)
    problem = label_problem(canonical)
    if problem is not None or not isinstance(canonical, str):
        problems.append(f"Invalid trusted backend name: {problem}")
        return None
    if canonical == CPU:
        problems.append(
            "Trusted backend name 'cpu' is not allowed: 'cpu' means the host's own code"
        )
    if not isinstance(info, Mapping):
        problems.append(
            f"Trusted backend configuration for {canonical!r} must be a mapping such "
            f'as {{"package": "<pip name>", "aliases": [...]}}, not {type(info).__name__}'
        )
        return None
    _check_keys(canonical, info, problems)
    lists = {key: _parse_list(canonical, key, info.get(key), problems) for key in _LIST_KEYS}
    for key, target in _SINGULAR.items():
        value = info.get(key)
        if value is None:
            continue
        if key != "packages" and not isinstance(value, str):
            problems.append(
                f"Trusted backend {key} for {canonical!r} must be a string (or use "
                f"{target!r} for several), not {type(value).__name__}"
            )
            continue
        more = _parse_list(canonical, key, value, problems, allow_string=True)
        if more is not None:
            lists[target] = (*(lists[target] or ()), *more)
    aliases = lists["aliases"] or ()
    _check_aliases(canonical, aliases, problems)
    distributions = _distributions(canonical, info.get("package"), lists["distributions"], problems)
    if len(problems) != count:
        return None
    if not distributions:
        problems.append(
            f'Trusted backend {canonical!r} names no provider: add "package": '
            '"<pip name>" (or "distributions": [...]) so an impostor cannot claim it'
        )
        return None
    return TrustRule(
        canonical=canonical,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != canonical)),
        package=distributions[0],
        distributions=frozenset(normalize_distribution(d) for d in distributions),
        entrypoints=_frozen(lists["entrypoints"]),
        object_refs=_frozen(lists["object_refs"], normalize=_ref),
        module_prefixes=lists["module_prefixes"],
    )


def _check_keys(canonical: str, info: Mapping[object, object], problems: list[str]) -> None:
    for key in info:
        if key not in _KEYS:
            close = suggest(str(key), _KEYS)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(
                f"Unknown key {key!r} in trusted backend {canonical!r}.{hint} "
                f"Allowed: {', '.join(_KEYS)}"
            )


def _check_aliases(canonical: str, aliases: tuple[str, ...], problems: list[str]) -> None:
    for alias in aliases:
        problem = label_problem(alias)
        if problem is not None:
            problems.append(f"Invalid trusted backend alias for {canonical!r}: {problem}")
        elif alias == CPU:
            problems.append(f"Invalid trusted backend alias for {canonical!r}: 'cpu' is reserved")


def _distributions(
    canonical: str, package: object, listed: tuple[str, ...] | None, problems: list[str]
) -> list[str]:
    """Return the allowed distributions, `package` first (it is the install hint)."""
    distributions = list(listed or ())
    if package is None:
        return distributions
    if not isinstance(package, str) or not package.strip():
        problems.append(
            f"Trusted backend package for {canonical!r} must be a non-empty string "
            f"(the name users pip install), not {package!r}"
        )
        return distributions
    return [package.strip(), *distributions]


def _frozen(
    values: tuple[str, ...] | None, normalize: Callable[[str], str] = str.strip
) -> frozenset[str] | None:
    return None if values is None else frozenset(normalize(v) for v in values)


def _parse_list(
    canonical: str, key: str, value: object, problems: list[str], *, allow_string: bool = False
) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) and (allow_string or key != "aliases"):
        value = [value]  # one value where a list is expected, as scverse-backends accepts
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        problems.append(
            f"Trusted backend {key} for {canonical!r} must be a list, tuple, or set "
            f"of strings, not {type(value).__name__}"
        )
        return None
    items = list(value)
    if any(not isinstance(item, str) or not item.strip() for item in items):
        problems.append(
            f"Trusted backend {key} for {canonical!r} must contain only non-empty "
            f"strings, got {items!r}"
        )
        return None
    if isinstance(value, (set, frozenset)):
        items.sort()  # sets have no order; keep messages and install hints stable
    return tuple(item.strip() for item in items)
