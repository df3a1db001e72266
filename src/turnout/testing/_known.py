"""A backend's known failures in a host's suite: ``known_failures`` and ``on_start_tests``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from turnout.testing._items import own_id, own_name, own_names

if TYPE_CHECKING:  # pytest only under the plugin: `turnout.testing` works without it
    import pytest


def known_patterns(declared: object) -> dict[str, str]:
    """Return ``{pattern: reason}`` from a backend's ``known_failures``.

    Raises
    ------
    TypeError
        It is neither a mapping of patterns to reasons nor a list of patterns.
    """
    if isinstance(declared, Mapping):
        patterns = {str(pattern): str(reason) for pattern, reason in declared.items()}
    elif isinstance(declared, Iterable) and not isinstance(declared, (str, bytes)):
        patterns = {str(pattern): "" for pattern in declared}
    else:
        msg = (
            f"known_failures must map test-id patterns to reasons, or list patterns; "
            f"got {type(declared).__name__}"
        )
        raise TypeError(msg)
    return patterns


def matches(item: pytest.Item, pattern: str) -> bool:
    """Whether a test answers to a known-failure pattern.

    A pattern with ``::`` is matched against the test's node id
    (``tests/test_stats.py::test_mean[int]``), also from any directory down
    (``test_stats.py::test_mean*``); one without, against the test's name
    (``test_mean[int]``) and its function's name (``test_mean``). Wildcards as
    in `fnmatch` (``*``, ``?``); a pattern equal to the id matches even when it
    has brackets. Under ``--turnout-backend=all`` the ids and names are the
    test's own, without ``turnout:NAME``.
    """
    if "::" in pattern:
        node = own_id(item)
        return pattern in (node, node.rpartition("/")[2]) or any(
            fnmatchcase(node, form) for form in (pattern, f"*/{pattern}")
        )
    names = {own_name(item), getattr(item, "originalname", item.name)}
    return pattern in names or any(fnmatchcase(name, pattern) for name in names)


class KnownFailures:
    """Marks the tests a backend declares it fails, and remembers what it marked."""

    def __init__(self) -> None:
        self._marked: dict[str, int] = {}  # backend -> tests marked
        self._unmatched: list[tuple[str, str]] = []  # (backend, pattern)

    def apply(self, name: str, backend: Any, items: list[pytest.Item]) -> None:
        """Mark `backend`'s ``known_failures`` as strict expected failures, then call its hook.

        Strict: a known failure that starts passing fails the run, so the list
        shrinks as the backend improves instead of hiding tests. The backend's
        ``on_start_tests(items)`` runs after, so it may refine the marks
        (``strict=False`` for a flaky test, a skip for a slow one); it sees each
        test under its own name, without ``turnout:NAME``.
        """
        declared = getattr(backend, "known_failures", None)
        if declared is not None:
            try:
                patterns = known_patterns(declared)
            except TypeError as error:
                import pytest  # noqa: PLC0415 - see above

                raise pytest.UsageError(f"backend {name!r}: {error}") from None
            used: set[str] = set()
            for item in items:
                pattern = next((p for p in patterns if matches(item, p)), None)
                if pattern is None:
                    continue
                used.add(pattern)
                reason = f"known failure of backend {name!r}" + (
                    f": {patterns[pattern]}" if patterns[pattern] else ""
                )
                import pytest  # noqa: PLC0415 - see above

                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                self._marked[name] = self._marked.get(name, 0) + 1
            self._unmatched.extend((name, p) for p in patterns if p not in used)
        hook = getattr(backend, "on_start_tests", None)
        if callable(hook):
            with own_names(items):
                hook(items)

    def summary(self) -> list[str]:
        """Return the summary's lines: how many tests each backend marked, patterns unused."""
        lines = [
            f"known failures of {name}: {count} test(s) marked as expected failures (strict)"
            for name, count in sorted(self._marked.items())
        ]
        lines.extend(
            f"known failure pattern of {name} matched no collected test: {pattern!r}"
            for name, pattern in self._unmatched
        )
        return lines
