"""The dispatcher's arguments, checked all at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from turnout._errors import ConfigurationError
from turnout._settings import FALLBACK_POLICIES
from turnout._trust import TrustRule, parse_reserved, parse_trusted


class Config:
    """Validated `BackendDispatcher` arguments (the ones it keeps)."""

    __slots__ = ("reserved", "rules", "trusted_backends")

    def __init__(
        self,
        reserved: dict[str, str],
        rules: dict[str, TrustRule],
        trusted_backends: dict[str, Any],
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
) -> Config:
    """Return the checked configuration, or raise `ConfigurationError` listing every problem."""
    problems: list[str] = []
    for argument, value in (("entrypoint_group", group), ("host_name", host_name)):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{argument} must be a non-empty string, not {value!r}")
    if isinstance(group, str) and group.strip() and group != group.strip():
        problems.append(f"entrypoint_group {group!r} must not start or end with spaces")
    if not isinstance(keyword, str) or not keyword.isidentifier():
        problems.append(f"backend_keyword must be a Python identifier, not {keyword!r}")
    if fallback not in FALLBACK_POLICIES:
        allowed = ", ".join(map(repr, FALLBACK_POLICIES))
        problems.append(f"fallback must be one of {allowed}, not {fallback!r}")
    if package is not None and (not isinstance(package, str) or not package.strip()):
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
    trusted: Mapping[str, Any] = trusted_backends if isinstance(trusted_backends, Mapping) else {}
    return Config(
        reserved=reserved,
        rules=rules,
        trusted_backends={name: dict(info) for name, info in trusted.items()},
    )
