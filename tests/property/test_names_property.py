"""Property tests over labels and trusted configurations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from strategies import any_labels, valid_labels

from turnout import BackendDispatcher, ConfigurationError
from turnout._names import is_valid_label, label_problem, normalize_distribution


@given(valid_labels)
def test_generated_valid_labels_are_accepted(label):
    assert is_valid_label(label)


@given(st.text(max_size=20))
def test_a_label_is_valid_exactly_when_no_problem_is_found(text):
    problem = label_problem(text)
    assert (problem is None) == is_valid_label(text)
    if problem is None:
        assert text.isascii()
        assert text[0].isalnum()


@given(st.text(alphabet="abcXYZ-_.", min_size=1, max_size=20))
def test_normalize_distribution_is_idempotent(name):
    once = normalize_distribution(name)
    assert normalize_distribution(once) == once
    assert "_" not in once
    assert "." not in once


@given(
    st.dictionaries(
        any_labels.filter(lambda v: isinstance(v, str)),
        st.fixed_dictionaries(
            {},
            optional={
                "aliases": st.lists(any_labels, max_size=3),
                "package": st.one_of(valid_labels, st.none(), st.integers()),
            },
        ),
        max_size=3,
    ),
    st.dictionaries(valid_labels, st.one_of(st.text(max_size=5), st.none()), max_size=2),
)
def test_configuration_either_works_or_raises_configuration_error(trusted, reserved):
    try:
        dispatcher = BackendDispatcher(
            "prop.backends",
            "prop",
            trusted_backends=trusted,
            reserved_backends=reserved,
        )
    except ConfigurationError as error:
        assert error.problems
        assert isinstance(error, ValueError)
    else:
        assert dispatcher.settings.backend == "cpu"
