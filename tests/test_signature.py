"""Merged signatures and the additions collected from several backends."""

from __future__ import annotations

import inspect

from turnout._merged_api import (
    backend_only_shape_parameters,
    collect_additions,
    merged_signature,
)
from turnout._shape import shape_of


def host(a, /, b, *args, c=1, **kwargs):
    pass


def gpu(a, b, *args, c=1, method="fast", _private=1, **kwargs):
    """GPU.

    Parameters
    ----------
    method
        How.
    """


def jit(a, b, *, method="exact", tol=1e-3, required):
    pass


def test_backend_only_parameters_split_required_from_mergeable():
    mergeable, required = backend_only_shape_parameters(shape_of(host), "backend", shape_of(jit))
    assert [p.name for p in mergeable] == ["method", "tol"]
    assert [p.name for p in required] == ["required"]


def test_merged_signature_keeps_host_order_and_adds_keyword_only_parameters():
    signature = inspect.signature(host)
    additions = collect_additions(
        signature,
        "backend",
        [("jit", inspect.signature(jit), None), ("gpu", inspect.signature(gpu), gpu.__doc__)],
    )
    assert list(additions) == ["method", "tol"]
    assert additions["method"].backends == ["gpu", "jit"]
    merged = merged_signature(signature, "backend", additions)
    assert (
        str(merged)
        == "(a, /, b, *args, c=1, backend: str | list[str] | tuple[str, ...] | None = None, method='fast', tol=0.001, **kwargs)"
    )
    entry = additions["method"].doc_entry()
    assert entry.description == (
        "How.",
        "",
        "Only for backends ``gpu`` (default ``'fast'``), ``jit`` (default ``'exact'``).",
    )
    assert additions["tol"].doc_entry().description == (
        "Only for backend ``jit`` (default ``0.001``).",
    )
