"""Errors and warnings: hierarchy, fields, messages, pickling."""

from __future__ import annotations

import pickle
import warnings

import pytest

import turnout
from turnout import (
    BackendExistsError,
    BackendLoadError,
    BackendNotInstalledError,
    ConfigurationError,
    DispatchDefinitionError,
    MissingImplementationError,
    ReservedBackendError,
    TurnoutError,
    UnknownBackendError,
    UntrustedBackendError,
)

ERRORS = [
    (
        UnknownBackendError(
            label="acel",
            host_name="h",
            suggestions=["accel"],
            installed=["accel", "cpu"],
        ),
        ValueError,
    ),
    (ReservedBackendError(label="cuda", host_name="h", reason="use gpu"), ValueError),
    (
        BackendNotInstalledError(label="fast", host_name="h", canonical="gpu", package="h-gpu"),
        ImportError,
    ),
    (
        BackendLoadError(
            label="gpu",
            host_name="h",
            source="entry point 'gpu = m' from d 1",
            error="E: x",
        ),
        ImportError,
    ),
    (
        UntrustedBackendError(label="x", host_name="h", source="entry point 'x = m' from d 1"),
        ImportError,
    ),
    (
        BackendExistsError(label="x", host_name="h", holder="in-tree class m.X"),
        ValueError,
    ),
    (ConfigurationError(problems=["a", "b"], host_name="h"), ValueError),
    (DispatchDefinitionError(target="m.f()", problem="p", action="do a"), TypeError),
    (
        MissingImplementationError(
            label="gpu", host_name="h", function="m.f", implemented_by=["jit"]
        ),
        NotImplementedError,
    ),
    (
        turnout.BackendRefusedError(
            label="gpu",
            host_name="h",
            source="entry point 'gpu = m' from d 1",
            reason="r",
            package="h-gpu",
        ),
        ImportError,
    ),
]


@pytest.mark.parametrize(("error", "builtin"), ERRORS, ids=lambda e: type(e).__name__)
def test_hierarchy_and_pickling(error, builtin):
    assert isinstance(error, TurnoutError)
    assert isinstance(error, builtin)
    assert type(error).__module__ == "turnout"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.__dict__.keys() == error.__dict__.keys()


def test_messages_follow_subject_expectation_action():
    assert (
        str(ERRORS[0][0])
        == "Unknown backend 'acel' for h. Did you mean 'accel'? Installed: accel, cpu."
    )
    assert str(ERRORS[2][0]) == (
        "Backend 'fast' (gpu) for h is not installed. Install it with: pip install h-gpu"
    )
    assert str(ERRORS[7][0]) == "Cannot dispatch m.f(): p; do a"
    assert "Implemented by: jit" in str(ERRORS[8][0])
    assert str(ERRORS[6][0]) == "Invalid BackendDispatcher configuration for h:\n  - a\n  - b"


def test_every_warning_is_a_turnout_warning_and_a_user_warning():
    names = [name for name in turnout.__all__ if name.endswith("Warning")]
    assert len(names) == 10
    for name in names:
        cls = getattr(turnout, name)
        assert issubclass(cls, turnout.TurnoutWarning)
        assert issubclass(cls, UserWarning)
        assert cls.__module__ == "turnout"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=turnout.TurnoutWarning)
        warnings.warn("quiet", turnout.FallbackWarning, stacklevel=1)
