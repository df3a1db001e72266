"""Sphinx configuration for turnout's documentation."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Any

import example_host

# Extensions of these docs alone (the layers picture of how-dispatch-works.rst).
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "turnout"
author = "The turnout developers"
copyright = "2026, The turnout developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "turnout.sphinxext",
    "turnout_layers",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
# Types in signatures only: in descriptions they would repeat each numpydoc
# parameter list and give exceptions a "Return type: None".
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
default_role = "py:obj"
nitpicky = False
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["turnout.css"]
exclude_patterns = ["_build", "selection/*.inc"]

# A host's conf.py loads its backends so autodoc shows what they add.
example_host.discover()


def _enum_without_signature(
    _app: object, what: str, _name: str, obj: object, *_rest: object
) -> tuple[str, None] | None:
    """Show an enum as its members, not as the `Enum(value, names, ...)` call."""
    if what == "class" and isinstance(obj, type) and issubclass(obj, enum.Enum):
        return "", None
    return None


def setup(app: Any) -> None:
    """Connect this configuration's handlers (Sphinx calls it)."""
    app.connect("autodoc-process-signature", _enum_without_signature)
