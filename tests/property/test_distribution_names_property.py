"""Distribution names normalise as `packaging.utils.canonicalize_name` does (PEP 503)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from turnout._names import normalize_distribution

# Separators and letters whose lower case is longer, or is a separator's neighbour.
_NAME_CHARS = st.sampled_from("aZ09-_.İẞΣς ~\t")


@given(st.one_of(st.text(), st.text(_NAME_CHARS)))
@example("Foo.Bar__baz--QUX")
@example("--_.")
@example("İ-.-ẞ")
def test_normalize_distribution_is_packaging_canonicalize_name(name):
    assert normalize_distribution(name) == canonicalize_name(name)


@given(st.text(_NAME_CHARS))
def test_normalize_distribution_is_idempotent(name):
    once = normalize_distribution(name)
    assert normalize_distribution(once) == once
