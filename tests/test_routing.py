"""CallPlan: routing one host call to one backend function."""

from __future__ import annotations

import inspect

import pytest

from turnout import DispatchDefinitionError, IgnoredArgumentWarning
from turnout._routing import CallPlan, is_default


def plan(host, backend, known=()):
    return CallPlan(
        host=inspect.signature(host),
        backend=inspect.signature(backend),
        implementation=backend,
        function="pkg.f",
        backend_name="gpu",
        keyword="backend",
        known=known,
    )


def record(*args, **kwargs):
    return (args, kwargs)


def test_identical_signatures_call_the_backend_directly():
    def host(a, b=1, *, c=2):
        pass

    def backend(a, b=1, *, c=2):
        return ("gpu", a, b, c)

    p = plan(host, backend)
    assert p.identity
    assert p.fast is backend
    assert p.shared == ("a", "b", "c")


def test_host_only_parameter_is_dropped_with_a_warning_only_when_not_default():
    def host(x, axis=None):
        pass

    def backend(x):
        return x

    p = plan(host, backend)
    assert not p.identity
    assert p.host_only == ("axis",)
    assert p.call(5, None) == 5
    with pytest.warns(
        IgnoredArgumentWarning, match=r"pkg.f\(\): argument 'axis'=0 is ignored by backend 'gpu'"
    ) as caught:
        assert p.call(5, 0) == 5
    assert "leave it at its default (None)" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller, not at turnout


def test_omitted_shared_parameter_uses_the_backends_default():
    def host(x, n_jobs=None):
        pass

    def backend(x, n_jobs=-1):
        return n_jobs

    p = plan(host, backend)
    assert not p.identity
    assert p.call(1, None) == -1  # left at the host's default: the backend's own default
    assert p.call(1, 4) == 4


def test_backend_only_keywords_are_forwarded_and_unknown_ones_raise():
    def host(x):
        pass

    def backend(x, *, method="fast"):
        return (x, method)

    p = plan(host, backend)
    assert p.backend_only == ("method",)
    assert p.call(1) == (1, "fast")
    assert p.call(1, method="exact") == (1, "exact")
    with pytest.raises(TypeError, match=r"pkg.f\(\) got an unexpected keyword argument 'nope'"):
        p.call(1, nope=2)


def test_keyword_of_another_backend_is_ignored_with_a_warning():
    def host(x):
        pass

    def backend(x):
        return x

    p = plan(host, backend, known={"method"})
    with pytest.warns(IgnoredArgumentWarning, match="'method'"):
        assert p.call(1, method="x") == 1


def test_positional_only_and_keyword_kinds_are_mapped_by_name():
    def host(a, b, /, c, *, d=4):
        pass

    def backend(b, a, /, *, c, d=4, e=5):
        return ("a", a, "b", b, "c", c, "d", d, "e", e)

    p = plan(host, backend)
    assert not p.identity
    assert p.call(1, 2, 3, d=9) == ("a", 1, "b", 2, "c", 3, "d", 9, "e", 5)


def test_positional_only_backend_default_is_filled_when_a_later_one_is_given():
    def host(a, c, /):
        pass

    def backend(a, b=7, c=0, /):
        return (a, b, c)

    assert plan(host, backend).call(1, 3) == (1, 7, 3)


def test_var_positional_is_passed_through_after_the_backends_positionals():
    def host(a, *rest):
        pass

    def backend(a, scale=10, *rest):
        return (a, scale, rest)

    p = plan(host, backend)
    assert p.call(1, 2, 3) == (1, 10, (2, 3))


def test_host_var_positional_needs_one_in_the_backend():
    def host(a, *rest):
        pass

    def backend(a):
        pass

    with pytest.raises(DispatchDefinitionError, match=r"takes \*rest") as excinfo:
        plan(host, backend)
    assert "pkg.f() to backend 'gpu'" in str(excinfo.value)


def test_backend_that_cannot_take_a_required_host_parameter_is_a_definition_error():
    def host(values, /, axis):
        pass

    def backend(x, /, axis):
        pass

    with pytest.raises(
        DispatchDefinitionError, match=r"does not take 'values', which pkg\.f\(\) requires"
    ):
        plan(host, backend)


def test_required_backend_only_parameter_is_a_definition_error():
    def host(a):
        pass

    def backend(a, mode):
        pass

    with pytest.raises(DispatchDefinitionError, match="'mode' are required") as excinfo:
        plan(host, backend)
    assert isinstance(excinfo.value, TypeError)
    assert "test_routing" in str(excinfo.value)  # names the backend function


def test_var_keyword_on_both_sides():
    def host(a, **options):
        pass

    def backend(a, **options):
        return (a, options)

    p = plan(host, backend)
    assert p.identity
    assert p.fast(1, x=2) == (1, {"x": 2})


def test_host_var_keyword_content_the_backend_cannot_take_is_ignored():
    def host(a, **options):
        pass

    def backend(a, *, x=0):
        return (a, x)

    p = plan(host, backend)
    with pytest.warns(IgnoredArgumentWarning, match="'y'"):
        assert p.call(1, x=2, y=3) == (1, 2)


def test_backend_var_keyword_takes_every_host_parameter_by_name():
    def host(a, b=2):
        pass

    def backend(**kwargs):
        return kwargs

    assert plan(host, backend).call(1, 5) == {"a": 1, "b": 5}


def test_describe():
    def host(a, axis=0):
        pass

    def backend(a, *, method="x"):
        pass

    assert plan(host, backend).describe() == "forwards a; drops axis; adds method"


class Weird:
    def __eq__(self, other):
        raise RuntimeError

    __hash__ = object.__hash__


def test_is_default_never_trusts_odd_equality():
    assert is_default(None, None)
    assert is_default(3, 3)
    assert not is_default(3, 3.0)
    assert not is_default(Weird(), Weird())
