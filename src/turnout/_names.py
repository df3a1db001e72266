"""Label grammar, distribution-name normalisation and did-you-mean suggestions."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from turnout import _lazytyping as t

CPU = "cpu"
"""The label that always means the host's own code."""

SELECTOR = str | list[str] | tuple[str, ...] | None
"""The selector keyword's type: a label, labels in order of preference, or None.

The merged signature, the wrapper's annotations, NumPy-style docstrings and the
stubs ``python -m turnout stubs`` writes all show this one type.
"""

MAX_LABEL_LENGTH = 128
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_INNER = _ALNUM | frozenset("._-")
_LAST = _ALNUM | frozenset("_")

LABEL_RULE = (
    "use ASCII letters, digits, '.', '_' or '-'; start with a letter or digit; "
    f"end with a letter, digit or '_'; at most {MAX_LABEL_LENGTH} characters"
)


def label_problem(label: object) -> str | None:
    """Return why `label` is not a valid backend label, or None when it is.

    Parameters
    ----------
    label
        A candidate backend name or alias, of any type.

    Returns
    -------
    str or None
        A short sentence naming the problem, or None for a valid label.
    """
    if not isinstance(label, str):
        return f"a label must be a string, not {type(label).__name__}"
    if not label:
        return "a label must not be empty"
    if len(label) > MAX_LABEL_LENGTH:
        return f"{label!r} is longer than {MAX_LABEL_LENGTH} characters"
    if label[0] not in _ALNUM or label[-1] not in _LAST:
        return f"{label!r} is not a valid label ({LABEL_RULE})"
    if not all(char in _INNER for char in label):
        return f"{label!r} is not a valid label ({LABEL_RULE})"
    return None


def is_valid_label(label: object) -> bool:
    """Return whether `label` may name a backend (see `label_problem`)."""
    return label_problem(label) is None


def fold_label(label: str) -> str:
    """Return the form two labels share when one is a look-alike of the other.

    Case-insensitive, with ``-``, ``_`` and ``.`` alike: ``HX-GOOD``, ``hx.good``
    and ``hx_good`` fold to the same string. Used for claims only; a user's
    choice is matched exactly.
    """
    return label.lower().replace("-", "_").replace(".", "_")


def normalize_distribution(name: str) -> str:
    """Return the PEP 503 normalised form of a distribution name.

    The steps of `packaging.utils.canonicalize_name`, held to its answer by a
    property test. Not imported from there: ``packaging.utils`` costs about
    20 ms to import (it loads ``packaging.tags``, ``re`` and ``typing``), and
    this runs when a host builds its dispatcher and on the first backend call.
    """
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def entry_point_problem(value: str) -> str | None:
    """Return why `value` is not an entry-point reference, or None if it is one.

    The grammar of `importlib.metadata.EntryPoint`: ``module[:attr[.attr...]] [extras]``,
    where names are runs of word characters and dots.
    """
    reference, _, extras = value.partition("[")
    if extras and not extras.rstrip().endswith("]"):
        return f"{value!r} has an unclosed extras bracket"
    module, colon, attributes = reference.partition(":")
    module, attributes = module.strip(), attributes.strip()
    for part, what in ((module, "module"), *([(attributes, "attribute")] if colon else [])):
        if not part or not all(char.isalnum() or char in "_." for char in part):
            return (
                f"{value!r} is not 'module:attribute [extras]' ({what} {part!r} "
                "must be letters, digits, '_' and '.')"
            )
    return None


def module_of(object_ref: str) -> str:
    """Return the module part of an entry-point object reference ``mod:attr``."""
    return object_ref.partition(":")[0].strip()


def is_under_module(module: str, prefix: str) -> bool:
    """Return whether `module` is `prefix` or one of its submodules."""
    return module == prefix or module.startswith(prefix + ".")


def suggest(label: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Return up to `limit` candidates that look like `label`, best first.

    Matching ignores case, so ``"GPU"`` suggests ``"gpu"``.
    """
    import difflib  # noqa: PLC0415 - only on the error path; keeps import cheap

    by_folded: dict[str, str] = {}
    for candidate in sorted(candidates):
        by_folded.setdefault(candidate.lower(), candidate)
    matches = difflib.get_close_matches(label.lower(), by_folded, n=limit, cutoff=0.6)
    return [by_folded[match] for match in matches]


def key_from_class_name(cls: type | str) -> str | None:
    """Derive a backend name from a class (or its name): ``NumbaBackend`` -> ``numba``.

    A trailing ``Backend`` is dropped and CamelCase becomes snake_case
    (``CudaGraphBackend`` -> ``cuda_graph``); None when nothing valid remains.
    Pass it as ``BackendDispatcher(backend_key=key_from_class_name)``.
    """
    stem = (cls if isinstance(cls, str) else cls.__name__).removesuffix("Backend")
    out: list[str] = []
    for index, char in enumerate(stem):
        previous = stem[index - 1] if index else ""
        following = stem[index + 1] if index + 1 < len(stem) else ""
        boundary = char.isupper() and index and (previous.islower() or following.islower())
        if boundary and out and out[-1] != "_" and previous != "_":
            out.append("_")
        out.append(char.lower())
    key = "".join(out)
    return key if label_problem(key) is None else None


def env_prefix(host_name: str) -> str:
    """Return the environment-variable prefix for a host (``example_host`` -> ``EXAMPLE_HOST``)."""
    return "".join(char if char.isascii() and char.isalnum() else "_" for char in host_name.upper())


def attribute(obj: object, key: str) -> t.Any:
    """Return what `obj` holds under a dispatch key (``"mean"``, or a path ``"sub.mean"``)."""
    if "." not in key:
        return getattr(obj, key, None)
    found: t.Any = obj
    for part in key.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def qualified_name(obj: t.Any) -> str:
    """Return ``module.qualname`` of a function or class, for messages."""
    module = getattr(obj, "__module__", None) or "<unknown module>"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


def public_name(obj: t.Any, fallback: str) -> str:
    """Return the shortest public path a user reaches `obj` by, e.g. ``pkg.mean``.

    Walks the packages above `obj`'s module (``pkg``, then ``pkg.sub``, skipping
    private ones) for one that exposes `obj` under its name; `fallback` if none.
    """
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__name__", None)
    if not isinstance(module, str) or not isinstance(name, str):
        return fallback
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        if parts[end - 1].startswith("_"):
            continue
        prefix = ".".join(parts[:end])
        package = sys.modules.get(prefix)
        if package is not None and getattr(package, name, None) is obj:
            return f"{prefix}.{name}"
    return fallback
