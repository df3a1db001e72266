"""The dispatcher's arguments, checked all at once (every problem in one error)."""

from __future__ import annotations

from collections.abc import Mapping
from keyword import iskeyword

from turnout import _lazytyping as t
from turnout._errors import ConfigurationError
from turnout._names import CPU, label_problem
from turnout._policy import Fallback, Untrusted, listing, member
from turnout._trust import TrustRule, parse_reserved, parse_trusted


class Config:
    """Validated `BackendDispatcher` arguments (the ones it keeps)."""

    __slots__ = ("deprecated", "reserved", "rules", "trusted_backends")

    def __init__(
        self,
        reserved: dict[str, str],
        rules: dict[str, TrustRule],
        trusted_backends: dict[str, t.Any],
        deprecated: dict[str, str] | None = None,
    ) -> None:
        self.reserved = reserved
        self.rules = rules
        self.trusted_backends = trusted_backends
        self.deprecated = deprecated or {}


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
    automatic: object = False,
    deprecated: object = None,
    host_version: object = None,
    backend_only: object = "error",
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
    _check_options(
        problems,
        fallback=fallback,
        untrusted=untrusted,
        package=package,
        backend_key=backend_key,
        automatic=automatic,
        host_version=host_version,
    )
    if backend_only not in ("error", "warn"):
        problems.append(f"backend_only must be 'error' or 'warn', not {backend_only!r}")
    shown = host_name if isinstance(host_name, str) else ""
    reserved = parse_reserved(reserved_backends, problems, shown)
    rules: dict[str, TrustRule] = parse_trusted(trusted_backends, reserved, problems, shown)
    renamed = _parse_deprecated(deprecated, problems)
    if problems:
        raise ConfigurationError(problems=problems, host_name=shown)
    trusted: Mapping[str, t.Any] = trusted_backends if isinstance(trusted_backends, Mapping) else {}
    return Config(
        reserved=reserved,
        rules=rules,
        trusted_backends={name: dict(info) for name, info in trusted.items()},
        deprecated=renamed,
    )


def _check_options(problems: list[str], **options: object) -> None:
    """Append a problem for each dispatcher option of the wrong kind."""
    fallback, untrusted, package = options["fallback"], options["untrusted"], options["package"]
    if member(Fallback, fallback) is None:
        problems.append(f"fallback must be one of {listing(Fallback)}, not {fallback!r}")
    if member(Untrusted, untrusted) is None:
        problems.append(f"untrusted must be one of {listing(Untrusted)}, not {untrusted!r}")
    if package is not None and not _is_module_name(package):
        problems.append(
            f"discover_package must be a module name such as 'host.backends', not {package!r}"
        )
    backend_key = options["backend_key"]
    if backend_key is not None and not callable(backend_key):
        problems.append(f"backend_key must be a function of a class, not {backend_key!r}")
    if not isinstance(options["automatic"], bool):
        problems.append(f"automatic must be True or False, not {options['automatic']!r}")
    version = options["host_version"]
    if version is not None and (not isinstance(version, str) or not version):
        problems.append(f"host_version must be a version string such as '1.2.0', not {version!r}")


def _parse_deprecated(deprecated: object, problems: list[str]) -> dict[str, str]:
    """Validate ``deprecated_backends``: ``{old label: the label to use instead}``."""
    if deprecated is None:
        return {}
    if not isinstance(deprecated, Mapping):
        problems.append(
            "deprecated_backends must map an old label to the label to use instead, "
            f"not {type(deprecated).__name__}"
        )
        return {}
    result: dict[str, str] = {}
    for old, new in deprecated.items():
        problem = label_problem(old) or label_problem(new)
        if problem is not None or old == CPU:
            problems.append(f"Invalid deprecated backend {old!r} -> {new!r}: {problem or 'cpu'}")
            continue
        result[old] = new
    return result


def _is_module_name(name: object) -> bool:
    return isinstance(name, str) and all(
        part.isidentifier() and not iskeyword(part) for part in name.split(".")
    )
