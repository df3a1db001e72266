"""Automatic selection by type, alone: argument order never decides; the relative order holds."""

from __future__ import annotations

import abc
import itertools

from hypothesis import given
from hypothesis import strategies as st

from turnout._decision import Owner, counted, ordered, owners_of, parse_order
from turnout._shape import OMITTED


class Base:
    pass


class Arr(Base):
    pass


class Sub(Arr):
    pass


class Other:
    pass


class Like(abc.ABC):  # noqa: B024 - an abstract base class without abstract methods
    pass


class Registered:
    pass


Like.register(Registered)

CLASSES = [Base, Arr, Sub, Other, Registered, type(None), type(OMITTED)]
NAMES = [f"{__name__}:{cls.__qualname__}" for cls in (Base, Arr, Sub, Other, Like)]
LABELS = ["a", "b", "c", "d"]

owners = st.lists(
    st.builds(
        lambda name, types, secondary, priority: Owner(
            name, types, secondary=secondary, priority=priority
        ),
        st.sampled_from(LABELS),
        st.sets(st.sampled_from(NAMES), max_size=3),
        st.sets(st.sampled_from(NAMES), max_size=2),
        st.integers(-2, 2),
    ),
    max_size=4,
    unique_by=lambda owner: owner.name,
)
arguments = st.lists(st.sampled_from(CLASSES), min_size=1, max_size=3)
preferences = st.lists(st.sampled_from(LABELS), unique=True, max_size=3)
orders = st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)), max_size=4)


@given(owners, arguments, preferences, st.randoms(use_true_random=False))
def test_argument_order_never_decides(found, kinds, preference, random):
    named = [(f"p{index}", kind) for index, kind in enumerate(kinds)]
    shuffled = random.sample(named, len(named))
    first, _ = owners_of(named, found, preference)
    second, _ = owners_of(shuffled, found, preference)
    assert first == second


@given(owners, arguments, preferences)
def test_a_backend_chosen_owns_one_argument_and_takes_all(found, kinds, preference):
    named = [(f"p{index}", kind) for index, kind in enumerate(kinds)]
    chosen, reasons = owners_of(named, found, preference)
    assert reasons  # always a reason to show
    by_name = {owner.name: owner for owner in found}
    given_types = [kind for _, kind in counted(named)]
    for name in chosen:
        matches = [by_name[name].match(kind) for kind in given_types]
        assert all(match is not None for match in matches)
        assert any(match is not None and match[1] for match in matches)
    if not given_types:
        assert chosen == []


@given(orders, st.lists(st.sampled_from(LABELS), unique=True), preferences)
def test_ordered_keeps_every_pair_that_applies(pairs, names, preference):
    text = ",".join(f"{a}>{b}" for a, b in pairs)
    parsed, _ = parse_order(text)
    listed = {label: index for index, label in enumerate(preference)}
    result, moved = ordered(names, parsed, listed)
    assert sorted(result) == sorted(names)
    for before, after in parsed:
        if before in names and after in names and after not in listed:
            assert result.index(before) < result.index(after)
    assert set(moved) <= set(parsed)
    if not parsed:
        assert result == names


@given(st.text(alphabet="abc>, x-", max_size=20))
def test_parse_order_gives_an_acyclic_order_and_says_what_it_left_out(text):
    pairs, problems = parse_order(text)
    assert all(before != after for before, after in pairs)
    assert all(" is ignored: " in problem for problem in problems)
    graph = dict.fromkeys(itertools.chain.from_iterable(pairs), ())
    for before, after in pairs:
        graph[before] = (*graph[before], after)

    def reaches(start, goal, seen=()):
        return any(
            step == goal or (step not in seen and reaches(step, goal, (*seen, step)))
            for step in graph.get(start, ())
        )

    assert not any(reaches(label, label) for label in graph)


def test_a_later_entry_overrides_an_earlier_opposite_one():
    assert parse_order("a>b,b>a") == ((("b", "a"),), [])
    assert parse_order("a>b>c") == ((("a", "b"), ("b", "c")), [])
    pairs, problems = parse_order("a>b,b>c,c>a")
    assert pairs == (("a", "b"), ("b", "c"))
    assert problems == ["'c>a' is ignored: it would close the cycle c>a>b>c"]
