"""Numpydoc parsing and merging, in both host styles."""

from __future__ import annotations

from turnout._docstrings import DocEntry, merge_parameters, parameter_entries

SCANPY = """Compute things.

    Parameters
    ----------
    data
        The data.
    n_comps
        How many.

        Second paragraph.

    Returns
    -------
    The result.
    """

NUMPY = """Compute things.

Parameters
----------
x, y : float
    Coordinates.
*args : tuple
    More.
"""

NEW = [DocEntry("method", ["How to compute.", "", "Only for backend ``gpu``."])]


def test_parameter_entries_both_styles():
    entries = parameter_entries(SCANPY)
    assert list(entries) == ["data", "n_comps"]
    assert entries["n_comps"].description == ("How many.", "", "Second paragraph.")
    numpy = parameter_entries(NUMPY)
    assert list(numpy) == ["x", "y", "args"]
    assert numpy["y"].description == ("Coordinates.",)
    assert parameter_entries(None) == {}
    assert parameter_entries("No sections.") == {}


def test_merge_appends_to_the_section_with_its_indentation():
    merged = merge_parameters(SCANPY, NEW)
    assert merged == SCANPY.replace(
        "        Second paragraph.\n",
        "        Second paragraph.\n    method\n        How to compute.\n\n        Only for backend ``gpu``.\n",
    )
    assert merge_parameters(merged, NEW) == merged


def test_merge_creates_a_section_before_the_first_other_one():
    doc = """Summary.

    Returns
    -------
    int
    """
    merged = merge_parameters(doc, NEW)
    assert merged.index("Parameters") < merged.index("Returns")
    assert "    Parameters\n    ----------\n    method\n        How to compute." in merged
    assert list(parameter_entries(merged)) == ["method"]


def test_merge_without_docstring_or_sections():
    assert merge_parameters(None, NEW) == (
        "Parameters\n----------\nmethod\n    How to compute.\n\n    Only for backend ``gpu``.\n"
    )
    one_line = merge_parameters("Add numbers.", NEW)
    assert one_line.startswith("Add numbers.\n\nParameters\n----------\nmethod\n")
    assert list(parameter_entries(one_line)) == ["method"]


def test_existing_entries_are_not_duplicated():
    assert merge_parameters(SCANPY, [DocEntry("data", ["other"])]) == SCANPY
