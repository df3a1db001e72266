"""The merged signature: the host's, plus the selector keyword and backend-only parameters."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from turnout._docstrings import DocEntry, parameter_entries

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class Addition:
    """A backend-only parameter, as one or more backends define it."""

    __slots__ = ("name", "providers")

    def __init__(self, name: str) -> None:
        self.name = name
        # (backend name, its parameter, its description lines), in backend-name order
        self.providers: list[tuple[str, inspect.Parameter, tuple[str, ...]]] = []

    @property
    def backends(self) -> list[str]:
        """The backends that take this parameter, sorted."""
        return [name for name, _, _ in self.providers]

    def parameter(self) -> inspect.Parameter:
        """Return the keyword-only parameter for the host signature (first backend's default)."""
        _, first, _ = self.providers[0]
        return inspect.Parameter(
            self.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=first.default,
            annotation=first.annotation,
        )

    def doc_entry(self) -> DocEntry:
        """Return the numpydoc entry: the first description found, and who provides it."""
        description = next((text for _, _, text in self.providers if text), ())
        defaults = [(name, param.default) for name, param, _ in self.providers]
        if len({repr(default) for _, default in defaults}) == 1:
            names = ", ".join(f"``{name}``" for name, _ in defaults)
            plural = "s" if len(defaults) > 1 else ""
            note = f"Only for backend{plural} {names} (default ``{defaults[0][1]!r}``)."
        else:
            each = ", ".join(f"``{name}`` (default ``{default!r}``)" for name, default in defaults)
            note = f"Only for backends {each}."
        lines = [*description, "", note] if description else [note]
        return DocEntry(self.name, lines)


def backend_only_parameters(
    host: inspect.Signature, keyword: str, backend: inspect.Signature
) -> tuple[list[inspect.Parameter], list[inspect.Parameter]]:
    """Split a backend's extra parameters into mergeable and required ones.

    Returns
    -------
    tuple of two lists
        Keyword-usable parameters with a default (merged into the host API), and
        required ones (reported, never merged). Positional-only, variadic,
        private (``_name``) and selector-named parameters are neither.
    """
    mergeable: list[inspect.Parameter] = []
    required: list[inspect.Parameter] = []
    for name, param in backend.parameters.items():
        if name in host.parameters or param.kind in _VARIADIC or name.startswith("_"):
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY or name == keyword:
            continue
        (required if param.default is inspect.Parameter.empty else mergeable).append(param)
    return mergeable, required


def collect_additions(
    host: inspect.Signature,
    keyword: str,
    implementations: Iterable[tuple[str, inspect.Signature, str | None]],
) -> dict[str, Addition]:
    """Gather backend-only parameters across backends, by name.

    Parameters
    ----------
    host
        The host function's signature.
    keyword
        The selector keyword, never merged.
    implementations
        ``(backend name, backend function signature, its docstring)``.
    """
    additions: dict[str, Addition] = {}
    for backend_name, signature, doc in sorted(implementations, key=lambda item: item[0]):
        mergeable, _ = backend_only_parameters(host, keyword, signature)
        described = parameter_entries(doc)
        for param in mergeable:
            entry = described.get(param.name)
            text = entry.description if entry is not None else ()
            additions.setdefault(param.name, Addition(param.name)).providers.append(
                (backend_name, param, text)
            )
    return dict(sorted(additions.items()))


def merged_signature(
    host: inspect.Signature, keyword: str, additions: Mapping[str, Addition] | Sequence[Any] = ()
) -> inspect.Signature:
    """Return `host` with the selector keyword and `additions` as keyword-only parameters.

    They go after the host's own parameters and before its ``**kwargs``; host
    parameter order, kinds and defaults are kept.
    """
    params = [p for p in host.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    params.append(
        inspect.Parameter(
            keyword, inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"
        )
    )
    values = additions.values() if isinstance(additions, Mapping) else additions
    params.extend(addition.parameter() for addition in values)
    params.extend(p for p in host.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD)
    return host.replace(parameters=params)


def selector_entry(keyword: str, host_name: str) -> DocEntry:
    """Return the numpydoc entry documenting the selector keyword."""
    return DocEntry(
        keyword,
        [
            "Backend to run this call: the name or alias of an installed backend, or",
            f'``"cpu"`` for {host_name}\'s own code. Default: the innermost',
            f"``{host_name}.settings.use_backend()`` scope, else ``settings.backend``.",
        ],
    )
