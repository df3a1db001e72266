"""CallPlan and its route: one host call reaching one backend function."""

from __future__ import annotations

import functools
import operator

import pytest

from turnout import DispatchDefinitionError, IgnoredArgumentWarning
from turnout._codegen import binder_factory
from turnout._codegen import route as make_route
from turnout._plan import CallPlan, is_default
from turnout._shape import shape_of


def plan(host, backend, known=(), mapping=None, forward_unknown=False):
    return CallPlan(
        host=shape_of(host),
        backend=shape_of(backend),
        implementation=backend,
        function="pkg.f",
        backend_name="gpu",
        keyword="backend",
        known=lambda: frozenset(known),
        mapping=mapping,
        forward_unknown=forward_unknown,
    )


def declined(error, *args):
    raise AssertionError(f"declined: {error}")


def bound(p, decline=None):
    """The plan's route, callable as the host is (as a non-plain host's wrapper calls it)."""
    make = binder_factory("f", p.host, is_async=False)
    return make(make_route(p, "f", decline or declined))


def route(host, backend, **options):
    return bound(plan(host, backend, **options))


def test_identical_signatures_forward_everything():
    def host(a, b=1, *, c=2):
        pass

    def backend(a, b=1, *, c=2):
        return ("gpu", a, b, c)

    p = plan(host, backend)
    assert p.shared == ("a", "b", "c")
    assert bound(p)(5) == ("gpu", 5, 1, 2)
    assert bound(p)(5, 6, c=7) == ("gpu", 5, 6, 7)


def test_host_only_parameter_is_dropped_with_a_warning_only_when_not_default():
    def host(x, axis=None):
        pass

    def backend(x):
        return x

    p = plan(host, backend)
    assert p.host_only == ("axis",)
    r = bound(p)
    assert r(5) == 5
    assert r(5, None) == 5
    with pytest.warns(
        IgnoredArgumentWarning, match=r"pkg.f\(\): argument 'axis'=0 is ignored by backend 'gpu'"
    ) as caught:
        assert r(5, 0) == 5
    assert "leave it at its default (None)" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller, not at turnout


@pytest.mark.parametrize("value", [None, True, False, 0, 1, "umap", ()])
def test_an_explicit_argument_reaches_the_backend_even_when_it_is_the_hosts_default(value):
    def host(x, option=value):
        pass

    def backend(x, option="backend's own"):
        return option

    r = route(host, backend)
    assert r(1, value) == value  # given: forwarded unchanged, whatever its value
    assert r(1, option=value) == value
    assert r(1) == "backend's own"  # truly omitted: the backend's own default


def test_an_omitted_argument_the_backend_requires_gets_the_hosts_default():
    def host(x, n=3):
        pass

    def backend(x, n):
        return n

    assert route(host, backend)(1) == 3
    assert route(host, backend)(1, 5) == 5


def test_backend_only_keywords_are_forwarded_and_unknown_ones_raise():
    def host(x):
        pass

    def backend(x, *, method="fast"):
        return (x, method)

    p = plan(host, backend)
    assert p.backend_only == ("method",)
    r = bound(p)
    assert r(1) == (1, "fast")
    assert r(1, method="exact") == (1, "exact")
    with pytest.raises(TypeError, match=r"pkg.f\(\) got an unexpected keyword argument 'nope'"):
        r(1, nope=2)


def test_a_host_with_a_wider_real_signature_passes_unknown_keywords_on():
    def host(x):
        pass

    def backend(x, **options):
        return options

    assert route(host, backend, forward_unknown=True)(1, chunked=True) == {"chunked": True}


def test_keyword_of_another_backend_is_ignored_with_a_warning():
    def host(x):
        pass

    def backend(x):
        return x

    with pytest.warns(IgnoredArgumentWarning, match="'method'"):
        assert route(host, backend, known={"method"})(1, method="x") == 1


def test_positional_only_parameters_are_matched_by_position():
    def host(values, /):
        pass

    def backend(data, /):
        return ("gpu", data)

    assert route(host, backend)([1]) == ("gpu", [1])

    def host2(a, b, /, c, *, d=4):
        pass

    def backend2(b, a, /, *, c, d=4, e=5):
        return ("a", a, "b", b, "c", c, "d", d, "e", e)

    # host a -> the backend's first slot (named b), host b -> its second (named a)
    assert route(host2, backend2)(1, 2, 3, d=9) == ("a", 2, "b", 1, "c", 3, "d", 9, "e", 5)


def test_positional_only_backend_default_is_filled_when_a_later_one_is_given():
    def host(a, c, /):
        pass

    def backend(a, b=7, c=0, /):
        return (a, b, c)

    # by position: host a -> slot 0, host c -> slot 1 (the backend's b)
    assert route(host, backend)(1, 3) == (1, 3, 0)


def test_var_positional_is_passed_through_after_the_backends_positionals():
    def host(a, *rest):
        pass

    def backend(a, scale=10, *rest):
        return (a, scale, rest)

    assert route(host, backend)(1, 2, 3) == (1, 10, (2, 3))


def test_host_var_positional_needs_one_in_the_backend():
    def host(a, *rest):
        pass

    def backend(a):
        pass

    with pytest.raises(DispatchDefinitionError, match=r"takes \*rest") as excinfo:
        plan(host, backend)
    assert "pkg.f() to backend 'gpu'" in str(excinfo.value)


def test_backend_that_cannot_take_a_required_host_parameter_is_a_definition_error():
    def host(values, axis):
        pass

    def backend(x, /, ax):
        pass

    with pytest.raises(
        DispatchDefinitionError, match=r"does not take 'values', 'axis', which pkg\.f\(\) requires"
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
    assert f"{__name__}.test_required" in str(excinfo.value)  # names the backend function


def test_var_keyword_on_both_sides():
    def host(a, **options):
        pass

    def backend(a, **options):
        return (a, options)

    assert route(host, backend)(1, x=2) == (1, {"x": 2})


def test_host_var_keyword_content_the_backend_cannot_take_is_ignored():
    def host(a, **options):
        pass

    def backend(a, *, x=0):
        return (a, x)

    with pytest.warns(IgnoredArgumentWarning, match="'y'"):
        assert route(host, backend)(1, x=2, y=3) == (1, 2)


def test_backend_var_keyword_takes_given_host_parameters_by_name():
    def host(a, b=2):
        pass

    def backend(**kwargs):
        return kwargs

    assert route(host, backend)(1, 5) == {"a": 1, "b": 5}
    assert route(host, backend)(1) == {"a": 1}


def test_parameter_map_renames_and_transforms():
    def host(data, inplace=False, n=3):
        pass

    def backend(adata, copy=True, n=3):
        return (adata, copy, n)

    mapping = {"data": "adata", "inplace": ("copy", operator.not_)}
    p = plan(host, backend, mapping=mapping)
    assert p.renamed == {"data": "adata", "inplace": "copy"}
    assert "renames data as adata, inplace as copy" in p.describe()
    r = bound(p)
    assert r("X") == ("X", True, 3)  # inplace omitted: the backend's own default
    assert r("X", inplace=True) == ("X", False, 3)
    assert r("X", False) == ("X", True, 3)


def test_a_backend_argument_claimed_twice_is_a_definition_error():
    def host(x, /, y):
        pass

    def backend(y, x=0):
        pass

    with pytest.raises(DispatchDefinitionError, match="would receive both"):
        plan(host, backend)


def test_a_backend_function_that_is_not_plain_gets_omitted_arguments_left_out():
    def real(x, n=99, **kwargs):
        return (x, n, kwargs)

    @functools.wraps(real)
    def wrapped(*args, **kwargs):
        return real(*args, **kwargs)

    def host(x, n=3):
        pass

    r = route(host, wrapped)
    assert r(1) == (1, 99, {})  # left out: the real default applies
    assert r(1, 3) == (1, 3, {})


def test_not_implemented_goes_to_the_decline_handler_with_the_call():
    def host(x, scale=1):
        pass

    def backend(x, scale=1):
        raise NotImplementedError("sparse input")

    seen = []

    def decline(error, *args):
        seen.append((str(error), args))
        return "host ran"

    r = bound(plan(host, backend), decline)
    assert (
        r(
            1,
            scale=2,
        )
        == "host ran"
    )
    assert seen[0][0] == "sparse input"
    assert seen[0][1][:2] == (1, 2)


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
