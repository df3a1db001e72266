"""Logging on the ``turnout`` logger without importing `logging`."""

from __future__ import annotations

import sys

from turnout import _lazytyping as t


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


_watchers: list[t.Any] = []


def watch_level(callback: t.Any) -> bool:
    """Call `callback()` (a bound method, held weakly) whenever logging changes a level.

    `logging` clears its level cache on every ``setLevel``, ``basicConfig``,
    ``dictConfig`` and ``disable``: the callback runs right after. Returns
    False when `logging` is not imported (nothing to watch: no handler can be
    configured yet) or offers no such hook.
    """
    logging = sys.modules.get("logging")
    manager = getattr(getattr(logging, "Logger", None), "manager", None)
    clear = getattr(manager, "_clear_cache", None)
    if manager is None or clear is None:
        return False
    if not _watchers:

        def cleared() -> None:
            clear()
            for watcher in list(_watchers):
                method = watcher()
                if method is None:
                    _watchers.remove(watcher)
                else:
                    method()

        manager._clear_cache = cleared  # noqa: SLF001 - logging's one hook on level changes
    import weakref  # noqa: PLC0415 - only once something is watched

    held = weakref.WeakMethod(callback)
    if held not in _watchers:
        _watchers.append(held)
    return True
