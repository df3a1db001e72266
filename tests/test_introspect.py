"""The registry as an object: the backends view, report() and explain()."""

from __future__ import annotations

import dataclasses
import json
import warnings

import pytest

from turnout import (
    BackendInfo,
    BackendLoadError,
    BackendStatus,
    DispatchDefinitionError,
    EntryPointRejectedWarning,
    Explanation,
    IgnoredArgumentWarning,
)

TRUSTED = {"gpu": {"aliases": ["cuda_like"], "package": "host-gpu"}}
GPU = """
class Backend:
    name = "gpu"
    aliases = ["g"]

    def score(self, data, *, method="fast"):
        return ("gpu", data, method)
"""


@pytest.fixture
def dispatcher(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GPU})
    install("broken-pkg", {"broken": "broken_mod"}, {"broken_mod.py": "raise RuntimeError('boom')"})
    install("evil-pkg", {"gpu": "evil_mod:Backend"}, {"evil_mod.py": GPU})
    dispatcher = make_dispatcher(trusted_backends=TRUSTED)

    @dispatcher.backend_dispatch
    def score(data, axis=None):
        return ("cpu", data)

    @dispatcher.backend_dispatch
    def other(data):
        return data

    dispatcher.score = score
    dispatcher.other = other
    return dispatcher


def test_backends_view(dispatcher, install):
    with pytest.warns(EntryPointRejectedWarning):
        assert "g" in dispatcher.backends
    assert install.imported() == ["host_gpu"]
    assert "nope" not in dispatcher.backends
    assert dispatcher.backends["cuda_like"] is dispatcher.backends["gpu"]
    with pytest.raises(KeyError):
        dispatcher.backends["nope"]
    assert dispatcher.backends.get("nope", 3) == 3
    with pytest.raises(BackendLoadError):
        dispatcher.backends["broken"]
    assert list(dispatcher.backends) == ["gpu"]
    assert len(dispatcher.backends) == 1
    with pytest.raises(TypeError):
        dispatcher.backends["x"] = 1


def test_report_lists_ready_failed_and_rejected(dispatcher):
    with pytest.warns(EntryPointRejectedWarning):
        report = dispatcher.report()
    assert all(isinstance(info, BackendInfo) for info in report)
    assert dataclasses.is_dataclass(report[0])
    by_status = {info.status: info for info in report}
    ready = by_status[BackendStatus.READY]
    assert (ready.name, ready.aliases, ready.trusted) == ("gpu", ("cuda_like", "g"), True)
    assert ready.distribution == "host-gpu"
    assert ready.object_ref == "host_gpu:Backend"
    assert ready.implements == (f"{dispatcher.score.__module__}.{dispatcher.score.__qualname__}",)
    failed = by_status[BackendStatus.FAILED]
    assert failed.name == "broken"
    assert isinstance(failed.error, RuntimeError)
    rejected = by_status[BackendStatus.REJECTED]
    assert rejected.distribution == "evil-pkg"
    assert "expects distribution 'host-gpu'" in rejected.reason
    json.dumps([info.as_dict() for info in report])  # JSON-ready
    with pytest.raises(dataclasses.FrozenInstanceError):
        ready.name = "x"


def test_explain_says_which_backend_and_why_without_running(dispatcher):
    settings = dispatcher.settings
    with pytest.warns(EntryPointRejectedWarning):
        explained = dispatcher.explain(dispatcher.score, 1, axis=0, method="slow", backend="g")
    assert isinstance(explained, Explanation)
    assert (explained.backend, explained.why) == ("gpu", "call keyword")
    assert explained.forwarded == ("data",)
    assert explained.dropped == ("axis",)
    assert explained.added == ("method",)
    assert "drops: axis" in str(explained)
    assert dispatcher.explain(dispatcher.score, 1).why == "default"
    with settings.use_backend("gpu"):
        assert dispatcher.explain(dispatcher.score, 1).why == "use_backend scope"
        fallback = dispatcher.explain(dispatcher.other, 1)
        assert fallback.fallback
        assert "fallback" in str(fallback)
    settings.backend = "gpu"
    assert dispatcher.explain(dispatcher.score, 1).why == "settings.backend"
    assert dispatcher.explain(dispatcher.score).backend == "gpu"  # no arguments: still answers
    with pytest.raises(TypeError):
        dispatcher.explain(dispatcher.score, 1, 2, 3, 4, 5, 6)  # the host's own TypeError
    with pytest.raises(DispatchDefinitionError, match="not a dispatched function"):
        dispatcher.explain(print, 1)


def test_explain_does_not_warn_or_run(dispatcher):
    with pytest.warns(EntryPointRejectedWarning):
        dispatcher.discover()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IgnoredArgumentWarning)
        dispatcher.explain(dispatcher.score, 1, axis=5, backend="gpu")


def test_untrusted_backend_in_report(install, make_dispatcher, backend_source):
    install("pkg-a", {"a": "pkg_a:Backend"}, {"pkg_a.py": backend_source("a")})
    dispatcher = make_dispatcher()
    (info,) = dispatcher.report()  # reporting is not selecting: no UntrustedBackendWarning
    assert not info.trusted
