"""The Sphinx support-matrix directive's data."""

from __future__ import annotations

import pytest

pytest.importorskip("docutils")

from turnout.sphinxext import load_dispatcher, matrix_rows

BACKEND = """
class Backend:
    name = "gpu"

    def score(self, data, *, method="fast"):
        return data
"""


def test_matrix_rows(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": BACKEND})
    dispatcher = make_dispatcher(trusted_backends={"gpu": {"package": "host-gpu"}})

    @dispatcher.backend_dispatch
    def score(data):
        return data

    @dispatcher.backend_dispatch
    def other(data):
        return data

    rows = matrix_rows(dispatcher)
    assert rows[0] == ["", "``gpu``"]
    assert rows[1][1] == "yes, adds ``method``"
    assert rows[2][1] == "host's code"


def test_load_dispatcher_checks_its_target():
    with pytest.raises(TypeError, match=r"not a turnout\.BackendDispatcher"):
        load_dispatcher("os:path")
    with pytest.raises(ImportError):
        load_dispatcher("no_such_module_here:thing")


def test_load_dispatcher_takes_the_hosts_module(site, group):
    site.add(
        "matrixhost",
        modules={
            "matrixhost/__init__.py": "from matrixhost._backends import _dispatcher\n",
            "matrixhost/_backends.py": (
                "from turnout import BackendDispatcher\n"
                f"_dispatcher = BackendDispatcher({group!r}, 'matrixhost')\n"
            ),
        },
    )
    import matrixhost._backends  # noqa: PLC0415

    dispatcher = matrixhost._backends._dispatcher
    assert load_dispatcher("matrixhost") is dispatcher  # no private name in the docs
    assert load_dispatcher("matrixhost._backends:_dispatcher") is dispatcher
    assert load_dispatcher("matrixhost._backends._dispatcher") is dispatcher
