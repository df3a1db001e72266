"""Numpydoc sections: read a backend's parameter entries, add entries and notes to the host's."""

from __future__ import annotations

from collections.abc import Sequence

from turnout._names import SELECTOR

PARAMETERS = "Parameters"
OTHER_PARAMETERS = "Other Parameters"  # backend-only parameters, as scverse-backends puts them
NOTES = "Notes"  # backends' notes: a section numpydoc and napoleon render without configuration
_AFTER_NOTES = ("References", "Examples")  # numpydoc's order puts these after Notes
SELECTOR_TEXT = repr(SELECTOR)  # "str | list[str] | tuple[str, ...] | None"


def selector_entry(keyword: str, host_name: str) -> DocEntry:
    """Return the numpydoc entry documenting the selector keyword.

    Its text holds no ``{``, ``}`` or ``%``, so hosts that fill their docstrings
    from templates after decorating (``str.format``, ``%``) keep working.
    """
    return DocEntry(
        keyword,
        [
            "Backend to run this call: the name or alias of an installed backend, or",
            f'``"cpu"`` for {host_name}\'s own code. Default: the innermost',
            f"``{host_name}.settings.use_backend()`` scope, else ``settings.backend``.",
        ],
        SELECTOR_TEXT,
    )


class DocEntry:
    """One parameter to document: its name, description lines (dedented) and type.

    The type shows only in a section whose entries carry theirs (NumPy style,
    ``name : type``); in one whose entries do not (scanpy style), the name alone.
    """

    __slots__ = ("annotation", "description", "name")

    def __init__(
        self, name: str, description: Sequence[str], annotation: str | None = None
    ) -> None:
        self.name = name
        self.description = tuple(description)
        self.annotation = annotation

    def __repr__(self) -> str:
        return f"DocEntry({self.name!r}, {self.description!r})"


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_rule(line: str) -> bool:
    if "---" not in line:  # the cheap test first: most lines are not rules
        return False
    stripped = line.strip()
    return not stripped.strip("-")


def _sections(lines: Sequence[str]) -> list[tuple[str, int]]:
    """Return ``(title, index of the title line)`` for every numpydoc section."""
    return [
        (lines[i].strip(), i)
        for i in range(len(lines) - 1)
        if _is_rule(lines[i + 1]) and lines[i].strip() and not _is_rule(lines[i])
    ]


def _section_span(lines: Sequence[str], title: str) -> tuple[int, int] | None:
    """Return the body span ``[start, end)`` of section `title`, if present."""
    sections = _sections(lines)
    for position, (name, index) in enumerate(sections):
        if name == title:
            end = sections[position + 1][1] if position + 1 < len(sections) else len(lines)
            return index + 2, end
    return None


def _entry_names(header: str) -> list[str]:
    """Return the names a header line documents (``a, b : int`` -> ``a``, ``b``)."""
    names = header.split(" : ", 1)[0] if " : " in header else header.split(":", 1)[0]
    return [name.strip().lstrip("*") for name in names.split(",") if name.strip()]


def parameter_entries(doc: str | None) -> dict[str, DocEntry]:
    """Return the entries of a numpydoc ``Parameters`` section, by parameter name.

    Headers may be ``name`` (scanpy style) or ``name : type`` (NumPy style);
    a header naming several parameters (``x, y : float``) yields one entry each.
    """
    if not doc:
        return {}
    lines = doc.expandtabs().split("\n")
    span = _section_span(lines, PARAMETERS)
    if span is None:
        return {}
    start, end = span
    body = lines[start:end]
    base = min((_indent_of(line) for line in body if line.strip()), default=0)
    entries: dict[str, DocEntry] = {}
    current: list[str] = []
    description: list[str] = []

    def flush() -> None:
        text = _trim(description)
        for name in current:
            entries[name] = DocEntry(name, text)

    for line in body:
        if line.strip() and _indent_of(line) == base:
            flush()
            current, description = _entry_names(line.strip()), []
        elif current:
            description.append(line)
    flush()
    return entries


def _trim(lines: Sequence[str]) -> list[str]:
    """Dedent description lines and drop blank lines at both ends."""
    content = [line.rstrip() for line in lines]
    while content and not content[-1]:
        content.pop()
    while content and not content[0]:
        content.pop(0)
    margin = min((_indent_of(line) for line in content if line), default=0)
    return [line[margin:] for line in content]


def _margin(lines: Sequence[str]) -> int:
    """Return the indentation of a docstring's body (every line but the first)."""
    return min((_indent_of(line) for line in lines[1:] if line.strip()), default=0)


def _render(entries: Sequence[DocEntry], indent: str, typed: bool = False) -> list[str]:
    rendered: list[str] = []
    for entry in entries:
        header = f"{entry.name} : {entry.annotation}" if typed and entry.annotation else entry.name
        rendered.append(indent + header)
        rendered.extend(f"{indent}    {line}" if line else "" for line in entry.description)
    return rendered


def merge_parameters(doc: str | None, entries: Sequence[DocEntry]) -> str:
    """Return `doc` with `entries` added to its numpydoc ``Parameters`` section.

    Entries already documented are left as they are, so merging is idempotent.
    A docstring without the section gets one, before its first other section
    (or at its end); no docstring gives a bare section. The docstring's own
    indentation is kept, so numpydoc and Sphinx parse the result.
    """
    return insert_parameters(doc, entries)[0]


def insert_parameters(
    doc: str | None,
    entries: Sequence[DocEntry],
    title: str = PARAMETERS,
    after: str | None = None,
) -> tuple[str, str]:
    """Return `doc` with `entries` added (see `merge_parameters`), and the text inserted.

    The entries go into section `title`; a docstring without it gets one, right
    after section `after` when it has that one. The inserted text is one
    contiguous substring of the result, so it can be taken out again with
    `str.replace`. One pass over the lines: decorating a thousand documented
    functions runs this a thousand times.
    """
    text = doc or ""
    if "\t" in text:
        text = text.expandtabs()
    lines = text.split("\n")
    sections = _sections(lines)
    span = next(
        (
            (index + 2, sections[n + 1][1] if n + 1 < len(sections) else len(lines))
            for n, (name, index) in enumerate(sections)
            if name == title
        ),
        None,
    )
    if span is not None and any(entry.name in text for entry in entries):
        present = _documented(lines, span)
        missing = [entry for entry in entries if entry.name not in present]
    else:  # no entry's name occurs anywhere: none is documented yet
        missing = list(entries)
    if not missing:
        return doc or "", ""
    if span is not None:
        start, end = span
        first = next((line for line in lines[start:end] if line.strip()), lines[start - 2])
        indent = " " * _indent_of(first)
        typed = " : " in first  # the first entry's header: NumPy style gives its type
        last = end
        while last > start and not lines[last - 1].strip():
            last -= 1
        block = "\n" + "\n".join(_render(missing, indent, typed))
        head = "\n".join(lines[:last])
        return head + block + text[len(head) :], block
    return _new_section(text, lines, sections, title, missing, after=after)


def _new_section(
    text: str,
    lines: list[str],
    sections: Sequence[tuple[str, int]],
    title: str,
    entries: Sequence[DocEntry],
    *,
    after: str | None,
) -> tuple[str, str]:
    """Return `text` with a new section `title` of `entries`, and the text inserted.

    It goes after section `after` if there is one, else before the first section,
    else at the end.
    """
    indent = " " * (_indent_of(lines[sections[0][1]]) if sections else _margin(lines))
    section = [f"{indent}{title}", f"{indent}{'-' * len(title)}"]
    section += _render(entries, indent)
    if not text.strip():
        block = "\n".join(section) + "\n"
        return block, block
    following = _following(sections, after)
    if following is not None:
        sections = sections[following:]
    elif after is not None and any(name == after for name, _ in sections):
        sections = []  # `after` is the last section: the new one goes at the end
    if sections:
        at = sections[0][1]
        head = "\n".join(lines[:at])
        block = "\n".join(section) + "\n\n"
        rest = text[len(head) + 1 :] if at else text
        prefix = head + "\n" if at else ""
        return prefix + block + rest, block
    last = len(lines)
    while last > 0 and not lines[last - 1].strip():
        last -= 1
    head = "\n".join(lines[:last])
    block = "\n\n" + "\n".join(section)
    return head + block + text[len(head) :], block


def _following(sections: Sequence[tuple[str, int]], after: str | None) -> int | None:
    """Return the position of the section that follows section `after`, if both exist."""
    for position, (name, _) in enumerate(sections):
        if name == after and position + 1 < len(sections):
            return position + 1
    return None


def _documented(lines: Sequence[str], span: tuple[int, int]) -> set[str]:
    """Return the names a ``Parameters`` body documents.

    The body's first line is an entry header, and every header has its indent;
    descriptions are indented further.
    """
    start, end = span
    first = next((line for line in lines[start:end] if line.strip()), None)
    if first is None:
        return set()
    prefix = first[: len(first) - len(first.lstrip())]
    width = len(prefix)
    names: set[str] = set()
    for line in lines[start:end]:
        if line.startswith(prefix) and len(line) > width and not line[width].isspace():
            names.update(_entry_names(line.strip()))
    return names


def text_lines(text: str) -> list[str]:
    """Return free text (a backend's note or description) as lines a docstring can hold.

    Dedented as a docstring is (the first line may start unindented), blank lines
    at both ends dropped. A line of only ``-`` or ``=`` would make the line above
    it a section title, which ends the host's section early (numpydoc) or is an
    error inside a docstring (docutils): it is escaped, and renders as written.
    """
    lines = [line.rstrip() for line in text.expandtabs().split("\n")]
    rest = lines[1:]
    margin = min((_indent_of(line) for line in rest if line), default=0)
    lines = _trim([lines[0].strip(), *(line[margin:] for line in rest)])
    return [_escape_underline(line) for line in lines]


def _escape_underline(line: str) -> str:
    stripped = line.strip()
    if not stripped or (stripped.strip("-") and stripped.strip("=")):
        return line
    indent = _indent_of(line)
    return f"{line[:indent]}\\{line[indent:]}"


def insert_notes(doc: str | None, lines: Sequence[str]) -> tuple[str, str]:
    """Return `doc` with `lines` at the end of its ``Notes`` section, and the text inserted.

    A docstring without the section gets one where numpydoc expects it: before
    ``References`` or ``Examples``, else at its end. Lines already there,
    verbatim, are not added again, so inserting is idempotent; the inserted text
    is one contiguous substring of the result (see `insert_parameters`).
    """
    text = doc or ""
    if "\t" in text:
        text = text.expandtabs()
    source = text.split("\n")
    sections = _sections(source)
    found = next((n for n, (name, _) in enumerate(sections) if name == NOTES), None)
    if not lines:
        return doc or "", ""
    if found is None:
        return _new_notes(text, source, sections, lines)
    title = sections[found][1]
    indent = " " * _indent_of(source[title])
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    if body in text:
        return doc or "", ""
    last = sections[found + 1][1] if found + 1 < len(sections) else len(source)
    while last > title + 2 and not source[last - 1].strip():
        last -= 1
    head = "\n".join(source[:last])
    block = "\n\n" + body
    return head + block + text[len(head) :], block


def _new_notes(
    text: str, source: list[str], sections: Sequence[tuple[str, int]], lines: Sequence[str]
) -> tuple[str, str]:
    """Return `text` with a new ``Notes`` section of `lines`, and the text inserted."""
    indent = " " * (_indent_of(source[sections[0][1]]) if sections else _margin(source))
    section = [f"{indent}{NOTES}", f"{indent}{'-' * len(NOTES)}"]
    section += [f"{indent}{line}" if line else "" for line in lines]
    if not text.strip():
        block = "\n".join(section) + "\n"
        return block, block
    at = next((index for name, index in sections if name in _AFTER_NOTES), None)
    if at is not None:
        block = "\n".join(section) + "\n\n"
        if not at:
            return block + text, block
        head = "\n".join(source[:at])
        return head + "\n" + block + text[len(head) + 1 :], block
    last = len(source)
    while last > 0 and not source[last - 1].strip():
        last -= 1
    head = "\n".join(source[:last])
    block = "\n\n" + "\n".join(section)
    return head + block + text[len(head) :], block


class DocMerge:
    """Keeps one docstring's turnout entries current while its owner edits the rest.

    Each `apply` starts from the docstring as it is *now* (a host may fill in
    templates or reassign ``__doc__`` after decorating), takes out the text the
    previous `apply` inserted if it is still there verbatim, and inserts the
    current entries: the selector in ``Parameters``, backend-only parameters in
    ``Other Parameters`` right after it, the backends' notes in ``Notes``.
    """

    __slots__ = ("_blocks",)

    def __init__(self) -> None:
        self._blocks: list[str] = []

    def apply(
        self,
        doc: str | None,
        entries: Sequence[DocEntry],
        others: Sequence[DocEntry] = (),
        notes: Sequence[str] = (),
    ) -> str:
        """Return `doc` with `entries` in ``Parameters``, `others` in ``Other Parameters``.

        `notes` (lines) go at the end of its ``Notes`` section (see `insert_notes`).
        """
        base = doc or ""
        # Last inserted, first out: each block was inserted into the text with the
        # earlier ones in it (a new section's place counts their line ends).
        for block in reversed(self._blocks):
            if block and block in base:
                base = base.replace(block, "", 1)
        merged, first = insert_parameters(base, entries)
        self._blocks = [first]
        if others:
            merged, second = insert_parameters(merged, others, OTHER_PARAMETERS, PARAMETERS)
            self._blocks.append(second)
        if notes:
            merged, third = insert_notes(merged, notes)
            self._blocks.append(third)
        return merged
