"""Property tests: routing never loses, duplicates or alters an argument; merges are idempotent."""

from __future__ import annotations

import inspect
import warnings

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import host_signatures, make_function

from turnout import DispatchDefinitionError, TurnoutWarning
from turnout._codegen import Emitter, as_given, binder_factory
from turnout._codegen import route as make_route
from turnout._merged_api import collect_additions, merged_signature
from turnout._plan import CallPlan
from turnout._shape import OMITTED, shape_of


@st.composite
def host_and_backend(draw):
    """A host spec and a backend spec that serves it.

    Host positional-only parameters map to the backend's leading positional
    parameters, renamed (``b0``, ``b1``...): they are matched by position. Other
    host parameters are shared by name or, if they have a default, dropped.
    """
    spec = draw(host_signatures())
    posonly = [s for s in spec if s[0] == "posonly"]
    backend_spec = [
        ("posonly" if draw(st.booleans()) else "poskw", f"b{i}", has_default)
        for i, (_, _, has_default) in enumerate(posonly)
    ]
    if any(s[0] == "posonly" for s in backend_spec) and backend_spec[-1][0] == "poskw":
        backend_spec = [("posonly", n, d) for _, n, d in backend_spec]
    others = [s for s in spec if s[0] in ("poskw", "kwonly")]
    shared = [s for s in others if not s[2] or draw(st.booleans())]
    tail = [("kwonly" if draw(st.booleans()) else "poskw", n, d) for _, n, d in shared]
    tail.sort(key=lambda s: s[0] != "poskw")
    positional_tail = [s for s in tail if s[0] == "poskw"]
    # keep "no required positional after a defaulted one" valid in the backend
    if any(d for _, _, d in backend_spec) or any(d for _, _, d in positional_tail):
        tail = [(k, n, True) if k == "poskw" else (k, n, d) for k, n, d in tail]
    backend_spec += tail
    if any(s[0] == "varargs" for s in spec):
        if any(s[0] == "posonly" for s in backend_spec):
            return spec, None
        position = sum(1 for s in backend_spec if s[0] in ("posonly", "poskw"))
        backend_spec.insert(position, ("varargs", "rest", False))
    extras = draw(st.lists(st.sampled_from(["x1", "x2"]), unique=True))
    backend_spec.extend(("kwonly", name, True) for name in extras)
    if any(s[0] == "varkw" for s in spec) and draw(st.booleans()):
        backend_spec.append(("varkw", "options", False))
    return spec, backend_spec


def plan_for(host, backend):
    return CallPlan(
        host=shape_of(host),
        backend=shape_of(backend),
        implementation=backend,
        function="pkg.f",
        backend_name="b",
        keyword="backend",
    )


def declined(error, *args):
    raise AssertionError(error)


def arguments_for(named, data):
    """Give every required argument and some optional ones; positional ones form a prefix."""
    positional, keywords, given_names = [], {}, set()
    open_prefix = True
    for kind, name, has_default in named:
        give = not has_default or data.draw(st.booleans())
        if give and kind != "kwonly" and open_prefix:
            positional.append(f"value of {name}")
            given_names.add(name)
        elif give and kind != "posonly":
            keywords[name] = f"value of {name}"
            given_names.add(name)
        elif kind != "kwonly":
            open_prefix = False  # a positional-only one after this cannot be given
    full = open_prefix and len(positional) == sum(1 for s in named if s[0] != "kwonly")
    return positional, keywords, given_names, full


@given(host_and_backend(), st.integers(0, 3), st.data())
def test_routing_never_loses_duplicates_or_alters_an_argument(specs, n_varargs, data):
    host_spec, backend_spec = specs
    assume(backend_spec is not None)
    host = make_function("host", host_spec)
    backend = make_function("backend", backend_spec, suffix="_backend_default")
    plan = plan_for(host, backend)
    route = binder_factory("host", plan.host, is_async=False)(make_route(plan, "host", declined))
    named = [s for s in host_spec if s[0] in ("posonly", "poskw", "kwonly")]
    has_varargs = any(k == "varargs" for k, _, _ in host_spec)
    varargs = [f"extra {i}" for i in range(n_varargs)] if has_varargs else []
    positional, keywords, given_names, full = arguments_for(named, data)
    if not full:
        varargs = []  # *args only follow a full positional prefix
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurnoutWarning)
        received = route(*positional, *varargs, **keywords)
    posonly_names = [n for k, n, _ in host_spec if k == "posonly"]
    target = {n: f"b{i}" for i, n in enumerate(posonly_names)}
    backend_names = {n for k, n, _ in backend_spec if k in ("posonly", "poskw", "kwonly")}
    for _, name, _ in named:
        to = target.get(name, name)
        if to not in backend_names:
            assert f"value of {name}" not in received.values()  # host-only: dropped
        elif name in given_names:
            assert received[to] == f"value of {name}"  # given: forwarded unchanged
        else:
            assert received[to] == f"{to}_backend_default"  # omitted: the backend's default
    if has_varargs:
        assert received["rest"] == tuple(varargs)
    flat = [v for v in received.values() if isinstance(v, str)]
    assert len(flat) == len(set(flat))  # nothing arrives twice


@given(host_and_backend(), st.lists(st.sampled_from(["x1", "x2", "x3"]), unique=True), st.data())
def test_backend_only_keywords_taken_by_name_arrive_as_given(specs, taken, data):
    """A route taking backend-only keywords as named parameters (the fast path) passes each
    one the backend takes on unchanged, leaves an omitted one at the backend's default,
    and sorts one the backend does not take like the ``**`` path would."""
    host_spec, backend_spec = specs
    assume(backend_spec is not None and not any(k == "varkw" for k, _, _ in host_spec))
    host = make_function("host", host_spec)
    backend = make_function("backend", backend_spec, suffix="_backend_default")
    plan = CallPlan(
        host=shape_of(host),
        backend=shape_of(backend),
        implementation=backend,
        function="pkg.f",
        backend_name="b",
        keyword="backend",
        known=lambda: frozenset(taken),
    )
    route = make_route(plan, "host", declined, extras=taken)
    names = Emitter(plan.host).host_names()
    values = [f"value of {name}" if name != "rest" else () for name in names]
    given_extras = {name: f"value of {name}" for name in taken if data.draw(st.booleans())}
    takes = {n for k, n, _ in backend_spec if k == "kwonly"} | (
        {"*"} if any(k == "varkw" for k, _, _ in backend_spec) else set()
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TurnoutWarning)
        received = route(*values, {}, *[given_extras.get(n, OMITTED) for n in taken])
    for name in taken:
        if name in given_extras and (name in takes or "*" in takes):
            where = received if name in takes else received["options"]
            assert where[name] == f"value of {name}"
        elif name in takes:
            assert received[name] == f"{name}_backend_default"
    ignored = {n for n in given_extras if n not in takes and "*" not in takes}
    assert len([w for w in caught if issubclass(w.category, TurnoutWarning)]) >= len(ignored)


@given(
    host_signatures(),
    st.integers(0, 3),
    st.lists(st.sampled_from(["x1", "x2"]), unique=True),
    st.data(),
)
def test_hooks_see_a_call_that_binds_as_the_callers(spec, n_varargs, extras, data):
    """What a hook gets, ``host(*args, **kwargs)``, binds to the same arguments as the
    caller's own call; keywords the caller gave by name stay keywords."""
    assume(not any(k == "varkw" for k, _, _ in spec) or not extras)
    host = make_function("host", spec)
    emit = Emitter(shape_of(host), extras=extras)
    lines, args, kws = as_given(emit)
    pack = emit.build("host", [*lines, f"return ({args}, {kws})"], "<test packer>", route=True)
    named = [s for s in spec if s[0] in ("posonly", "poskw", "kwonly")]
    positional, keywords, given_names, full = arguments_for(named, data)
    has_varargs = any(k == "varargs" for k, _, _ in spec)
    varargs = [f"extra {i}" for i in range(n_varargs)] if has_varargs and full else []
    bound = inspect.signature(host).bind(*positional, *varargs, **keywords).arguments
    route_values = [
        tuple(varargs) if name == "rest" else bound.get(name, OMITTED) for name in emit.host_names()
    ]
    extra_values = {name: f"value of {name}" for name in extras if data.draw(st.booleans())}
    call_args, call_kwargs = pack(
        *route_values, {}, *[extra_values.get(n, OMITTED) for n in extras]
    )
    if not extras or not extra_values:
        assert inspect.signature(host).bind(*call_args, **call_kwargs).arguments == bound
    assert {k: v for k, v in call_kwargs.items() if k in extras} == extra_values
    required = [n for k, n, d in spec if k in ("posonly", "poskw") and not d]
    assert call_args[: len(required)] == tuple(f"value of {n}" for n in required)
    for kind, name, has_default in spec:  # an optional keyword-able argument: by keyword
        if kind == "kwonly" or (kind == "poskw" and has_default and not varargs):
            assert (name in call_kwargs) == (name in given_names)


@given(host_signatures())
def test_a_host_with_var_positional_refuses_a_backend_without(spec):
    assume(any(kind == "varargs" for kind, _, _ in spec))
    host = make_function("host", spec)
    backend = make_function("backend", [s for s in spec if s[0] != "varargs"])
    try:
        plan_for(host, backend)
    except DispatchDefinitionError as error:
        assert "*rest" in str(error)
    else:
        raise AssertionError("expected DispatchDefinitionError")


@given(host_signatures(), st.lists(st.sampled_from(["x1", "x2", "p0"]), unique=True))
def test_merged_signature_is_valid_and_keeps_the_host(spec, extra_names):
    host = inspect.signature(make_function("host", spec))
    backend_spec = [s for s in spec if s[0] != "varkw"] + [
        ("kwonly", n, True) for n in extra_names if n not in host.parameters
    ]
    backend = inspect.signature(make_function("backend", backend_spec))
    additions = collect_additions(host, "backend", [("b", backend, None)])
    merged = merged_signature(host, "backend", additions)
    names = list(merged.parameters)
    host_names = list(host.parameters)
    assert [n for n in names if n in host.parameters] == host_names
    for name, param in host.parameters.items():
        assert merged.parameters[name] == param
    assert merged.parameters["backend"].default is None
    assert set(additions) == {n for n in extra_names if n not in host.parameters}
    assert merged_signature(host, "backend", additions) == merged
