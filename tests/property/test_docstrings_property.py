"""Property tests: docstring merging keeps every line, and is a no-op the second time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout._docstrings import DocEntry, merge_parameters, parameter_entries

words = st.text(alphabet="abcdefghij ", min_size=1, max_size=20).map(str.strip).filter(bool)
names = st.sampled_from(["alpha", "beta", "gamma", "delta", "n_comps"])


@st.composite
def docstrings(draw):
    indent = " " * draw(st.sampled_from([0, 2, 4, 8]))
    style_typed = draw(st.booleans())
    lines = [draw(words), ""]
    if draw(st.booleans()):
        lines += [indent + draw(words), ""]
    params = draw(st.lists(names, unique=True, max_size=3))
    if params or draw(st.booleans()):
        lines += [indent + "Parameters", indent + "----------"]
        for name in params:
            lines.append(indent + (f"{name} : int" if style_typed else name))
            lines += [indent + "    " + draw(words) for _ in range(draw(st.integers(0, 2)))]
        lines.append("")
    for section in draw(st.lists(st.sampled_from(["Returns", "Notes", "Examples"]), unique=True)):
        lines += [indent + section, indent + "-" * len(section), indent + draw(words), ""]
    return "\n".join(lines) + indent


entries = st.lists(
    st.builds(lambda n, d: DocEntry(n, [d, "", "Only for backend ``b``."]), names, words),
    unique_by=lambda e: e.name,
    max_size=3,
)


@given(st.one_of(st.none(), docstrings()), entries)
def test_merge_keeps_all_text_and_is_idempotent(doc, new):
    merged = merge_parameters(doc, new)
    original = [line for line in (doc or "").split("\n") if line.strip()]
    remaining = iter(merged.split("\n"))
    assert all(any(line == other for other in remaining) for line in original)  # a subsequence
    assert merge_parameters(merged, new) == merged
    parsed = parameter_entries(merged)
    for entry in new:
        assert entry.name in parsed
    before = parameter_entries(doc)
    for name, entry in before.items():
        assert parsed[name].description == entry.description
    for section in ("Returns", "Notes", "Examples"):
        assert ((doc or "").count(section)) == merged.count(section)
