"""turnout's pytest plugin, run in real pytest subprocesses: inert unless asked for."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["pytester"]

HOST = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "plughost", trusted_backends={trusted})


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


@dispatcher.backend_dispatch
def mean(values):
    return sum(values) / len(values)


@dispatcher.backend_dispatch
def total(values):
    return sum(values)


@dispatcher.backend_dispatch
def spread(values):
    return list(values)


@dispatcher.backend_dispatch
def stamp():
    return 0
"""
TRUSTED = {"gpu": {"package": "plug-gpu"}}

GPU = """
class Backend:
    name = "gpu"
    aliases = ("graphics",)

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
def plugged(pytester, site, group, monkeypatch):
    """Install the host and a backend for it, write a suite, and return the pytester."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(site.root), os.environ.get("PYTHONPATH", "")])
    )

    def make(backend=GPU, *, entry="plug_gpu:Backend", tests=SUITE, trusted=TRUSTED, **files):
        modules = {"plug_gpu.py": backend} if backend is not None else {}
        site.add("plug-gpu", entry_points={group: {"gpu": entry}}, modules=modules)
        site.add("plughost", modules={"plughost.py": HOST.format(group=group, trusted=trusted)})
        pytester.makepyfile(test_suite=tests, **files)
        return pytester

    return make


@pytest.fixture
def suite(plugged):
    return plugged()


def run(suite, *options):
    return suite.runpytest_subprocess("-p", "no:cacheprovider", *options)


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


# -- the suite mode never passes a backend that did not run ---------------------------------

LAZY_SUITE = """
def test_add():
    import plughost

    assert plughost.add(1, 2)[1] == 3
"""


def test_a_backend_that_fails_to_load_is_a_usage_error_with_its_error(plugged):
    suite = plugged(None, entry="plug_missing:Backend")
    result = run(suite, "--turnout-backend=gpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert "--turnout-backend=gpu: Backend 'gpu' for plughost failed to load" in error
    assert "No module named 'plug_missing'" in error
    result.assert_outcomes()  # no test ran on the host's code instead
    assert "turnout: backend" not in result.stdout.str()  # no tally of a run that did not happen


def test_a_host_the_tests_import_themselves_is_joined(plugged):
    suite = plugged(tests=LAZY_SUITE)
    result = run(suite, "--turnout-backend=gpu")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "plughost.add: ran on gpu 1 time(s)" in result.stdout.str()


def test_a_backend_that_fails_to_load_in_a_host_the_tests_import(plugged):
    suite = plugged(None, entry="plug_missing:Backend", tests=LAZY_SUITE)
    result = run(suite, "--turnout-backend=gpu")
    result.assert_outcomes(passed=1)  # on the host's code: the session says so and fails
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str()
    assert "FAILED (exit 4): backend 'gpu': Backend 'gpu' for plughost failed to load" in out
    assert "No module named 'plug_missing'" in out


def test_a_failed_load_in_any_host_is_an_error(plugged, site, group):
    site.add(
        "plughost2",
        modules={
            "plughost2.py": f"""
            from turnout import BackendDispatcher

            dispatcher = BackendDispatcher({group + "2"!r}, "plughost2")

            @dispatcher.backend_dispatch
            def add(a, b):
                return ("cpu", a + b)
            """
        },
    )
    site.add("plug-gpu2", entry_points={group + "2": {"gpu": "plug_missing2:Backend"}})
    suite = plugged(tests="import plughost2\n" + SUITE)
    result = run(suite, "--turnout-backend=gpu")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Backend 'gpu' for plughost2 failed to load" in result.stderr.str()


UNUSED_SUITE = """
import plughost

def test_negate():
    assert plughost.negate(1) == ("cpu", -1)
"""


def test_a_backend_that_ran_no_call_fails_the_session_unless_allowed(plugged):
    suite = plugged(tests=UNUSED_SUITE)
    result = run(suite, "--turnout-backend=gpu")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "FAILED (exit 1): backend 'gpu': it ran no call" in out
    assert "--turnout-allow-unused" in out
    result = run(suite, "--turnout-backend=gpu", "--turnout-allow-unused")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert run(suite, "--turnout-backend=gpu", "--collect-only").ret == pytest.ExitCode.OK


def test_a_backend_selected_by_alias_is_counted(suite):
    result = run(suite, "--turnout-backend=graphics")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.OK
    assert "plughost.add: ran on graphics 1 time(s)" in result.stdout.str()


def test_an_untrusted_backend_under_filterwarnings_error(plugged):
    suite = plugged(trusted={})
    suite.makeini("[pytest]\nfilterwarnings = error\n")
    result = run(suite, "--turnout-backend=gpu")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.OK
    out = result.stdout.str()
    assert "selecting it warned (users see this too): UntrustedBackendWarning: Backend 'gpu'" in out
    assert "not in plughost's trusted backends" in out


def test_the_options_need_a_backend(suite):
    result = run(suite, "--turnout-compare", "--turnout-xfail-missing")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--turnout-xfail-missing, --turnout-compare: give the backend too" in result.stderr.str()


# -- the suite mode decides exactly as a real call does ---------------------------------------

HOOKED = """
from turnout import parameter_map

class Backend:
    name = "gpu"

    def scale(self, x):
        return ("gpu", x * 2)

    scale.can_run = lambda x: x >= 0 or "negative values stay on the host"

    @parameter_map(x="value")
    def negate(self, value):
        return ("gpu", -value)
"""

HOOKED_SUITE = """
import plughost

def test_scale():
    assert plughost.scale(2) == ("gpu", 4)
    assert plughost.scale(-1) == ("cpu", -2)

def test_negate():
    assert plughost.negate(1) == ("gpu", -1)
"""


def test_hooks_and_parameter_maps_of_an_implementation_are_honoured(plugged, monkeypatch):
    suite = plugged(HOOKED, tests=HOOKED_SUITE)
    monkeypatch.setenv("PLUGHOST_BACKEND", "gpu")  # as a user selects it
    run(suite).assert_outcomes(passed=2)
    monkeypatch.delenv("PLUGHOST_BACKEND")
    result = run(suite, "--turnout-backend=gpu")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "plughost.scale: ran on gpu 1 time(s)" in out
    assert "declined 1 time(s): gpu: can_run said 'negative values stay on the host'" in out
    assert "plughost.negate: ran on gpu 1 time(s)" in out


# -- expected failures ------------------------------------------------------------------------


def test_tests_of_functions_the_backend_lacks_are_expected_failures(suite):
    result = run(suite, "--turnout-backend=gpu", "--turnout-xfail-missing", "-rx")
    result.assert_outcomes(passed=3, xfailed=1)  # scale(-1) was declined, not missing
    out = result.stdout.str()
    assert (
        "XFAIL test_suite.py::test_negate - backend 'gpu' does not implement plughost.negate" in out
    )
    assert "expected failures, plughost.negate not implemented: 1 test(s)" in out


KNOWN = (
    GPU
    + """
    known_failures = {
        "test_add": "it tags its results",
        "test_suite.py::test_scale": "listed by mistake",
        "test_gone": "renamed since",
    }

    def on_start_tests(self, items):
        import pytest

        for item in items:
            if item.name == "test_model":
                item.add_marker(pytest.mark.skip(reason="models are slow here"))
"""
)

KNOWN_SUITE = """
import plughost

def test_add():
    assert plughost.add(1, 2) == ("cpu", 3)

def test_scale():
    assert plughost.scale(2)[1] == 4

def test_model():
    assert plughost.Model().implementation == "cpu"
"""


def test_a_backend_marks_its_known_failures(plugged):
    suite = plugged(KNOWN, tests=KNOWN_SUITE)
    result = run(suite, "--turnout-backend=gpu", "-rxXs")
    # a listed test that fails is expected to; one that passes fails the run (strict)
    result.assert_outcomes(xfailed=1, failed=1, skipped=1)
    out = result.stdout.str()
    assert (
        "XFAIL test_suite.py::test_add - known failure of backend 'gpu': it tags its results" in out
    )
    assert "[XPASS(strict)] known failure of backend 'gpu': listed by mistake" in out
    assert "models are slow here" in out
    assert "known failures of gpu: 2 test(s) marked as expected failures (strict)" in out
    assert "known failure pattern of gpu matched no collected test: 'test_gone'" in out
    run(suite).assert_outcomes(passed=3)  # inert without --turnout-backend


# -- differential runs --------------------------------------------------------------------------

COMPARING = """
import math

class Backend:
    name = "gpu"

    def mean(self, values):
        return math.fsum(values) / len(values)

    def total(self, values):
        return sum(values) + 1

    def spread(self, values):
        return [value * 1.001 for value in values]

    def stamp(self):
        return 42

    def turnout_compare(self, function, result, expected):
        if function == "plughost.spread":
            from turnout.testing import compare_results

            return compare_results(result, expected, rel_tol=1e-2)
        return None
"""

COMPARE_SUITE = """
import plughost

def test_mean():
    assert plughost.mean([0.1] * 10) > 0

def test_total():
    assert plughost.total([1, 2]) > 0

def test_spread():
    assert len(plughost.spread([1.0, 2.0])) == 2

def test_stamp():
    assert plughost.stamp() is not None
"""

COMPARE_CONFTEST = """
def pytest_turnout_compare(function, result, expected):
    if function == "plughost.stamp":
        return True  # a time stamp: any value will do
    return None
"""


def test_compare_runs_the_host_too_and_fails_a_test_whose_results_disagree(plugged):
    suite = plugged(COMPARING, tests=COMPARE_SUITE, conftest=COMPARE_CONFTEST)
    run(suite, "--turnout-backend=gpu").assert_outcomes(passed=4)
    result = run(suite, "--turnout-backend=gpu", "--turnout-compare")
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "--turnout-compare: results disagree with the host's code:" in out
    assert "plughost.total: backend 'gpu' returned 4, the host's code 3: 4 != 3" in out
    assert "FAILED test_suite.py::test_total" in out
    assert "compared with the host's code: 4 call(s)" in out


# -- pytest-xdist: the workers tally, the controller judges -----------------------------------


def test_under_xdist_the_controller_sums_up_and_judges(plugged):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    suite = plugged()
    result = run(suite, "-n", "2", "--turnout-backend=gpu", "--turnout-xfail-missing")
    result.assert_outcomes(passed=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    out = result.stdout.str()
    assert "plughost.add: ran on gpu 1 time(s)" in out
    assert "expected failures, plughost.negate not implemented: 1 test(s)" in out
    result = run(suite, "-n", "2", "--turnout-backend=gpx")
    result.assert_outcomes(skipped=4)  # no test ran on the host's code instead
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "FAILED (exit 4): backend 'gpx': no host imported by this suite" in result.stdout.str()
