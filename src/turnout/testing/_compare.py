"""Whether a backend's result agrees with the host's: ``pytest --turnout-compare``."""

from __future__ import annotations

import cmath
import math
import sys
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from numbers import Complex, Integral, Number
from typing import Any

_SHOWN = 80  # characters of a result shown in a message


def compare_results(
    result: Any, expected: Any, *, rel_tol: float = 1e-9, abs_tol: float = 0.0
) -> bool | str:
    """Return True when a backend's `result` agrees with the host's `expected`, else where not.

    What ``pytest --turnout-backend=NAME --turnout-compare`` applies unless the
    suite or the backend says otherwise (``pytest_turnout_compare``,
    ``turnout_compare``); a backend's ``turnout_compare`` may call it with its
    own tolerance.

    - Floating-point and complex numbers agree within `rel_tol` and `abs_tol`
      (`math.isclose`); two NaNs agree.
    - NumPy arrays (when NumPy is already imported: this never imports it)
      agree when their shapes are equal and their elements agree as above,
      or are equal for non-numeric arrays.
    - Sequences (not strings) agree element by element and mappings key by
      key, whatever their types: a tuple may answer for a list.
    - Anything else agrees when ``==`` says so.

    Parameters
    ----------
    result
        What the backend returned.
    expected
        What the host's code returned for the same call.
    rel_tol, abs_tol
        The tolerances for floating-point numbers, as `math.isclose` takes them.

    Returns
    -------
    bool or str
        True when they agree; otherwise a sentence saying where they differ.

    Examples
    --------
    >>> from turnout.testing import compare_results
    >>> compare_results([0.1 + 0.2, 1.0], [0.3, 1.0])
    True
    >>> compare_results([0.3, 1.0], [0.3, 2.0])
    'at [1]: 1.0 != 2.0'
    """
    difference = _difference(result, expected, "", rel_tol, abs_tol)
    return True if difference is None else difference


def _difference(  # noqa: PLR0911 - one answer per kind of value
    a: Any, b: Any, where: str, rel_tol: float, abs_tol: float
) -> str | None:
    """Return where `a` and `b` differ (None: they agree)."""
    if a is b:
        return None
    at = f"at {where}: " if where else ""
    if _is_array(a) or _is_array(b):
        return _array_difference(a, b, at, rel_tol, abs_tol)
    if _is_inexact(a) or _is_inexact(b):
        numbers = isinstance(a, Number) and isinstance(b, Number)
        return None if numbers and _close(a, b, rel_tol, abs_tol) else _unequal(a, b, at)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            keys = sorted(map(repr, set(a) ^ set(b)))
            return f"{at}keys differ: {', '.join(keys)} in only one of them"
        pairs = [(f"{where}[{key!r}]", a[key], b[key]) for key in a]
        return _first_difference(pairs, rel_tol, abs_tol)
    if _is_sequence(a) and _is_sequence(b):
        if len(a) != len(b):
            return f"{at}lengths differ: {len(a)} != {len(b)}"
        pairs = [(f"{where}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b, strict=True))]
        return _first_difference(pairs, rel_tol, abs_tol)
    return _equal(a, b, at)


def _first_difference(
    pairs: list[tuple[str, Any, Any]], rel_tol: float, abs_tol: float
) -> str | None:
    for where, a, b in pairs:
        found = _difference(a, b, where, rel_tol, abs_tol)
        if found is not None:
            return found
    return None


def _equal(a: Any, b: Any, at: str) -> str | None:
    try:
        same = bool(a == b)
    except Exception as error:  # noqa: BLE001 - said in the verdict
        return f"{at}cannot compare them: == raised {type(error).__name__}: {error}"
    return None if same else _unequal(a, b, at)


def _unequal(a: Any, b: Any, at: str) -> str:
    return f"{at}{shorten(a)} != {shorten(b)}"


def _is_inexact(value: object) -> bool:
    """Whether `value` is a floating-point or complex number (bool and ints are exact)."""
    return isinstance(value, Complex) and not isinstance(value, Integral)


def _close(a: Any, b: Any, rel_tol: float, abs_tol: float) -> bool:
    try:
        x, y = complex(a), complex(b)
    except (TypeError, ValueError, OverflowError):
        return bool(a == b)
    if cmath.isnan(x) or cmath.isnan(y):
        return cmath.isnan(x) and cmath.isnan(y)
    if x.imag == 0 and y.imag == 0:
        return math.isclose(x.real, y.real, rel_tol=rel_tol, abs_tol=abs_tol)
    return cmath.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol)


def _is_sequence(value: object) -> bool:
    return isinstance(value, (Sequence, AbstractSet)) and not isinstance(
        value, (str, bytes, bytearray, memoryview)
    )


def _is_array(value: object) -> bool:
    numpy = sys.modules.get("numpy")  # never imported here: only arrays of a loaded NumPy
    return numpy is not None and isinstance(value, numpy.ndarray)


def _array_difference(a: Any, b: Any, at: str, rel_tol: float, abs_tol: float) -> str | None:
    numpy = sys.modules["numpy"]
    try:
        x, y = numpy.asarray(a), numpy.asarray(b)
    except Exception as error:  # noqa: BLE001 - said in the verdict
        return f"{at}cannot compare them as arrays: {type(error).__name__}: {error}"
    if x.shape != y.shape:
        return f"{at}shapes differ: {x.shape} != {y.shape}"
    numeric = x.dtype.kind in "biufc" and y.dtype.kind in "biufc"
    same = numpy.isclose(x, y, rtol=rel_tol, atol=abs_tol, equal_nan=True) if numeric else x == y
    if bool(numpy.all(same)):
        return None
    first = tuple(int(i) for i in numpy.argwhere(~numpy.asarray(same, dtype=bool))[0])
    index = first if len(first) != 1 else first[0]
    left, right = _element(x[first]), _element(y[first])
    return f"{at}arrays differ first at [{index}]: {shorten(left)} != {shorten(right)}"


def _element(value: Any) -> object:
    """Return an array element as the Python value it holds (NumPy 2 shows np.float64(2.0))."""
    item = getattr(value, "item", None)
    try:
        return item() if callable(item) else value
    except Exception:  # noqa: BLE001 - an element that cannot convert is shown as it is
        return value


def shorten(value: object) -> str:
    """Return a repr short enough for a message."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the mismatch
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
