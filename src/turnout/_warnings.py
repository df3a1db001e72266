"""Warnings: one base class so hosts can filter every turnout warning at once."""

from __future__ import annotations

import sys
import warnings

from turnout._lazytyping import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import final
else:

    def final(cls: type) -> type:
        """Mark a class as not meant to be subclassed (checked by type checkers)."""
        return cls


class TurnoutWarning(UserWarning):
    """Base class of every warning turnout emits.

    ``warnings.filterwarnings("ignore", category=turnout.TurnoutWarning)``
    silences them all; filter a subclass to silence one kind.
    """


@final
class UntrustedBackendWarning(TurnoutWarning):
    """A backend the host does not list as trusted was loaded (once per backend)."""


@final
class IgnoredArgumentWarning(TurnoutWarning):
    """A host-only argument not at its default was dropped for a backend call."""


@final
class EntryPointRejectedWarning(TurnoutWarning):
    """An entry point was refused: bad label, reserved or claimed name, failed trust."""


@final
class BackendSignatureWarning(TurnoutWarning):
    """A backend-only parameter could not be merged into the host signature."""


@final
class FallbackWarning(TurnoutWarning):
    """The selected backend lacks a function, so the host's code ran instead."""


@final
class ShadowedBackendWarning(TurnoutWarning):
    """An in-process backend hides an entry point that claims the same name."""


@final
class DeprecatedBackendWarning(TurnoutWarning):
    """A backend name or alias the host deprecated was selected; the message names the new one."""


@final
class BackendLoadWarning(TurnoutWarning):
    """A backend was left out while discovery loaded it (the reason says which and why).

    A module of the host's in-tree backend package failed to import, or an
    installed backend imported but raised when asked its name or aliases.
    """


@final
class ConfigurationWarning(TurnoutWarning):
    """An environment variable holds a value turnout cannot use; it is ignored."""


for _cls in (
    TurnoutWarning,
    UntrustedBackendWarning,
    IgnoredArgumentWarning,
    EntryPointRejectedWarning,
    BackendSignatureWarning,
    FallbackWarning,
    ShadowedBackendWarning,
    BackendLoadWarning,
    DeprecatedBackendWarning,
    ConfigurationWarning,
):
    _cls.__module__ = "turnout"
del _cls


def warn(message: str, category: type[TurnoutWarning]) -> None:
    """Warn at the first frame outside turnout: the user's call, or the host's."""
    frame = sys._getframe(1)  # noqa: SLF001 - the cheap way to walk frames
    level = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("turnout."):
        next_frame = frame.f_back
        if next_frame is None:
            break
        frame = next_frame
        level += 1
    warnings.warn(message, category, stacklevel=level)
