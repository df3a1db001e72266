"""Property tests: routing never loses or duplicates an argument; merges are idempotent."""

from __future__ import annotations

import inspect
import warnings

from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import host_signatures, make_function

from turnout import DispatchDefinitionError, TurnoutWarning
from turnout._routing import CallPlan
from turnout._signature import collect_additions, merged_signature


@st.composite
def host_and_backend(draw):
    spec = draw(host_signatures())
    named = [s for s in spec if s[0] in ("posonly", "poskw", "kwonly")]
    # a required host parameter must reach the backend; optional ones may be dropped
    shared = [s for s in named if not s[2] or draw(st.booleans())]
    backend_spec = []
    for _kind, name, _ in shared:
        backend_spec.append(("kwonly" if draw(st.booleans()) else "poskw", name, True))
    backend_spec.sort(key=lambda s: s[0] != "poskw")
    if any(s[0] == "varargs" for s in spec):
        position = sum(1 for s in backend_spec if s[0] == "poskw")
        backend_spec.insert(position, ("varargs", "rest", False))
    extras = draw(st.lists(st.sampled_from(["x1", "x2"]), unique=True))
    backend_spec.extend(("kwonly", name, True) for name in extras)
    if any(s[0] == "varkw" for s in spec) and draw(st.booleans()):
        backend_spec.append(("varkw", "options", False))
    return spec, backend_spec


def plan_for(host, backend):
    return CallPlan(
        host=inspect.signature(host),
        backend=inspect.signature(backend),
        implementation=backend,
        function="pkg.f",
        backend_name="b",
        keyword="backend",
    )


@given(host_and_backend(), st.integers(0, 3))
def test_routing_never_loses_or_duplicates_an_argument(specs, n_varargs):
    host_spec, backend_spec = specs
    host = make_function("host", host_spec)
    backend = make_function("backend", backend_spec)
    plan = plan_for(host, backend)
    values = {
        name: f"value of {name}"
        for kind, name, _ in host_spec
        if kind in ("posonly", "poskw", "kwonly")
    }
    positional = [values[n] for k, n, _ in host_spec if k in ("posonly", "poskw")]
    has_varargs = any(k == "varargs" for k, _, _ in host_spec)
    varargs = [f"extra {i}" for i in range(n_varargs)] if has_varargs else []
    keywords = {n: values[n] for k, n, _ in host_spec if k == "kwonly"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurnoutWarning)
        received = plan.call(*positional, *varargs, **keywords)
    backend_names = {n for k, n, _ in backend_spec if k in ("poskw", "kwonly")}
    for name, value in values.items():
        if name in backend_names:
            assert received[name] == value  # forwarded once, under its own name
        else:
            assert value not in received.values()  # host-only: dropped
    for name in backend_names - set(values):
        assert received[name] == f"{name}_default"
    if has_varargs:
        assert received["rest"] == tuple(varargs)
    # nothing arrives twice
    flat = [v for v in received.values() if isinstance(v, str)]
    assert len(flat) == len(set(flat))


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
