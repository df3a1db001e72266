"""The merged API: the host's parameters plus the selector keyword and backend-only ones.

Documentation entries are built from parameter shapes (no `inspect`); the merged
`inspect.Signature` is built only when something asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from turnout import _lazytyping as t
from turnout._docstrings import DocEntry
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import SELECTOR
from turnout._shape import EMPTY, POSITIONAL_ONLY, VARIADIC, Param, Shape, signature_shape

if TYPE_CHECKING:
    import inspect


class Addition:
    """A backend-only parameter, as one or more backends define it."""

    __slots__ = ("name", "providers")

    def __init__(self, name: str) -> None:
        self.name = name
        # (backend name, default, annotation, description lines), in backend-name order
        self.providers: list[tuple[str, object, object, tuple[str, ...]]] = []

    @property
    def backends(self) -> list[str]:
        """The backends that take this parameter, sorted."""
        return [name for name, _, _, _ in self.providers]

    def parameter(self) -> inspect.Parameter:
        """Return the keyword-only parameter for the host signature (first backend's default)."""
        import inspect  # noqa: PLC0415 - only when a merged signature is asked for

        _, default, annotation, _ = self.providers[0]
        if annotation is EMPTY:
            annotation = inspect.Parameter.empty
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )

    def doc_entry(self) -> DocEntry:
        """Return the numpydoc entry: the first description found, and who provides it."""
        description = next((text for _, _, _, text in self.providers if text), ())
        defaults = [(name, default) for name, default, _, _ in self.providers]
        if len({repr(default) for _, default in defaults}) == 1:
            names = ", ".join(f"``{name}``" for name, _ in defaults)
            plural = "s" if len(defaults) > 1 else ""
            note = f"Only for backend{plural} {names} (default ``{defaults[0][1]!r}``)."
        else:
            each = ", ".join(f"``{name}`` (default ``{default!r}``)" for name, default in defaults)
            note = f"Only for backends {each}."
        lines = [*description, "", note] if description else [note]
        return DocEntry(self.name, lines)


def backend_only_shape_parameters(
    host: Shape, keyword: str, backend: Shape, mapped: Iterable[str] = ()
) -> tuple[list[Param], list[Param]]:
    """Split a backend's extra parameters into mergeable and required ones.

    Returns
    -------
    tuple of two lists
        Keyword-usable parameters with a default (merged into the host API), and
        required ones (reported, never merged). Positional-only, variadic,
        private (``_name``) and selector-named parameters are neither.
    """
    mergeable: list[Param] = []
    required: list[Param] = []
    taken = set(mapped)  # backend parameters a parameter map fills from host ones
    for param in backend.params:
        name = param.name
        if name in host.by_name or name in taken or param.kind in VARIADIC or name.startswith("_"):
            continue
        if param.kind == POSITIONAL_ONLY or name == keyword:
            continue
        (mergeable if param.has_default else required).append(param)
    return mergeable, required


def doc_additions(
    host: Shape,
    keyword: str,
    implementations: Iterable[tuple[str, Shape, Mapping[str, DocEntry]]],
    annotations: Mapping[tuple[str, str], object] | None = None,
    mapped: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Addition]:
    """Gather backend-only parameters across backends, by name.

    Parameters
    ----------
    host
        The host function's parameters.
    keyword
        The selector keyword, never merged.
    implementations
        ``(backend name, backend function parameters, its documented entries)``.
    annotations
        ``{(backend name, parameter): annotation}`` for the merged signature.
    """
    additions: dict[str, Addition] = {}
    for backend_name, shape, described in sorted(implementations, key=lambda item: item[0]):
        taken = (mapped or {}).get(backend_name, ())
        mergeable, _ = backend_only_shape_parameters(host, keyword, shape, taken)
        for param in mergeable:
            entry = described.get(param.name)
            text = entry.description if entry is not None else ()
            annotation = (annotations or {}).get((backend_name, param.name), EMPTY)
            additions.setdefault(param.name, Addition(param.name)).providers.append(
                (backend_name, param.default, annotation, text)
            )
    return dict(sorted(additions.items()))


def collect_additions(
    host: inspect.Signature,
    keyword: str,
    implementations: Iterable[tuple[str, inspect.Signature, str | None]],
    mapped: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Addition]:
    """Gather backend-only parameters from `inspect` signatures (for the merged signature)."""
    from turnout._docstrings import parameter_entries  # noqa: PLC0415

    shapes = []
    annotations: dict[tuple[str, str], object] = {}
    for backend_name, signature, doc in implementations:
        shapes.append((backend_name, signature_shape(signature), parameter_entries(doc)))
        for param in signature.parameters.values():
            annotations[backend_name, param.name] = param.annotation
    return doc_additions(signature_shape(host), keyword, shapes, annotations, mapped)


def merged_signature(
    host: inspect.Signature, keyword: str, additions: Mapping[str, Addition] | Sequence[t.Any] = ()
) -> inspect.Signature:
    """Return `host` with the selector keyword and `additions` as keyword-only parameters.

    They go after the host's own parameters and before its ``**kwargs``; host
    parameter order, kinds and defaults are kept.
    """
    import inspect  # noqa: PLC0415

    params = [p for p in host.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params.append(
        inspect.Parameter(
            keyword, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=SELECTOR
        )
    )
    values = additions.values() if isinstance(additions, Mapping) else additions
    params.extend(addition.parameter() for addition in values)
    params.extend(p for p in host.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD)
    return host.replace(parameters=params)


def mapped_targets(implementation: object) -> tuple[str, ...]:
    """Return the backend parameters a backend function's parameter map fills."""
    mapping = getattr(implementation, "turnout_parameters", None)
    if not isinstance(mapping, dict):
        return ()
    return tuple(
        target if isinstance(target, str) else str(target[0]) for target in mapping.values()
    )
