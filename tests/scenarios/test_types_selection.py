"""Automatic selection by type: every dispatch argument counts, abstract types, relative order."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from turnout import ConfigurationWarning

LIBRARY = """
class Base:
    pass

class Arr(Base):
    pass

class Other:
    pass
"""

BACKEND = """
class Backend:
    name = {name!r}
    aliases = {aliases!r}

    def combine(self, a, b=None):
        return {name!r}

    def total(self, values):
        return {name!r}
"""

TRUSTED = ("fast", "other", "both", "conv", "near", "aaa", "abstract", "sets", "attrs")


@pytest.fixture
def library(install):
    install("array-library", {}, {"array_library.py": LIBRARY})
    import array_library  # noqa: PLC0415 - written just above

    return array_library


def backend(install, name, types=(), secondary=(), **declared):
    """Install a backend whose turnout-backend.json declares `types` and `secondary`."""
    info = {"name": name, "types": list(types), "functions": ["combine", "total"], **declared}
    if secondary:
        info["secondary_types"] = list(secondary)
    install(
        f"pkg-{name}",
        {name: f"mod_{name}:Backend"},
        {
            f"mod_{name}/__init__.py": BACKEND.format(
                name=name, aliases=declared.get("aliases", [])
            ),
            f"mod_{name}/turnout-backend.json": json.dumps({install.group: info}),
        },
    )


def host(make_dispatcher):
    dispatcher = make_dispatcher(
        trusted_backends={name: {"package": f"pkg-{name}"} for name in TRUSTED},
        automatic=True,
    )

    @dispatcher.backend_dispatch(dispatch_args=("a", "b"))
    def combine(a, b=None):
        return "cpu"

    @dispatcher.backend_dispatch
    def total(values):
        return "cpu"

    return dispatcher, combine, total


# -- every dispatch argument counts -------------------------------------------------------------


def test_argument_order_never_decides_between_two_owners(install, library, make_dispatcher):
    backend(install, "fast", ["array_library:Arr"])
    backend(install, "other", ["array_library:Other"])
    dispatcher, combine, _ = host(make_dispatcher)
    arr, other = library.Arr(), library.Other()
    assert combine(arr, other) == "cpu"  # neither declares both: the host's code
    assert combine(other, arr) == "cpu"
    assert combine(arr, arr) == "fast"
    assert combine(other) == "other"  # b left out: it does not count
    assert combine(other, None) == "other"  # None says nothing about where data lives
    notes = dispatcher.explain(combine, arr, other).notes
    assert (
        "'fast' owns array_library:Arr ('a') but is ruled out: argument 'b' is "
        "array_library:Other, which it neither owns nor accepts"
    ) in notes
    assert (
        "'other' owns array_library:Other ('b') but is ruled out: argument 'a' is "
        "array_library:Arr, which it neither owns nor accepts"
    ) in notes


def test_a_backend_that_accepts_the_other_type_runs_in_either_order(
    install, library, make_dispatcher
):
    backend(install, "fast", ["array_library:Arr"])
    backend(install, "both", ["array_library:Arr"], ["array_library:Other"])
    dispatcher, combine, _ = host(make_dispatcher)
    arr, other = library.Arr(), library.Other()
    assert combine(arr, other) == "both"
    assert combine(other, arr) == "both"
    assert combine(arr, arr) == "both"  # owns it, and sorts before 'fast' by name
    explained = dispatcher.explain(combine, other, arr)
    assert explained.backend == "both"
    assert (
        "'both' accepts array_library:Other ('a'), owns array_library:Arr ('b')" in explained.notes
    )


def test_accepting_is_not_owning(install, library, make_dispatcher):
    backend(install, "conv", ["array_library:Base"], ["array_library:Other"])
    dispatcher, combine, _ = host(make_dispatcher)
    other = library.Other()
    assert combine(other, other) == "cpu"
    assert combine(library.Arr(), other) == "conv"  # owns Arr's base class
    assert (
        "'conv' accepts array_library:Other but is ruled out: it owns none of the "
        "arguments' types (secondary_types only)"
    ) in dispatcher.explain(combine, other, other).notes


def test_the_nearer_owner_of_several_arguments(install, library, make_dispatcher):
    # 'aaa' would win on its name; 'near' owns both types and accepts none of them.
    backend(install, "aaa", ["array_library:Arr"], ["array_library:Other"])
    backend(install, "near", ["array_library:Arr", "array_library:Other"])
    _, combine, _ = host(make_dispatcher)
    arr, other = library.Arr(), library.Other()
    assert combine(arr, other) == "near"
    assert combine(other, arr) == "near"
    assert combine(arr, arr) == "aaa"  # both own Arr itself: the name decides


def test_the_debug_log_names_the_argument_that_ruled_a_backend_out(
    install, library, make_dispatcher, caplog
):
    backend(install, "fast", ["array_library:Arr"])
    _, combine, _ = host(make_dispatcher)
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        assert combine(library.Arr(), library.Other()) == "cpu"
    assert any(
        "arguments a: array_library:Arr, b: array_library:Other" in message
        and "argument 'b' is array_library:Other, which it neither owns nor accepts" in message
        for message in caplog.messages
    )


ATTRIBUTES = """
class Backend:
    name = "attrs"
    types = ["array_library:Arr"]
    secondary_types = ["array_library:Other"]

    def combine(self, a, b=None):
        return "attrs"
"""


def test_types_declared_as_attributes_of_a_loaded_backend(install, library, make_dispatcher):
    install("pkg-attrs", {"attrs": "mod_attrs:Backend"}, {"mod_attrs.py": ATTRIBUTES})
    backend(install, "other", ["array_library:Other"])
    dispatcher, combine, _ = host(make_dispatcher)
    arr, other = library.Arr(), library.Other()
    assert dispatcher.get_backend("attrs") is not None  # loaded: it says it itself
    assert combine(other, arr) == "attrs"  # 'other' does not take an Arr
    assert combine(other, other) == "other"  # 'attrs' only accepts Other


# -- abstract types -----------------------------------------------------------------------------

ABSTRACT = """
import abc

class ArrayLike(abc.ABC):
    pass
"""

REGISTERED = """
import abstract_library

class Plain:
    pass

abstract_library.ArrayLike.register(Plain)
"""


def test_a_class_registered_with_a_declared_abstract_type(install, make_dispatcher):
    install("abstract-library", {}, {"abstract_library.py": ABSTRACT})
    install("plain-library", {}, {"plain_library.py": REGISTERED})
    backend(install, "abstract", ["abstract_library:ArrayLike"])
    dispatcher, _, total = host(make_dispatcher)
    assert total([1]) == "cpu"
    assert total(3) == "cpu"
    assert "abstract_library" not in sys.modules  # matching imported nothing
    assert install.imported() == []
    import plain_library  # noqa: PLC0415 - written by this test

    assert total(plain_library.Plain()) == "abstract"
    assert (
        "'abstract' owns abstract_library:ArrayLike"
        in dispatcher.explain(total, plain_library.Plain()).notes
    )

    class Late:
        pass

    assert total(Late()) == "cpu"
    plain_library.abstract_library.ArrayLike.register(Late)
    assert total(Late()) == "cpu"  # the answer for Late was cached before it registered
    dispatcher.refresh()  # routes forgotten: asked again
    assert total(Late()) == "abstract"


def test_a_standard_abstract_type(install, make_dispatcher):
    backend(install, "sets", ["collections.abc:Set"])
    _, _, total = host(make_dispatcher)
    assert total(frozenset({1})) == "sets"  # registered with Set, which is not in its MRO
    assert total([1]) == "cpu"


def test_python_scalars_through_a_standard_abstract_type(install, library, make_dispatcher):
    backend(install, "both", ["array_library:Arr"], ["numbers:Real"])
    _, combine, _ = host(make_dispatcher)
    assert combine(library.Arr(), 2.5) == "both"  # float is registered with numbers.Real
    assert combine(3, library.Arr()) == "both"
    assert combine(library.Arr(), 1j) == "cpu"  # complex is no Real
    assert combine(2.5, 2.5) == "cpu"  # it owns neither


# -- relative order: <HOST>_SET_ORDER -----------------------------------------------------------


@pytest.fixture
def two_owners(install, library):
    backend(install, "fast", ["array_library:Arr"], aliases=["quick"])
    backend(install, "other", ["array_library:Base"])
    return library


def test_set_order_puts_a_backend_before_another(two_owners, make_dispatcher, monkeypatch):
    arr = two_owners.Arr()
    dispatcher, _, total = host(make_dispatcher)
    assert total(arr) == "fast"  # it owns the nearer class
    monkeypatch.setenv("TESTHOST_SET_ORDER", "other>quick")
    dispatcher, _, total = host(make_dispatcher)
    assert total(arr) == "other"  # whichever owns the nearer class
    assert (
        "'other' before 'fast' (TESTHOST_SET_ORDER other>fast)"
        in dispatcher.explain(total, arr).notes
    )
    with dispatcher.settings.use_backend(["fast"]):
        assert total(arr) == "fast"  # a priority list in effect decides for what it names
    dispatcher.settings.backend = ["other"]
    assert total(arr) == "other"


def test_set_order_orders_what_a_priority_list_leaves_tied(
    install, library, make_dispatcher, monkeypatch
):
    backend(install, "fast", ["array_library:Arr"])
    backend(install, "other", ["array_library:Arr"])
    backend(install, "near", ["array_library:Arr"])
    monkeypatch.setenv("TESTHOST_SET_ORDER", "other>fast")
    dispatcher, _, total = host(make_dispatcher)
    dispatcher.settings.backend = ["near", "cpu"]
    with dispatcher.settings.use_fallback("error"):
        assert total(library.Arr()) == "near"
    decision = dispatcher.explain(total, library.Arr())
    assert "candidates, in order: near, other, fast, cpu" in decision.notes


def test_set_order_reports_each_problem_once(two_owners, make_dispatcher, monkeypatch):
    arr = two_owners.Arr()
    monkeypatch.setenv("TESTHOST_SET_ORDER", "fast>,other>fast, cpu>fast ,fsat>other,x>x")
    with pytest.warns(ConfigurationWarning) as caught:
        dispatcher, combine, total = host(make_dispatcher)
        assert total(arr) == "other"  # the good entry applies
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 4
    assert all(
        message.startswith("Environment variable TESTHOST_SET_ORDER=") for message in messages
    )
    assert any("'fast>' is ignored: a label is missing around '>'" in m for m in messages)
    assert any("'cpu>fast' is ignored: 'cpu' is the host's own code" in m for m in messages)
    assert any("'x>x' is ignored: it names 'x' twice" in m for m in messages)
    assert any(
        "'fsat' is ignored: no installed, trusted or registered backend answers to it. "
        "Did you mean 'fast'?" in m
        for m in messages
    )
    assert all("Expected backend labels joined by '>'" in m for m in messages)
    assert combine(arr) == "other"  # another function, another route: no warning again
    assert dispatcher.explain(total, two_owners.Base()).backend == "other"
