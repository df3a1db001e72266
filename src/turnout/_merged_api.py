"""The merged API: the host's signature and docstring plus the selector and backend-only ones.

One pass over the loaded backends (`views`) feeds the docstring, the signature
and the support table. Documentation entries are built from parameter shapes
(no `inspect`); the merged `inspect.Signature` is built only when asked for.
What backends declare in ``turnout-backend.json`` (`Declaration`) adds notes and
documented parameters, also for backends not imported; it never adds to the
signature, where a parameter needs a default only the backend's code has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from turnout import _lazytyping as t
from turnout._docstrings import DocEntry, DocMerge, parameter_entries, text_lines
from turnout._lazytyping import TYPE_CHECKING
from turnout._names import SELECTOR
from turnout._registry import BackendStatus
from turnout._shape import EMPTY, POSITIONAL_ONLY, VARIADIC, Param, Shape, shape_of, signature_shape
from turnout._warnings import BackendSignatureWarning, warn

if TYPE_CHECKING:
    import inspect

    from turnout._registry import Entry
    from turnout._static import StaticInfo


class Declaration:
    """What one backend's ``turnout-backend.json`` says about one host function.

    Parameters
    ----------
    backend
        The backend's canonical name.
    note
        Its ``extra_docstring``: text about its implementation.
    parameters
        Its ``additional_parameters``: backend-only parameter -> description.
    loaded
        Whether the backend is imported (its function's signature then decides
        which of `parameters` it takes).
    """

    __slots__ = ("backend", "loaded", "note", "parameters")

    def __init__(
        self, backend: str, note: str | None, parameters: Mapping[str, str], *, loaded: bool
    ) -> None:
        self.backend = backend
        self.note = note
        self.parameters = dict(parameters)
        self.loaded = loaded

    def __repr__(self) -> str:
        return f"Declaration({self.backend!r}, {self.note!r}, {self.parameters!r})"


def declarations(key: str, declared: Iterable[tuple[Entry, StaticInfo]]) -> list[Declaration]:
    """Return what each backend's metadata says about the function with dispatch key `key`.

    `declared` pairs each backend (a ``NOT_LOADED`` entry for one not imported)
    with its ``turnout-backend.json``; a backend that lists the function without
    details, or does not list it, says nothing.
    """
    found = []
    for entry, info in declared:
        details = info.function_info.get(key)
        if details is None or not (details.extra_docstring or details.additional_parameters):
            continue
        loaded = entry.status is not BackendStatus.NOT_LOADED
        found.append(
            Declaration(
                entry.name, details.extra_docstring, details.additional_parameters, loaded=loaded
            )
        )
    return sorted(found, key=lambda declaration: declaration.backend)


def note_lines(notes: Mapping[str, str]) -> list[str]:
    """Return the backends' notes for the ``Notes`` section: one definition per backend."""
    lines: list[str] = []
    for backend, text in notes.items():
        body = text_lines(text)
        if not body:
            continue
        if lines:
            lines.append("")
        lines.append(f"Backend ``{backend}``")
        lines.extend(f"    {line}" if line else "" for line in body)
    return lines


class Addition:
    """A backend-only parameter, as one or more backends define it.

    A backend known only from its metadata gives no default and no annotation
    (`EMPTY`): it documents the parameter, but adds it to no signature.
    """

    __slots__ = ("name", "providers")

    def __init__(self, name: str) -> None:
        self.name = name
        # (backend name, default, annotation, description lines), in backend-name order
        self.providers: list[tuple[str, object, object, tuple[str, ...]]] = []

    @property
    def backends(self) -> list[str]:
        """The backends that take this parameter, sorted."""
        return [name for name, _, _, _ in self.providers]

    @property
    def in_signature(self) -> bool:
        """Whether a loaded backend's signature has it (else only metadata declares it)."""
        return any(default is not EMPTY for _, default, _, _ in self.providers)

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
        names = ", ".join(f"``{name}``" for name, _ in defaults)
        plural = "s" if len(defaults) > 1 else ""
        known = {repr(default) for _, default in defaults if default is not EMPTY}
        if not known:  # declared in metadata only: the default is the backend's code's
            note = f"Only for backend{plural} {names}."
        elif len(known) == 1 and all(default is not EMPTY for _, default in defaults):
            note = f"Only for backend{plural} {names} (default ``{defaults[0][1]!r}``)."
        else:
            each = ", ".join(
                f"``{name}``" + (f" (default ``{default!r}``)" if default is not EMPTY else "")
                for name, default in defaults
            )
            note = f"Only for backends {each}."
        # One paragraph: Sphinx puts a parameter's first paragraph on the name's line,
        # and a second one would leave the name alone on a line of its own.
        lines = [*description, note] if description else [note]
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


def is_addable(host: Shape, keyword: str, name: str) -> bool:
    """Whether a parameter a backend's metadata declares can be a backend-only one."""
    return name not in host.by_name and name != keyword and not name.startswith("_")


def declared_additions(
    additions: dict[str, Addition],
    host: Shape,
    keyword: str,
    declared: Iterable[Declaration],
    found: Mapping[str, Shape | None],
) -> dict[str, Addition]:
    """Add the parameters backends declare in metadata only to `additions`, documented.

    A backend not imported is taken at its word. For an imported one, `found`
    (its function's parameters; None: uninspectable) decides: a parameter its
    signature has is already in `additions`, and one it lacks is documented
    only when it takes ``**kwargs`` (or cannot be inspected), which may take it.
    """
    for declaration in declared:
        shape = found.get(declaration.backend)
        if declaration.loaded and declaration.backend not in found:
            continue  # the imported backend lacks the function: its object has the last word
        for name, text in declaration.parameters.items():
            if not is_addable(host, keyword, name):
                continue
            if (
                declaration.loaded
                and shape is not None
                and (name in shape.by_name or shape.var_keyword is None)
            ):
                continue  # taken from its signature above, or it does not take it
            provider = (declaration.backend, EMPTY, EMPTY, tuple(text_lines(text)))
            additions.setdefault(name, Addition(name)).providers.append(provider)
    for addition in additions.values():
        addition.providers.sort(key=lambda provider: provider[0])
    return dict(sorted(additions.items()))


def described(doc: str | None, declaration: Declaration | None) -> dict[str, DocEntry]:
    """Return a backend function's documented parameters; its metadata fills in the rest.

    The function's own numpydoc wins where both describe a parameter.
    """
    entries = parameter_entries(doc)
    if declaration is not None:
        for name, text in declaration.parameters.items():
            if name not in entries or not entries[name].description:
                entries[name] = DocEntry(name, text_lines(text))
    return entries


def collect_additions(
    host: inspect.Signature,
    keyword: str,
    implementations: Iterable[tuple[str, inspect.Signature, str | None]],
    mapped: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Addition]:
    """Gather backend-only parameters from `inspect` signatures (for the merged signature)."""
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


class View:
    """One loaded backend's implementation of a host function, as the merged API reads it."""

    __slots__ = ("backend", "implementation", "mapped", "shape")

    def __init__(self, backend: str, implementation: Callable[..., t.Any]) -> None:
        self.backend = backend
        self.implementation = implementation
        self.mapped = mapped_targets(implementation)
        try:
            self.shape: Shape | None = shape_of(implementation)
        except (TypeError, ValueError):
            self.shape = None  # uninspectable: it serves calls, but adds nothing to the API

    def renames(self) -> str | None:
        """Return the docstring's sentence on the parameters it takes under other names."""
        mapping = getattr(self.implementation, "turnout_parameters", None)
        if not isinstance(mapping, dict) or not mapping:
            return None
        takes = "; ".join(
            f"``{host}`` as ``{target if isinstance(target, str) else target[0]}``"
            for host, target in mapping.items()
        )
        return f"Backend ``{self.backend}`` takes {takes}."


def views(
    entries: Iterable[Entry], implementation: Callable[[Entry], Callable[..., t.Any] | None]
) -> tuple[list[View], list[str]]:
    """Return a view of each entry that implements the function, and those that do not.

    `implementation` finds an entry's function; one that raises counts as absent
    (a broken backend never breaks the others' queries).
    """
    found: list[View] = []
    absent: list[str] = []
    for entry in entries:
        try:
            function = implementation(entry)
        except Exception:  # noqa: BLE001 - see above
            function = None
        if function is None:
            absent.append(entry.name)
        else:
            found.append(View(entry.name, function))
    return found, absent


class MergedApi:
    """One dispatched function's merged docstring and signature, kept current across merges.

    Parameters
    ----------
    host
        The host function.
    shape
        Returns the host's parameters (computed once, elsewhere).
    keyword
        The selector keyword.
    selector
        The selector's docstring entry.
    """

    __slots__ = (
        "_doc",
        "_entries",
        "_host",
        "_keyword",
        "_lock",
        "_notes",
        "_others",
        "_selector",
        "_shape",
        "_signature",
        "_version",
        "extra_backends",
        "known_extras",
        "merged",
        "notes",
    )

    def __init__(
        self,
        host: Callable[..., t.Any],
        shape: Callable[[], Shape],
        keyword: str,
        selector: DocEntry,
    ) -> None:
        self._host = host
        self._shape = shape
        self._keyword = keyword
        self._selector = selector
        self._doc = DocMerge()
        self._entries: list[DocEntry] = [selector]
        self._others: list[DocEntry] = []  # backend-only parameters
        self._notes: list[str] = []  # the backends' notes, as lines of the Notes section
        self.notes: dict[str, str] = {}  # backend -> its note on this function (metadata)
        self._signature: inspect.Signature | None = None
        self._version = 0
        self._lock = threading.Lock()
        self.known_extras: frozenset[str] = frozenset()  # backend-only keywords of loaded backends
        self.extra_backends: dict[str, list[str]] = {}  # each of them -> the backends taking it
        self.merged = False

    def apply(self, function: t.Any) -> None:
        """Put the current entries into `function`'s docstring (its text as it is now)."""
        function.__doc__ = self._doc.apply(
            function.__doc__, self._entries, self._others, self._notes
        )

    def merge(
        self,
        found: Sequence[View],
        version: int,
        required: Callable[[str, str], None],
        private: Callable[[str, str], None],
        declared: Sequence[Declaration] = (),
    ) -> bool:
        """Take the backend-only parameters of `found` into the API; whether it was applied.

        `version` orders merges made by different threads: an older one than
        the last applied is skipped. `required(backend, parameter)` hears of a
        required backend-only parameter, which callers could never pass, and
        `private(backend, parameter)` of one whose name starts with ``_``, which
        is not merged. `declared` is what backends' metadata says (`declarations`),
        loaded or not: their notes, and parameters documented without a default.
        """
        if version < self._version:
            return False
        host = self._shape()
        implementations = []
        renames: list[str] = []
        mapped: dict[str, tuple[str, ...]] = {}
        by_backend = {declaration.backend: declaration for declaration in declared}
        shapes: dict[str, Shape | None] = {}
        for view in found:
            shapes[view.backend] = view.shape
            if view.shape is None:
                continue
            mapped[view.backend] = view.mapped
            _, needed = backend_only_shape_parameters(host, self._keyword, view.shape, view.mapped)
            for param in needed:
                required(view.backend, param.name)
            for param in view.shape.params:
                name = param.name
                if name.startswith("_") and name not in host.by_name and param.kind not in VARIADIC:
                    private(view.backend, name)
            doc = getattr(view.implementation, "__doc__", None)
            entries = described(doc, by_backend.get(view.backend))
            implementations.append((view.backend, view.shape, entries))
            sentence = view.renames()
            if sentence is not None:
                renames.append(sentence)
        additions = doc_additions(host, self._keyword, implementations, mapped=mapped)
        additions = declared_additions(additions, host, self._keyword, declared, shapes)
        notes = {
            declaration.backend: declaration.note
            for declaration in declared
            if declaration.note and (not declaration.loaded or declaration.backend in shapes)
        }
        signed = {name: addition for name, addition in additions.items() if addition.in_signature}
        selector = self._selector
        if renames:
            selector = DocEntry(
                selector.name, [*selector.description, "", *renames], selector.annotation
            )
        with self._lock:
            if version < self._version:
                return False
            self._version = version
            self._entries = [selector]
            self._others = [addition.doc_entry() for addition in additions.values()]
            self._notes = note_lines(notes)
            self.notes = notes
            self.known_extras = frozenset(signed)
            self.extra_backends = {name: addition.backends for name, addition in signed.items()}
            self._signature = None
            self.merged = True
        return True

    def signature(self, found: Callable[[], Sequence[View]]) -> inspect.Signature:
        """Return the merged signature (computed when first asked for after a merge)."""
        made = self._signature
        if made is None:
            import inspect  # noqa: PLC0415 - only when a signature is asked for: milliseconds

            implementations = []
            mapped: dict[str, tuple[str, ...]] = {}
            for view in found():
                try:
                    backend = inspect.signature(view.implementation)
                except (TypeError, ValueError):
                    continue
                implementations.append((view.backend, backend, None))
                mapped[view.backend] = view.mapped
            host = inspect.signature(self._host)
            additions = collect_additions(host, self._keyword, implementations, mapped)
            made = self._signature = merged_signature(host, self._keyword, additions)
        return made

    def support(
        self, found: Sequence[View], absent: Sequence[str]
    ) -> dict[str, tuple[str, ...] | None]:
        """Return, per backend, the backend-only parameters it adds (None: it lacks this)."""
        cells: dict[str, tuple[str, ...] | None] = dict.fromkeys(absent)
        host = self._shape()
        for view in found:
            if view.shape is None:
                cells[view.backend] = ()
                continue
            mergeable, _ = backend_only_shape_parameters(
                host, self._keyword, view.shape, view.mapped
            )
            cells[view.backend] = tuple(sorted(param.name for param in mergeable))
        return cells

    def declared_support(self, info: StaticInfo, key: str) -> tuple[str, ...] | None:
        """Return the support cell of a backend not imported, from its metadata alone.

        None when it does not list the function (dispatch key `key`), else the
        backend-only parameters it declares for it, as the docstring shows them.
        """
        if info.functions is None or key not in info.functions:
            return None
        details = info.function_info.get(key)
        if details is None:
            return ()
        host = self._shape()
        names = details.additional_parameters
        return tuple(sorted(name for name in names if is_addable(host, self._keyword, name)))


def required_warning(function: str, public_name: str, backend: str, param: str) -> None:
    """Warn that a backend's required parameter is one callers of the host cannot pass."""
    warn(
        f"Backend {backend!r}: parameter {param!r} of its {function}() is required, but "
        f"{public_name}() has no such parameter, so callers cannot pass it; it is "
        "left out of the merged signature. The backend should give it a default.",
        BackendSignatureWarning,
    )


def private_warning(function: str, public_name: str, backend: str, param: str) -> None:
    """Warn that a backend's private parameter is left out of the host's API."""
    warn(
        f"Backend {backend!r}: parameter {param!r} of its {function}() starts with '_', so "
        f"it is private and not merged into {public_name}()'s signature and documentation; "
        "the backend should rename it if users are meant to pass it.",
        BackendSignatureWarning,
    )


def class_signature(init: t.Any, new: t.Any, keyword: str) -> inspect.Signature:
    """Return a host class's constructor signature plus the selector keyword."""
    import inspect  # noqa: PLC0415 - only when a signature is asked for: milliseconds

    constructor = init
    if constructor is object.__init__:
        constructor = new if new is not object.__new__ else None
    signature = inspect.Signature()
    if constructor is not None:
        try:
            full = inspect.signature(constructor)
        except (TypeError, ValueError):
            full = inspect.Signature()
        signature = full.replace(
            parameters=list(full.parameters.values())[1:], return_annotation=full.empty
        )
    return merged_signature(signature, keyword)
