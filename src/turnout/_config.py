"""The dispatcher's arguments, checked all at once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from keyword import iskeyword

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError
from turnout._names import CPU, env_prefix, label_problem
from turnout._settings import FALLBACK_POLICIES
from turnout._trust import TrustRule, parse_reserved, parse_trusted
from turnout._warnings import ConfigurationWarning, warn

UNTRUSTED_POLICIES = ("allow", "warn", "error")  # from loosest to strictest


class Config:
    """Validated `BackendDispatcher` arguments (the ones it keeps)."""

    __slots__ = ("reserved", "rules", "trusted_backends")

    def __init__(
        self,
        reserved: dict[str, str],
        rules: dict[str, TrustRule],
        trusted_backends: dict[str, t.Any],
    ) -> None:
        self.reserved = reserved
        self.rules = rules
        self.trusted_backends = trusted_backends


def check_configuration(
    *,
    group: object,
    host_name: object,
    trusted_backends: object,
    reserved_backends: object,
    keyword: object,
    fallback: object,
    package: object,
    backend_key: object,
    untrusted: object = "warn",
) -> Config:
    """Return the checked configuration, or raise `ConfigurationError` listing every problem."""
    problems: list[str] = []
    for argument, value in (("entrypoint_group", group), ("host_name", host_name)):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{argument} must be a non-empty string, not {value!r}")
    if isinstance(group, str) and group.strip() and group != group.strip():
        problems.append(f"entrypoint_group {group!r} must not start or end with spaces")
    if not isinstance(keyword, str) or not keyword.isidentifier() or iskeyword(keyword):
        problems.append(
            f"backend_keyword must be a Python identifier that is not a keyword, not {keyword!r}"
        )
    if fallback not in FALLBACK_POLICIES:
        allowed = ", ".join(map(repr, FALLBACK_POLICIES))
        problems.append(f"fallback must be one of {allowed}, not {fallback!r}")
    if untrusted not in UNTRUSTED_POLICIES:
        allowed = ", ".join(map(repr, UNTRUSTED_POLICIES))
        problems.append(f"untrusted must be one of {allowed}, not {untrusted!r}")
    if package is not None and not _is_module_name(package):
        problems.append(
            f"discover_package must be a module name such as 'host.backends', not {package!r}"
        )
    if backend_key is not None and not callable(backend_key):
        problems.append(f"backend_key must be a function of a class, not {backend_key!r}")
    shown = host_name if isinstance(host_name, str) else ""
    reserved = parse_reserved(reserved_backends, problems, shown)
    rules: dict[str, TrustRule] = parse_trusted(trusted_backends, reserved, problems, shown)
    if problems:
        raise ConfigurationError(problems=problems, host_name=shown)
    trusted: Mapping[str, t.Any] = trusted_backends if isinstance(trusted_backends, Mapping) else {}
    return Config(
        reserved=reserved,
        rules=rules,
        trusted_backends={name: dict(info) for name, info in trusted.items()},
    )


def _is_module_name(name: object) -> bool:
    return isinstance(name, str) and all(
        part.isidentifier() and not iskeyword(part) for part in name.split(".")
    )


class Environment:
    """The process-wide choices users make through environment variables."""

    __slots__ = ("backend", "fallback", "untrusted")

    def __init__(self, untrusted: str, fallback: str, backend: str | None) -> None:
        self.untrusted = untrusted
        self.fallback = fallback
        self.backend = backend


def read_environment(host_name: str, untrusted: str, fallback: str) -> Environment:
    """Apply ``<HOST>_UNTRUSTED_BACKENDS``, ``<HOST>_FALLBACK`` and ``<HOST>_BACKEND``.

    The untrusted policy can only be tightened, never loosened. A bad value is
    reported once, with the allowed values, and ignored.
    """
    prefix = env_prefix(host_name)
    name = f"{prefix}_UNTRUSTED_BACKENDS"
    value = os.environ.get(name, "").strip().lower()
    if value:
        if value in UNTRUSTED_POLICIES:
            untrusted = max(untrusted, value, key=UNTRUSTED_POLICIES.index)
        else:
            _ignored(name, value, UNTRUSTED_POLICIES)
    name = f"{prefix}_FALLBACK"
    value = os.environ.get(name, "").strip().lower()
    if value:
        if value in FALLBACK_POLICIES:
            fallback = value
        else:
            _ignored(name, value, FALLBACK_POLICIES)
    name = f"{prefix}_BACKEND"
    backend = os.environ.get(name, "").strip() or None
    if backend is not None and label_problem(backend) is not None:
        _ignored(name, backend, ("cpu", "the name or alias of an installed backend"))
        backend = None
    return Environment(untrusted, fallback, None if backend == CPU else backend)


def _ignored(name: str, value: str, allowed: tuple[str, ...]) -> None:
    warn(
        f"Environment variable {name}={value!r} is ignored: expected "
        f"{' or '.join(map(repr, allowed))}.",
        ConfigurationWarning,
    )
