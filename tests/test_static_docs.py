"""What backends declare in ``turnout-backend.json`` shows in the host's docs: notes and parameters."""

from __future__ import annotations

import inspect
import io
import json

import pytest

from turnout._docstrings import DocEntry, DocMerge, insert_notes, text_lines
from turnout._merged_api import Declaration, MergedApi, View, declarations
from turnout._registry import BackendStatus, Entry
from turnout._shape import shape_of
from turnout._static import parse_info

GROUP = "example_host.backends"
NOTE = "Computed in one pass over the chunks."
CHUNK_SIZE = "Elements per chunk; None keeps the input's chunks."

HOST_DOC = """Mean of the values.

    Parameters
    ----------
    values
        The numbers.

    Returns
    -------
    float

    Examples
    --------
    >>> mean([1, 2])
    1.5
    """


def mean(values):
    return sum(values) / len(values)


PLAIN_BACKEND = """
class Backend:
    name = "plain"

    def mean(self, values, *, exact=False):
        return ("plain", sum(values) / len(values), exact)
"""


mean.__doc__ = HOST_DOC


def api_for(host=mean):
    return MergedApi(host, lambda: shape_of(host), "backend", DocEntry("backend", ["Selector."]))


def merged_doc(api, host_doc=HOST_DOC):
    class Holder:
        __doc__ = host_doc

    api.apply(Holder)
    return Holder.__doc__


def merge(api, found=(), declared=()):
    return api.merge(list(found), api._version + 1, _no_call, _no_call, list(declared))


def _no_call(backend, parameter):
    raise AssertionError((backend, parameter))


def declared(backend="chunked", note=NOTE, parameters=None, *, loaded=False):
    return Declaration(
        backend,
        note,
        {"chunk_size": CHUNK_SIZE} if parameters is None else parameters,
        loaded=loaded,
    )


def rendered(doc):
    """Render `doc` as Sphinx's napoleon does, then parse it: the doctree and what docutils said."""
    pytest.importorskip("sphinx")
    import docutils.core  # noqa: PLC0415 - with Sphinx
    from sphinx.ext.napoleon import Config  # noqa: PLC0415
    from sphinx.ext.napoleon.docstring import NumpyDocstring  # noqa: PLC0415

    text = str(NumpyDocstring(inspect.cleandoc(doc), Config()))
    messages = io.StringIO()
    tree = docutils.core.publish_doctree(
        text, settings_overrides={"warning_stream": messages, "report_level": 1}
    )
    return tree, messages.getvalue()


# -- the docstring, from metadata alone -------------------------------------------------------


def test_a_backend_not_imported_adds_its_note_and_documents_its_parameters():
    api = api_for()
    assert merge(api, declared=[declared()])
    doc = merged_doc(api)
    notes = doc[doc.index("    Notes\n    -----\n") :]
    assert notes.startswith(f"    Notes\n    -----\n    Backend ``chunked``\n        {NOTE}\n")
    assert doc.index("Returns") < doc.index("Notes") < doc.index("Examples")
    other = doc[doc.index("Other Parameters") : doc.index("Returns")]
    assert f"    chunk_size\n        {CHUNK_SIZE}\n        Only for backend ``chunked``.\n" in other
    # no default is known: no signature and no keyword the wrapper takes gets it
    assert api.known_extras == frozenset()
    assert api.notes == {"chunked": NOTE}


def test_the_notes_render_with_napoleon_as_a_definition_per_backend():
    api = api_for()
    merge(api, declared=[declared(), declared("gpu", "Runs on the GPU.\n\nNeeds CUDA 12.", {})])
    tree, messages = rendered(merged_doc(api))
    assert messages == ""
    terms = [node.astext() for node in tree.findall(lambda node: node.tagname == "term")]
    assert terms == ["Backend chunked", "Backend gpu"]
    rubrics = [node.astext() for node in tree.findall(lambda node: node.tagname == "rubric")]
    assert rubrics == ["Notes", "Examples"]


def test_notes_join_the_hosts_own_notes_after_them():
    host_doc = HOST_DOC.replace(
        "    Examples\n", "    Notes\n    -----\n    Welford's algorithm.\n\n    Examples\n"
    )
    api = api_for()
    merge(api, declared=[declared()])
    doc = merged_doc(api, host_doc)
    assert doc.count("Notes\n") == 1
    assert f"Welford's algorithm.\n\n    Backend ``chunked``\n        {NOTE}\n\n    Examples" in doc


@pytest.mark.parametrize(
    "host_doc",
    [HOST_DOC, "Mean.", "", "Mean.\n\n    References\n    ----------\n    .. [1] A paper.\n"],
    ids=["examples", "summary-only", "empty", "references"],
)
def test_merging_again_changes_nothing_and_merging_without_gives_the_host_text_back(host_doc):
    api = api_for()
    holder = type("Holder", (), {"__doc__": host_doc})
    plain = DocMerge().apply(host_doc, [DocEntry("backend", ["Selector."])])
    merge(api, declared=[declared()])
    api.apply(holder)
    once = holder.__doc__
    for _ in range(2):
        merge(api, declared=[declared()])
        api.apply(holder)
        assert holder.__doc__ == once
    merge(api)
    api.apply(holder)
    assert holder.__doc__ == plain


def test_a_note_that_looks_like_a_section_stays_inside_the_notes():
    note = "Fast.\n\nCaveats\n-------\nNone known.\n========"
    api = api_for()
    merge(api, declared=[declared(note=note)])
    doc = merged_doc(api)
    assert "        \\-------\n" in doc
    assert "        \\========" in doc
    tree, messages = rendered(doc)
    assert messages == ""
    assert [node.astext() for node in tree.findall(lambda node: node.tagname == "rubric")] == [
        "Notes",
        "Examples",
    ]


def test_text_lines_dedents_as_a_docstring_is_dedented():
    assert text_lines("First.\n    Second.\n      Third.\n") == ["First.", "Second.", "  Third."]
    assert text_lines("   \n\n") == []


def test_notes_already_in_the_section_are_not_added_twice():
    lines = ["Backend ``chunked``", f"    {NOTE}"]
    once, block = insert_notes(HOST_DOC, lines)
    assert block
    assert insert_notes(once, lines) == (once, "")


# -- when the backend is imported, its code has the last word ------------------------------


def chunked_mean(values, *, chunk_size=None, legacy=0):
    """Chunked mean.

    Parameters
    ----------
    chunk_size
        How many values per chunk (the function's own words).
    """


def chunked_kwargs(values, **options):
    """Takes what it declares through **options."""


def test_an_imported_backends_signature_decides_which_parameters_it_takes():
    api = api_for()
    parameters = {"chunk_size": CHUNK_SIZE, "legacy": "Old behaviour.", "gone": "Removed in 2.0."}
    merge(api, [View("chunked", chunked_mean)], [declared(parameters=parameters, loaded=True)])
    doc = merged_doc(api)
    # the function's own description wins; the metadata fills in where it says nothing
    assert "How many values per chunk (the function's own words)." in doc
    assert CHUNK_SIZE not in doc
    assert (
        "legacy\n        Old behaviour.\n        Only for backend ``chunked`` (default ``0``)."
        in doc
    )
    # a parameter its signature lacks is stale metadata: left out
    assert "gone" not in doc
    assert api.known_extras == {"chunk_size", "legacy"}
    assert f"Backend ``chunked``\n        {NOTE}" in doc


def test_an_imported_backend_taking_keywords_keeps_the_parameters_it_declares():
    api = api_for()
    merge(api, [View("chunked", chunked_kwargs)], [declared(loaded=True)])
    doc = merged_doc(api)
    assert f"chunk_size\n        {CHUNK_SIZE}\n        Only for backend ``chunked``." in doc
    assert api.known_extras == frozenset()


def test_an_imported_backend_that_lacks_the_function_says_nothing_about_it():
    api = api_for()
    merge(api, [], [declared(loaded=True)])
    assert merged_doc(api) == DocMerge().apply(HOST_DOC, [DocEntry("backend", ["Selector."])])
    assert api.notes == {}


def test_a_parameter_from_code_and_one_from_metadata_are_one_entry():
    api = api_for()
    merge(api, [View("chunked", chunked_mean)], [declared("dask", None, {"chunk_size": "Dask's."})])
    doc = merged_doc(api)
    assert "Only for backends ``chunked`` (default ``None``), ``dask``." in doc, (
        "one entry, each provider once"
    )
    assert doc.count("    chunk_size\n") == 1


def test_host_parameters_the_selector_and_private_names_are_never_declared_backend_only():
    api = api_for()
    names = {"values": "x", "backend": "x", "_private": "x", "fine": "Fine."}
    merge(api, declared=[declared(parameters=names)])
    doc = merged_doc(api)
    other = doc[doc.index("Other Parameters") : doc.index("Returns")]
    assert "fine" in other
    assert "_private" not in other
    assert "    values\n" not in other
    assert "    backend\n" not in other


def test_a_function_without_a_docstring_keeps_its_merged_one_across_merges(
    install, make_dispatcher
):
    install("host-plain", {"plain": "host_plain:Backend"}, {"host_plain.py": PLAIN_BACKEND})
    dispatcher = make_dispatcher(trusted_backends={"plain": {"package": "host-plain"}})

    @dispatcher.backend_dispatch
    def mean(values):
        return values

    dispatcher.discover()
    merged = mean.__doc__
    assert merged.startswith("Parameters\n")
    assert "exact\n    Only for backend ``plain`` (default ``False``)." in merged
    dispatcher.discover()  # merges again
    assert mean.__doc__ == merged


# -- reading the metadata -----------------------------------------------------------------------


def test_declarations_read_the_details_of_one_function_by_dispatch_key():
    info = parse_info(
        json.dumps(
            {
                GROUP: {
                    "functions": {
                        "mean": {"extra_docstring": NOTE},
                        "variance": {"additional_parameters": {"chunk_size": CHUNK_SIZE}},
                        "median": {},
                    }
                }
            }
        ).encode(),
        GROUP,
        "test.json",
    )
    assert info is not None
    pending = Entry("chunked", status=BackendStatus.NOT_LOADED)
    ready = Entry("gpu")
    found = declarations("mean", [(pending, info), (ready, info)])
    assert [(d.backend, d.note, d.loaded) for d in found] == [
        ("chunked", NOTE, False),
        ("gpu", NOTE, True),
    ]
    assert declarations("variance", [(pending, info)])[0].parameters == {"chunk_size": CHUNK_SIZE}
    assert declarations("median", [(pending, info)]) == []
    assert declarations("other", [(pending, info)]) == []


def test_the_support_cell_of_a_backend_not_imported_lists_what_it_declares():
    info = parse_info(
        json.dumps(
            {
                GROUP: {
                    "functions": {
                        "mean": {"additional_parameters": {"values": "x", "chunk_size": "y"}},
                        "variance": {},
                    }
                }
            }
        ).encode(),
        GROUP,
        "test.json",
    )
    api = api_for()
    assert api.declared_support(info, "mean") == ("chunk_size",)
    assert api.declared_support(info, "variance") == ()
    assert api.declared_support(info, "median") is None
