"""Sphinx configuration for turnout's documentation."""

from __future__ import annotations

import example_host

project = "turnout"
author = "The turnout developers"
copyright = "2026, The turnout developers"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "turnout.sphinxext",
]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
default_role = "py:obj"
nitpicky = False
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
html_theme = "alabaster"
exclude_patterns = ["_build"]

# A host's conf.py loads its backends so autodoc shows what they add.
example_host.discover()
