"""turnout's pytest plugin, run in real pytest subprocesses: inert unless asked for."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]

HOST = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "plughost", trusted_backends={{"gpu": {{"package": "plug-gpu"}}}})


@dispatcher.backend_dispatch
def add(a, b):
    return ("cpu", a + b)


@dispatcher.backend_dispatch
def scale(x):
    return ("cpu", x * 2)


@dispatcher.backend_dispatch
def negate(x):
    return ("cpu", -x)


@dispatcher.backend_class
class Model:
    implementation = "cpu"
"""

GPU = """
class Backend:
    name = "gpu"

    def add(self, a, b):
        return ("gpu", a + b)

    def scale(self, x):
        if x < 0:
            raise NotImplementedError("negative values")
        return ("gpu", x * 2)

    class Model:
        implementation = "gpu"
"""

SUITE = """
import plughost

def test_add():
    assert plughost.add(1, 2)[1] == 3

def test_scale():
    assert plughost.scale(2)[1] == 4
    assert plughost.scale(-1)[1] == -2

def test_negate():
    assert plughost.negate(1)[1] == -1

def test_model():
    assert plughost.Model().implementation in ("cpu", "gpu")
"""


@pytest.fixture
def suite(pytester, site, group, monkeypatch):
    site.add(
        "plug-gpu", entry_points={group: {"gpu": "plug_gpu:Backend"}}, modules={"plug_gpu.py": GPU}
    )
    site.add("plughost", modules={"plughost.py": HOST.format(group=group)})
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")])
    )
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_the_plugin_is_inert_without_its_options(suite):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    assert "turnout_conformance" not in result.stdout.str()
    assert "turnout:" not in result.stdout.str()
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    assert "turnout: backend" not in result.stdout.str()


def test_fixtures_on_request(suite):
    for options in (["--turnout-fixtures"], ["-p", "turnout.testing.fixtures"]):
        result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures", *options)
        assert "turnout_conformance" in result.stdout.str()


def test_a_whole_suite_on_one_backend_with_a_report(suite):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--turnout-backend=gpu")
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    assert "turnout: backend 'gpu'" in out
    assert "plughost.add: ran on gpu 1 time(s)" in out
    assert "plughost.scale: ran on gpu 1 time(s)" in out
    assert "declined 1 time(s): gpu: raised NotImplementedError: negative values" in out
    assert "plughost.negate: ran on gpu 0 time(s)" in out
    assert "fell back 1 time(s): gpu: does not implement it" in out
    assert "plughost.Model: ran on gpu 1 time(s)" in out  # classes are counted too


def test_a_misspelt_backend_is_a_usage_error_with_a_suggestion(suite):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "--turnout-backend=gpx")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Did you mean 'gpu'?" in result.stderr.str()
    result.assert_outcomes()  # nothing ran on the host's code instead
