"""Property tests: backends' notes join a docstring's Notes, idempotently, and leave again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout._docstrings import NOTES, DocEntry, DocMerge, _sections
from turnout._merged_api import note_lines

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=20).map(str.strip).filter(bool)
sections = st.sampled_from(["Returns", "See Also", "Notes", "References", "Examples"])
# a note's own lines: words, blank lines, and lines that would read as section underlines
note_line = st.one_of(words, st.just(""), st.sampled_from(["-----", "=====", "  ---", "Title"]))
notes = st.dictionaries(
    st.sampled_from(["chunked", "gpu", "numba"]),
    st.lists(note_line, max_size=5).map("\n".join),
    max_size=3,
)
selector = [DocEntry("backend", ["Selector."])]
others = st.lists(
    st.builds(
        lambda name, text: DocEntry(name, [text, "Only for backend ``b``."]),
        st.sampled_from(["chunk_size", "device"]),
        words,
    ),
    unique_by=lambda entry: entry.name,
    max_size=2,
)


@st.composite
def docstrings(draw):
    indent = " " * draw(st.sampled_from([0, 4, 8]))
    lines = [draw(words), ""] if draw(st.booleans()) else []
    if draw(st.booleans()):
        lines += [indent + "Parameters", indent + "----------", indent + "values"]
        lines += [indent + "    " + draw(words), ""]
    order = ["Returns", "See Also", "Notes", "References", "Examples"]
    chosen = draw(st.lists(sections, unique=True))
    for section in sorted(chosen, key=order.index):
        lines += [indent + section, indent + "-" * len(section)]
        lines += [indent + draw(words) for _ in range(draw(st.integers(0, 2)))]
        lines.append("")
    return "\n".join(lines) + (indent if draw(st.booleans()) else "")


def titles(doc):
    return [name for name, _ in _sections(doc.split("\n"))]


@given(st.one_of(st.none(), docstrings()), others, notes)
def test_notes_merge_idempotently_keep_every_line_and_leave_no_trace(doc, extra, backends):
    merge = DocMerge()
    lines = note_lines(backends)
    merged = merge.apply(doc, selector, extra, lines)
    assert merge.apply(merged, selector, extra, lines) == merged
    assert merge.apply(merged, selector, extra, lines) == merged
    # the host's lines stay, in order
    original = [line for line in (doc or "").split("\n") if line.strip()]
    remaining = iter(merged.split("\n"))
    assert all(any(line == other for other in remaining) for line in original)
    # one Notes section at most, where numpydoc wants it; the notes add no section
    found = titles(merged)
    assert found.count(NOTES) <= 1
    assert [name for name in found if name != NOTES] == [
        name for name in titles(DocMerge().apply(doc, selector, extra)) if name != NOTES
    ]
    if lines:
        assert NOTES in found
        after = found[found.index(NOTES) + 1 :]
        assert not {"Returns", "See Also", "Parameters", "Other Parameters"} & set(after)
    # merging without them gives the docstring merged without them
    assert merge.apply(merged, selector) == DocMerge().apply(doc, selector)
