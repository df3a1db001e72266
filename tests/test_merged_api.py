"""The merged API: signatures and numpydoc after backends load, as help() and Sphinx see them; additions from several backends."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap

import pytest

from turnout import BackendSignatureWarning, DispatchDefinitionError, IgnoredArgumentWarning
from turnout._merged_api import (
    backend_only_shape_parameters,
    collect_additions,
    merged_signature,
)
from turnout._shape import shape_of

TRUSTED = {"gpu": {"package": "host-gpu"}, "jit": {"package": "host-jit"}}

GPU = '''
class Backend:
    name = "gpu"

    def score(self, data, *, method="fast", device=0):
        """GPU score.

        Parameters
        ----------
        data
            Ignored here.
        method
            How to score on the GPU.
        device
            Which GPU.
        """
        return ("gpu", data, method, device)
'''

JIT = '''
class Backend:
    name = "jit"

    def score(self, data, *, method="exact", parallel=False):
        """JIT score.

        Parameters
        ----------
        method : str
            How to score with the JIT.
        """
        return ("jit", data, method, parallel)

    def other(self, data, mode):
        return data
'''


@pytest.fixture
def dispatcher(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": JIT})
    return make_dispatcher(trusted_backends=TRUSTED)


def decorate(dispatcher):
    @dispatcher.backend_dispatch
    def score(data, scale=1.0):
        """Score the data.

        Parameters
        ----------
        data
            The data.
        scale
            A factor.

        Returns
        -------
        float
        """
        return ("cpu", data, scale)

    return score


@pytest.mark.parametrize("discover_first", [True, False])
def test_discover_merges_signature_and_docstring(dispatcher, discover_first):
    if discover_first:
        dispatcher.discover()
    score = decorate(dispatcher)
    if not discover_first:
        dispatcher.discover()
    assert str(inspect.signature(score)) == (
        "(data, scale=1.0, *, backend: str | list[str] | tuple[str, ...] | None = None, device=0, method='fast', parallel=False)"
    )
    doc = inspect.getdoc(score)
    assert doc.index("scale") < doc.index("backend") < doc.index("device") < doc.index("method")
    assert "How to score on the GPU." in doc
    assert "Only for backends ``gpu`` (default ``'fast'``), ``jit`` (default ``'exact'``)." in doc
    assert "Only for backend ``jit`` (default ``False``)." in doc
    assert doc.index("Returns") > doc.index("parallel")
    before = score.__doc__
    dispatcher.discover()
    assert score.__doc__ == before  # idempotent


def test_required_backend_only_parameter_warns_at_discover_and_errors_at_call(dispatcher):
    @dispatcher.backend_dispatch
    def other(data):
        """Other."""
        return data

    with pytest.warns(BackendSignatureWarning, match="'mode'") as record:
        dispatcher.discover()
    assert len(record) == 1
    assert "mode" not in inspect.signature(other).parameters
    with pytest.raises(DispatchDefinitionError, match="'mode' are required"):
        other(1, backend="jit")
    assert other(1) == 1


def test_lazy_call_merges_only_the_backend_it_loaded(dispatcher, install):
    score = decorate(dispatcher)
    assert score(1, backend="gpu", method="slow") == ("gpu", 1, "slow", 0)
    assert install.imported() == ["host_gpu"]
    params = inspect.signature(score).parameters
    assert "device" in params
    assert "parallel" not in params


def test_backend_only_keywords_route_per_backend(dispatcher):
    score = decorate(dispatcher)
    dispatcher.discover()
    assert score(1, backend="jit", parallel=True) == ("jit", 1, "exact", True)
    with pytest.warns(IgnoredArgumentWarning, match="'device'"):
        assert score(1, backend="jit", device=3) == ("jit", 1, "exact", False)
    # the host's own code raises, as it would without turnout (and as scverse-backends does)
    with pytest.raises(TypeError, match="unexpected keyword argument 'device'; only backend 'gpu'"):
        score(1, device=3)
    with pytest.raises(TypeError, match=r"score\(\) got an unexpected keyword argument 'nope'"):
        score(1, nope=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        score(1, backend="gpu", nope=2)


def test_a_host_may_keep_dropping_backend_only_keywords_on_its_own_path(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, backend_only="warn")
    score = decorate(dispatcher)
    dispatcher.discover()
    with pytest.warns(IgnoredArgumentWarning, match="only applies to backends"):
        assert score(1, device=3) == ("cpu", 1, 1.0)


def test_function_without_docstring_gets_a_parameters_section(dispatcher):
    @dispatcher.backend_dispatch
    def score(data):
        return data

    dispatcher.discover()
    assert score.__doc__.startswith("Parameters\n----------\ndata\n") is False
    assert "backend\n    Backend to run this call" in score.__doc__
    assert "method\n    How to score on the GPU." in score.__doc__


def test_merged_text_is_the_same_under_any_hash_seed(install, group, site):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("host-jit", {"jit": "host_jit:Backend"}, {"host_jit.py": JIT})
    code = textwrap.dedent(f"""
        import sys, inspect
        sys.path.insert(0, {str(site.root)!r})
        from turnout import BackendDispatcher
        d = BackendDispatcher({group!r}, "h", trusted_backends={TRUSTED!r})
        @d.backend_dispatch
        def score(data, scale=1.0):
            "Score."
            return data
        d.discover()
        print(inspect.signature(score)); print(score.__doc__)
    """)
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outputs) == 1


def test_class_signature_gains_the_selector(dispatcher):
    @dispatcher.backend_class
    class Model:
        def __init__(self, size, *, scale=1):
            pass

    # from decoration on, before anything loads
    assert (
        str(inspect.signature(Model))
        == "(size, *, scale=1, backend: str | list[str] | tuple[str, ...] | None = None)"
    )
    dispatcher.discover()
    assert (
        str(inspect.signature(Model))
        == "(size, *, scale=1, backend: str | list[str] | tuple[str, ...] | None = None)"
    )


def test_support_lists_what_each_backend_implements(dispatcher):
    score = decorate(dispatcher)

    @dispatcher.backend_class
    class Model:
        pass

    assert dispatcher.dispatched() == [score, Model]
    support = dispatcher.support()
    assert list(support) == [
        f"{__name__}.decorate.<locals>.score".replace(__name__, score.__module__),
        f"{Model.__module__}.{Model.__qualname__}",
    ]
    cells = support[next(iter(support))]
    assert cells == {"gpu": ("device", "method"), "jit": ("method", "parallel")}
    assert support[f"{Model.__module__}.{Model.__qualname__}"] == {"gpu": None, "jit": None}


def host(a, /, b, *args, c=1, **kwargs):
    pass


def gpu(a, b, *args, c=1, method="fast", _private=1, **kwargs):
    """GPU.

    Parameters
    ----------
    method
        How.
    """


def jit(a, b, *, method="exact", tol=1e-3, required):
    pass


def test_backend_only_parameters_split_required_from_mergeable():
    mergeable, required = backend_only_shape_parameters(shape_of(host), "backend", shape_of(jit))
    assert [p.name for p in mergeable] == ["method", "tol"]
    assert [p.name for p in required] == ["required"]


def test_merged_signature_keeps_host_order_and_adds_keyword_only_parameters():
    signature = inspect.signature(host)
    additions = collect_additions(
        signature,
        "backend",
        [("jit", inspect.signature(jit), None), ("gpu", inspect.signature(gpu), gpu.__doc__)],
    )
    assert list(additions) == ["method", "tol"]
    assert additions["method"].backends == ["gpu", "jit"]
    merged = merged_signature(signature, "backend", additions)
    assert (
        str(merged)
        == "(a, /, b, *args, c=1, backend: str | list[str] | tuple[str, ...] | None = None, method='fast', tol=0.001, **kwargs)"
    )
    entry = additions["method"].doc_entry()
    assert entry.description == (  # one paragraph: Sphinx keeps it on the name's line
        "How.",
        "Only for backends ``gpu`` (default ``'fast'``), ``jit`` (default ``'exact'``).",
    )
    assert additions["tol"].doc_entry().description == (
        "Only for backend ``jit`` (default ``0.001``).",
    )
