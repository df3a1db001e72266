"""The public TypedDicts (`TrustedBackend`), loaded on first use: building one needs `typing`.

`import turnout` avoids `typing`; the package's ``__getattr__`` imports this
module when ``turnout.TrustedBackend`` is first asked for.
"""

# No `from __future__ import annotations`: TypedDict would turn each string
# annotation into a ForwardRef, compiled when the class is made.
from collections.abc import Sequence
from typing import TypedDict


class TrustedBackend(TypedDict, total=False):
    """How a host describes a backend it trusts.

    Every key is optional except that a provider must be named: ``package``
    or ``distributions``.

    Attributes
    ----------
    aliases
        Extra labels for the backend (``["gpu"]``).
    package
        The distribution users ``pip install``; also the expected provider.
    distributions
        Every distribution allowed to provide the backend.
    entrypoints
        Entry-point names allowed to provide it.
    object_refs
        Entry-point values (``module:attribute``) allowed to provide it.
    module_prefixes
        Packages the entry point's module must live in.
    """

    aliases: Sequence[str]
    package: str
    distributions: Sequence[str]
    entrypoints: Sequence[str]
    object_refs: Sequence[str]
    module_prefixes: Sequence[str]


TrustedBackend.__module__ = "turnout"
