"""Run a host's CPU-versus-backend checks against one backend (scverse-backends compatible)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def run_conformance(
    *,
    backend_name: str,
    tests: dict[str, Callable[[str], None]],
    get_backend: Callable[[str], Any | None],
    functions: Sequence[str] | None = None,
    raise_on_failure: bool = True,
) -> dict[str, str]:
    """Run host-supplied checks against a backend, one per function.

    Same call and results as ``scverse_backends.testing.run_conformance``, so a
    host's existing feedback checks run unchanged.

    Parameters
    ----------
    backend_name
        Name or alias of the backend to check.
    tests
        ``{function name: check}``; each check receives `backend_name` and
        asserts what it expects (e.g. CPU and backend results agree).
    get_backend
        The host's ``get_backend``: resolves `backend_name`, and tells which
        functions the backend implements.
    functions
        Run only these checks; None runs all.
    raise_on_failure
        Re-raise the first failing check (after recording it).

    Returns
    -------
    dict of str to str
        ``"PASSED"``, ``"SKIPPED (not implemented)"`` or ``"FAILED: <message>"``
        per function.

    Raises
    ------
    ValueError
        `get_backend` does not know `backend_name`, or `functions` is not a
        sequence of check names.
    """
    backend = get_backend(backend_name)
    if backend is None:
        raise ValueError(
            f"Backend {backend_name!r} not found: install it, or check the name "
            "against the host's available_backend_names()."
        )
    selected = _select(tests, functions)
    results: dict[str, str] = {}
    for name, check in selected.items():
        if getattr(backend, name, None) is None:
            results[name] = "SKIPPED (not implemented)"
            continue
        try:
            check(backend_name)
        except Exception as error:
            results[name] = f"FAILED: {error}"
            if raise_on_failure:
                raise
        else:
            results[name] = "PASSED"
    return results


def _select(
    tests: dict[str, Callable[[str], None]], functions: Sequence[str] | None
) -> dict[str, Callable[[str], None]]:
    if functions is None:
        return dict(tests)
    if isinstance(functions, str) or any(not isinstance(f, str) or not f for f in functions):
        raise ValueError(
            f"functions must be a sequence of non-empty strings naming checks, got {functions!r}."
        )
    unknown = sorted(set(functions) - tests.keys())
    if unknown:
        raise ValueError(f"Unknown conformance functions: {unknown}. Known: {sorted(tests)}.")
    return {name: tests[name] for name in functions}
