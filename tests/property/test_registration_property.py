"""Property tests: any name, alias or configuration either works or raises the documented error."""

from __future__ import annotations

import types

from hypothesis import given
from hypothesis import strategies as st
from strategies import any_labels, valid_labels

from turnout import (
    BackendDispatcher,
    BackendExistsError,
    ConfigurationError,
    ReservedBackendError,
    UnknownBackendError,
)

DOCUMENTED = (ConfigurationError, ReservedBackendError, BackendExistsError)


@given(
    st.lists(st.tuples(any_labels, st.lists(any_labels, max_size=3)), max_size=5),
    st.dictionaries(valid_labels, st.just("reserved"), max_size=2),
)
def test_registration_works_or_raises_a_documented_error(backends, reserved):
    dispatcher = BackendDispatcher("prop.registration.backends", "prop", reserved_backends=reserved)
    registered = []
    for name, aliases in backends:
        backend = types.SimpleNamespace(name=name, aliases=aliases)
        try:
            dispatcher.register_backend(backend)
        except DOCUMENTED:
            continue
        registered.append(backend)
    for backend in registered:
        assert dispatcher.get_backend(backend.name) is backend
        assert backend.name not in reserved
        assert backend.name != "cpu"


@given(any_labels)
def test_any_label_selects_or_raises_a_value_error(label):
    dispatcher = BackendDispatcher("prop.select.backends", "prop")
    dispatcher.register_backend(types.SimpleNamespace(name="gpu"))
    try:
        dispatcher.settings.backend = label
    except UnknownBackendError as error:
        assert isinstance(error, ValueError)
        assert "cpu" in error.installed or not isinstance(label, str) or not label
    else:
        assert label in ("gpu", "cpu")
