"""Results a host's own code gives never change: the cases real hosts met (scanpy, squidpy)."""

from __future__ import annotations

import functools
import inspect
import pydoc
import subprocess
import sys
import textwrap
import warnings

import pytest

TRUSTED = {"gpu": {"package": "host-gpu"}}

GPU = '''
class Backend:
    name = "gpu"

    def scale(self, x, *, zero_center=True, max_value=None, chunked=False):
        return ("gpu", x, zero_center, max_value, chunked)

    def embed(self, data, method="backend-umap", n_comps=None, flag=False):
        """Embed on the GPU.

        Parameters
        ----------
        data
            The data.
        """
        return ("gpu", data, method, n_comps, flag)

    def first(self, values, /):
        return ("gpu", values)
'''


@pytest.fixture
def dispatcher(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    return make_dispatcher(trusted_backends=TRUSTED)


def test_singledispatch_host_runs_unchanged_with_keywords_its_signature_lacks(dispatcher):
    @functools.singledispatch
    def scale(x, *, zero_center=True, max_value=None):
        """Scale."""
        raise NotImplementedError

    @scale.register(list)
    def _scale_list(x, *, zero_center=True, max_value=None, return_mean_std=False):
        return ("cpu list", x, zero_center, max_value, return_mean_std)

    @scale.register(str)
    def _scale_str(x, *, chunked=False, **kwargs):  # takes neither documented keyword
        return ("cpu str", x, chunked, kwargs)

    scale = dispatcher.backend_dispatch(scale)
    assert scale([1], return_mean_std=True) == ("cpu list", [1], True, None, True)
    # only what the caller passed: the str implementation never sees zero_center=...
    assert scale("x", chunked=True) == ("cpu str", "x", True, {})
    assert scale("x") == ("cpu str", "x", False, {})
    # its registry keeps working through the wrapper
    scale.register(int)(lambda x, **kw: ("cpu int", x, kw))
    assert scale(3, zero_center=False) == ("cpu int", 3, {"zero_center": False})
    # and a backend still gets the documented parameters, by name
    assert scale([1], max_value=3, backend="gpu") == ("gpu", [1], True, 3, False)
    assert scale([1], chunked=True, backend="gpu") == ("gpu", [1], True, None, True)
    assert "backend" in inspect.signature(scale).parameters


def test_wrapped_host_with_wider_kwargs_runs_unchanged(dispatcher):
    def _impl(x, *, chunked=False, chunk_size=None):
        return ("cpu", x, chunked, chunk_size)

    @functools.wraps(_impl)
    def log1p(*args, **kwargs):
        return _impl(*args, **kwargs)

    log1p = dispatcher.backend_dispatch(log1p)
    assert log1p([1], chunked=True) == ("cpu", [1], True, None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        log1p([1], nope=1)  # the host's own error, not turnout's


def _doc_params(**params):
    """Like scanpy's: fill a template in the docstring after decorating."""

    def decorate(func):
        func.__doc__ = func.__doc__.format(**params)
        return func

    return decorate


def test_docstring_filled_after_decorating_survives_discover(dispatcher):
    @_doc_params(data_doc="The annotated data matrix.")
    @dispatcher.backend_dispatch
    def embed(data, method="umap", n_comps=None):
        """Embed the data.

        Parameters
        ----------
        data
            {data_doc}
        method
            The method.
        n_comps
            How many components.
        """
        return ("cpu", data, method, n_comps)

    assert "The annotated data matrix." in embed.__doc__
    assert "backend\n" in embed.__doc__  # the selector is documented from decoration on
    dispatcher.discover()
    assert "The annotated data matrix." in embed.__doc__
    assert "{data_doc}" not in embed.__doc__
    assert "flag" in embed.__doc__  # the backend-only parameter merged into the current text
    before = embed.__doc__
    dispatcher.discover()
    assert embed.__doc__ == before


def test_docstring_assigned_after_decorating_survives_a_backend_load(dispatcher):
    @dispatcher.backend_dispatch
    def embed(data, method="umap", n_comps=None):
        return ("cpu", data, method, n_comps)

    embed.__doc__ = "Embed.\n\nParameters\n----------\ndata\n    Written later.\n"
    embed([1], backend="gpu")
    assert "Written later." in embed.__doc__
    assert "flag\n" in embed.__doc__
    assert "backend\n" in embed.__doc__


@pytest.mark.parametrize("value", [None, "umap", True, 0, 1])
def test_an_explicit_argument_always_reaches_the_backend(dispatcher, value):
    @dispatcher.backend_dispatch
    def embed(data, method="umap", n_comps=None, flag=True):
        return ("cpu", data, method, n_comps, flag)

    assert embed(1, backend="gpu") == ("gpu", 1, "backend-umap", None, False)  # omitted
    assert embed(1, method=value, backend="gpu")[2] == value
    assert embed(1, n_comps=value, backend="gpu")[3] == value
    assert embed(1, flag=value, backend="gpu")[4] == value
    explained = dispatcher.explain(embed, 1, method="umap", backend="gpu")
    assert explained.forwarded == ("data", "method")
    assert any("'n_comps' left out" in note for note in explained.notes)
    # and the host's own path is unchanged by any of this
    assert embed(1) == ("cpu", 1, "umap", None, True)
    assert embed(1, value) == ("cpu", 1, value, None, True)


def test_positional_only_parameters_are_matched_by_position(dispatcher):
    @dispatcher.backend_dispatch
    def first(x, /):
        return ("cpu", x)

    assert first([3]) == ("cpu", [3])
    assert first([3], backend="gpu") == ("gpu", [3])


def test_selector_is_visible_from_decoration_on(dispatcher, install):
    @dispatcher.backend_dispatch
    def embed(data, method="umap"):
        """Embed.

        Parameters
        ----------
        data
            The data.
        method
            The method.
        """
        return data

    assert install.imported() == []  # nothing loaded
    params = inspect.signature(embed).parameters
    assert list(params) == ["data", "method", "backend"]
    assert params["backend"].kind is inspect.Parameter.KEYWORD_ONLY
    text = pydoc.render_doc(embed, renderer=pydoc.plaintext)
    assert "backend: str | list[str] | tuple[str, ...] | None = None" in text
    assert "Backend to run this call" in text
    assert install.imported() == []


def test_decorating_imports_neither_inspect_nor_a_backend(tmp_path):
    code = textwrap.dedent("""
        import sys
        from turnout import BackendDispatcher
        d = BackendDispatcher("nobody.backends", "h")
        @d.backend_dispatch
        def f(x, y=1):
            '''F.

            Parameters
            ----------
            x
                X.
            '''
            return x
        assert f(1) == 1
        assert "inspect" not in sys.modules, "decorating or calling imported inspect"
        assert "backend" in f.__doc__
        import inspect
        assert "backend" in inspect.signature(f).parameters
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


# -- registry and errors ----------------------------------------------------------------


def test_warnings_turned_into_errors_leave_the_registry_consistent(
    install, make_dispatcher, backend_source
):
    from turnout import (  # noqa: PLC0415
        EntryPointRejectedWarning,
        UntrustedBackendWarning,
    )

    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    install("pkg-z", {"cpu": "pkg_z:Backend"}, {"pkg_z.py": backend_source("z")})  # refused
    dispatcher = make_dispatcher()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(EntryPointRejectedWarning):
            dispatcher.settings.backend = "a"
        with pytest.raises(UntrustedBackendWarning):  # selection still warns: as an error
            dispatcher.settings.backend = "a"
        with pytest.raises(UntrustedBackendWarning):  # every time, under an error filter
            dispatcher.settings.backend = "a"
        dispatcher.discover()  # and the registry is whole: nothing is a conflict with itself
    assert dispatcher.available_backend_names() == ["a"]
    assert [info.status.value for info in dispatcher.report()] == ["ready", "rejected"]
    assert "conflict" not in str(dispatcher.report())
    with pytest.warns(UntrustedBackendWarning):
        dispatcher.settings.backend = "a"
    dispatcher.settings.backend = "a"  # once warned, quiet
    assert install.imported() == ["pkg_a"]


def test_scverse_backends_trusted_configuration_spellings(install, make_dispatcher, backend_source):
    install(
        "host-gpu",
        {"gpu": "host_gpu.sub:Backend"},
        {"host_gpu/__init__.py": "", "host_gpu/sub.py": backend_source("gpu")},
    )
    dispatcher = make_dispatcher(
        trusted_backends={
            "gpu": {
                "aliases": ["cuda_like"],
                "distribution": "host-gpu",
                "entrypoint": "gpu",
                "object_ref": "host_gpu.sub:Backend",
                "module_prefix": "host_gpu.",
            }
        }
    )
    assert dispatcher.get_backend("cuda_like").name == "gpu"
    strings = make_dispatcher(
        trusted_backends={"gpu": {"distributions": "host-gpu", "entrypoints": "gpu"}}
    )
    assert strings.get_backend("gpu").name == "gpu"
    from turnout import ConfigurationError  # noqa: PLC0415

    with pytest.raises(ConfigurationError, match="entrypoint for 'gpu' must be a string"):
        make_dispatcher(trusted_backends={"gpu": {"package": "p", "entrypoint": ["a"]}})
    with pytest.raises(ConfigurationError, match="aliases"):
        make_dispatcher(trusted_backends={"gpu": {"package": "p", "aliases": "g"}})


def test_get_backend_is_none_for_every_unusable_label(install, make_dispatcher, backend_source):
    install(
        "broken-dist", {"broken": "broken_mod:Backend"}, {"broken_mod.py": "raise OSError('x')"}
    )
    install("evil-gpu", {"gpu": "evil:Backend"}, {"evil.py": backend_source("gpu")})
    dispatcher = make_dispatcher(
        trusted_backends={"gpu": {"package": "host-gpu"}, "jit": {"package": "host-jit"}},
        reserved_backends={"tpu": "not yet"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label in ("nope", "jit", "broken", "gpu", "tpu", "cpu"):
            assert dispatcher.get_backend(label) is None, label
            assert dispatcher.settings.get_backend(label) is None, label
    from turnout import (  # noqa: PLC0415
        BackendLoadError,
        BackendNotInstalledError,
        BackendRefusedError,
        ReservedBackendError,
        UnknownBackendError,
    )

    for label, error in (
        ("nope", UnknownBackendError),
        ("jit", BackendNotInstalledError),
        ("broken", BackendLoadError),
        ("gpu", BackendRefusedError),
        ("tpu", ReservedBackendError),
    ):
        with pytest.raises(error):
            dispatcher.settings.backend = label


def test_mistakes_raise_turnout_errors_where_they_are_made(make_dispatcher):
    from turnout import ConfigurationError, TurnoutError, UnknownBackendError  # noqa: PLC0415

    dispatcher = make_dispatcher()
    with pytest.raises(ConfigurationError, match="'bogus'") as excinfo:
        dispatcher.settings.fallback = "bogus"
    assert isinstance(excinfo.value, ValueError)
    with pytest.raises(ConfigurationError, match="'bogus'"):
        dispatcher.settings.use_fallback("bogus")  # at the call, not on entering
    with pytest.raises(UnknownBackendError, match="not a valid label"):
        dispatcher.settings.use_backend(" cpu ")

    class Gpu:
        name = "gpu"

    with pytest.raises(ConfigurationError, match=r"aliases= must be a list"):
        dispatcher.register_backend(Gpu, aliases="gpu")
    assert dispatcher.backends.get("g") is None  # nothing registered under 'g', 'p', 'u'
    with pytest.raises(UnknownBackendError):
        dispatcher.unregister_backend(["gpu"])
    with pytest.raises(ConfigurationError, match="not a keyword, not 'class'"):
        make_dispatcher(backend_keyword="class")
    assert issubclass(ConfigurationError, TurnoutError)


def test_registered_gives_back_an_entry_point_it_shadowed(install, make_dispatcher, backend_source):
    from turnout import ShadowedBackendWarning  # noqa: PLC0415

    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": backend_source("gpu")})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    class Stand:
        name = "gpu"

    with dispatcher.registered(Stand):
        with pytest.warns(ShadowedBackendWarning):
            dispatcher.discover()  # the entry point named gpu is hidden
        assert isinstance(dispatcher.get_backend("gpu"), Stand)
    backend = dispatcher.get_backend("gpu")
    assert type(backend).__module__ == "host_gpu"  # the entry point is back
    assert all(info.status.value == "ready" for info in dispatcher.report())


def test_messages_use_the_hosts_public_names(site, group, install):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    site.add(
        "pubhost",
        modules={
            "pubhost/__init__.py": "from pubhost._impl import embed, dispatcher\n",
            "pubhost/_impl.py": f"""
                from turnout import BackendDispatcher
                dispatcher = BackendDispatcher({group!r}, "pubhost",
                                               trusted_backends={TRUSTED!r}, fallback="warn")

                @dispatcher.backend_dispatch
                def embed(data, method="umap", n_comps=None):
                    return data

                @dispatcher.backend_dispatch
                def hidden(data):
                    return data
            """,
        },
    )
    import pubhost  # noqa: PLC0415
    import pubhost._impl  # noqa: PLC0415

    dispatcher = pubhost.dispatcher
    assert str(dispatcher.explain(pubhost.embed, 1, backend="gpu")).startswith("pubhost.embed:")
    support = dispatcher.support()
    assert list(support) == ["pubhost.embed", "pubhost._impl.hidden"]
    from turnout import FallbackWarning  # noqa: PLC0415

    with pytest.warns(FallbackWarning, match=r"pubhost\._impl\.hidden\(\)"):
        pubhost._impl.hidden(1, backend="gpu")
    with pytest.raises(TypeError, match=r"^pubhost\.embed\(\) got an unexpected keyword"):
        pubhost.embed(1, backend="gpu", nope=1)
    report = {info.name: info for info in dispatcher.report()}
    assert report["gpu"].implements == ("pubhost.embed",)
