"""Logging on the ``turnout`` logger without importing `logging`."""

from __future__ import annotations

import sys


def debug(message: str, *args: object) -> None:
    """Log at DEBUG on the ``turnout`` logger, if the program uses `logging` at all.

    A program that never imported `logging` has configured no handler, so the
    import (milliseconds, on a first backend call) is skipped.
    """
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("turnout").debug(message, *args)


def is_debugging() -> bool:
    """Whether a DEBUG record on the ``turnout`` logger would be handled (cheap when off)."""
    logging = sys.modules.get("logging")
    return logging is not None and logging.getLogger("turnout").isEnabledFor(logging.DEBUG)
