"""``<HOST>_BLOCK`` leaves backends out before import, and a typo imports nothing untrusted."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from strategies import valid_labels

from turnout import (
    BackendRefusedError,
    BackendStatus,
    ConfigurationWarning,
    UnknownBackendError,
    UntrustedBackendWarning,
)
from turnout._cli import HOST_COLUMNS, host_rows, render

BACKEND = """
class Backend:
    name = {name!r}
    aliases = {aliases!r}

    def add(self, a, b):
        return ({name!r}, a + b)
"""

TRUSTED = {"gpu": {"aliases": ["cuda_like"], "package": "host-gpu"}}


def package(install, group, dist, entry, name, *, aliases=(), static=None):
    """Install `dist`: package `module` with entry point `entry`, and a turnout-backend.json."""
    module = dist.replace("-", "_")
    files = {f"{module}/__init__.py": BACKEND.format(name=name, aliases=list(aliases))}
    if static is not None:
        files[f"{module}/turnout-backend.json"] = json.dumps({group: static})
    install(dist, {entry: f"{module}:Backend"}, files)


def hosted(make_dispatcher, **options):
    dispatcher = make_dispatcher(trusted_backends=TRUSTED, **options)

    @dispatcher.backend_dispatch
    def add(a, b):
        return ("cpu", a + b)

    dispatcher.add = add
    return dispatcher


@pytest.fixture
def two(install, group):
    """A trusted gpu that declares its labels statically, and an untrusted jit that does not."""
    static = {"name": "gpu", "aliases": ["cuda_like", "graphics"]}
    package(install, group, "host-gpu", "gpu", "gpu", aliases=["graphics"], static=static)
    package(install, group, "host-jit", "jit", "jit", aliases=["numba_like"])
    return install


# -- <HOST>_BLOCK ---------------------------------------------------------------------------------


def test_a_blocked_backend_is_never_imported_and_selecting_it_says_why(
    two, make_dispatcher, monkeypatch
):
    monkeypatch.setenv("TESTHOST_BLOCK", "gpu")
    host = hosted(make_dispatcher)
    for label in ("gpu", "cuda_like", "graphics"):  # its name, the host's alias, its own
        with pytest.raises(BackendRefusedError, match="blocked by TESTHOST_BLOCK") as caught:
            host.add(1, 2, backend=label)
        assert caught.value.label == label
        assert "remove 'gpu' from TESTHOST_BLOCK" in str(caught.value)
    with pytest.raises(BackendRefusedError, match="blocked by TESTHOST_BLOCK"):
        host.settings.backend = "gpu"
    assert host.get_backend("gpu") is None
    assert "gpu" not in host.backends
    assert two.imported() == []
    with pytest.warns(UntrustedBackendWarning):
        assert host.add(1, 2, backend="jit") == ("jit", 3)  # the others work
    host.discover()
    assert two.imported() == ["host_jit"]
    assert host.available_backend_names() == ["jit", "numba_like"]


def test_report_and_the_command_line_say_blocked_not_missing(two, make_dispatcher, monkeypatch):
    monkeypatch.setenv("TESTHOST_BLOCK", "cuda_like")  # a trusted alias blocks its backend
    host = hosted(make_dispatcher)
    for load in (False, True):
        (blocked,) = [info for info in host.report(load=load) if info.name == "gpu"]
        assert blocked.status is BackendStatus.BLOCKED
        assert blocked.reason.startswith("blocked by TESTHOST_BLOCK (which lists 'cuda_like')")
        assert "never imported" in blocked.reason
        assert blocked.distribution == "host-gpu"
    rows, failed = host_rows(host, load=False)
    assert not failed  # the user's choice, not a failure: exit status 0
    (row,) = [row for row in rows if row["name"] == "gpu"]
    assert row["status"] == "blocked"
    assert "blocked by TESTHOST_BLOCK" in render(rows, HOST_COLUMNS)
    assert two.imported() == ["host_jit"]  # report(load=True) loaded the other one


@pytest.mark.parametrize(
    ("blocked", "entry", "static"),
    [
        ("gpu", "gpu", None),  # the entry point's name
        ("cuda_like", "gpu", None),  # the host's trusted alias
        ("fast", "fastpath", {"aliases": ["fast"]}),  # an alias in turnout-backend.json
        ("speedy", "fastpath", {"name": "speedy"}),  # the name in turnout-backend.json
    ],
)
def test_block_matches_every_label_metadata_gives(
    install, group, make_dispatcher, monkeypatch, blocked, entry, static
):
    package(install, group, "host-gpu", entry, "whatever", static=static)
    monkeypatch.setenv("TESTHOST_BLOCK", blocked)
    host = hosted(make_dispatcher)
    host.discover()
    assert install.imported() == []
    assert [info.status for info in host.report(load=False)] == [BackendStatus.BLOCKED]


def test_a_label_only_the_backends_code_gives_blocks_it_once_imported(
    install, group, make_dispatcher, monkeypatch
):
    package(install, group, "pkg-x", "x", "gpu2")  # no metadata says "gpu2"
    monkeypatch.setenv("TESTHOST_BLOCK", "gpu2")
    host = hosted(make_dispatcher)
    with pytest.warns(ConfigurationWarning, match="lists 'gpu2', but no backend"):
        host.discover()  # imported (nothing said it was gpu2), then left out
    assert install.imported() == ["pkg_x"]
    with pytest.raises(BackendRefusedError, match="blocked by TESTHOST_BLOCK") as caught:
        host.add(1, 2, backend="x")
    assert "it was imported before" in caught.value.reason
    assert host.available_backend_names() == []


def test_in_process_backends_under_a_blocked_label_are_left_out(make_dispatcher, monkeypatch):
    monkeypatch.setenv("TESTHOST_BLOCK", "mine,tree_alias")
    host = hosted(make_dispatcher)

    class Mine:
        name = "mine"

        def add(self, a, b):
            return ("mine", a + b)

    host.register_backend(Mine())  # no error: the host keeps importing

    class InTree(host.Backend):
        name = "tree"
        aliases = ("tree_alias",)

        def add(self, a, b):
            return ("tree", a + b)

    for label in ("mine", "tree", "tree_alias"):
        with pytest.raises(BackendRefusedError, match="blocked by TESTHOST_BLOCK"):
            host.add(1, 2, backend=label)
    infos = {info.name: info for info in host.report(load=False)}
    assert infos["mine"].status is BackendStatus.BLOCKED
    assert infos["tree"].status is BackendStatus.BLOCKED
    assert "never selected" in infos["tree"].reason


def test_unknown_labels_in_block_are_reported_once_at_the_first_scan(
    two, make_dispatcher, monkeypatch
):
    monkeypatch.setenv("TESTHOST_BLOCK", "gpuu,jit,cuda_like2")
    host = hosted(make_dispatcher)  # no scan yet: no warning (warnings are errors here)
    with pytest.warns(ConfigurationWarning) as caught:
        assert host.get_backend("gpu").name == "gpu"
    messages = sorted(str(warning.message) for warning in caught)
    assert len(messages) == 2
    assert "TESTHOST_BLOCK lists 'cuda_like2'" in messages[0]
    assert "Did you mean 'cuda_like'?" in messages[0]
    assert "TESTHOST_BLOCK lists 'gpuu'" in messages[1]
    assert "Did you mean 'gpu'?" in messages[1]
    host.refresh()
    host.discover()  # scanned again: not reported again
    assert host.get_backend("jit") is None  # the known label still blocks
    assert two.imported() == ["host_gpu"]


def test_malformed_labels_in_block_are_reported_when_the_host_is_imported(
    make_dispatcher, monkeypatch
):
    monkeypatch.setenv("TESTHOST_BLOCK", "ok, bad label ,cpu")
    with pytest.warns(ConfigurationWarning) as caught:
        host = hosted(make_dispatcher)
    messages = [str(warning.message) for warning in caught]
    assert any("'bad label' is ignored" in message for message in messages)
    assert any("'cpu' is the host's own code" in message for message in messages)
    assert host.add(1, 2) == ("cpu", 3)


def test_the_environment_backend_and_a_deprecated_label_meet_the_block(
    two, make_dispatcher, monkeypatch
):
    monkeypatch.setenv("TESTHOST_BLOCK", "old_gpu")
    monkeypatch.setenv("TESTHOST_BACKEND", "gpu")
    host = hosted(make_dispatcher, deprecated_backends={"old_gpu": "gpu"})
    with pytest.warns(ConfigurationWarning, match=r"TESTHOST_BACKEND='gpu' is ignored.*blocked"):
        assert host.add(1, 2) == ("cpu", 3)
    with pytest.raises(BackendRefusedError, match=r"which lists 'old_gpu'"):
        host.add(1, 2, backend="gpu")
    assert two.imported() == []


def test_explain_says_a_backend_is_blocked(two, make_dispatcher, monkeypatch):
    monkeypatch.setenv("TESTHOST_BLOCK", "gpu")
    host = hosted(make_dispatcher)
    with pytest.raises(BackendRefusedError, match="blocked by TESTHOST_BLOCK"):
        host.explain(host.add, 1, 2, backend="gpu")
    with pytest.warns(UntrustedBackendWarning):
        host.settings.backend = ["jit"]
    explained = host.explain(host.add, 1, 2, backend=None)
    assert explained.backend == "jit"


# -- a typo imports nothing untrusted ---------------------------------------------------------------


def test_a_typo_imports_nothing_and_warns_nothing(two, make_dispatcher):
    host = hosted(make_dispatcher)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(UnknownBackendError) as caught:
            host.add(1, 2, backend="gpuu")
        with pytest.raises(UnknownBackendError):
            host.settings.backend = "gpuu"
        assert host.get_backend("gpuu") is None
        assert "gpuu" not in host.backends
    assert seen == []  # no UntrustedBackendWarning, nothing at all
    assert two.imported() == []
    error = caught.value
    assert error.suggestions == ("gpu",)
    # what metadata gives: entry-point names, the host's aliases, turnout-backend.json
    assert error.installed == ("cpu", "cuda_like", "gpu", "graphics", "jit")
    assert "'jit' may answer to more labels once imported" in str(error)


def test_a_label_in_static_metadata_imports_only_its_backend(install, group, make_dispatcher):
    package(install, group, "pkg-a", "a", "a", aliases=["alpha"], static={"aliases": ["alpha"]})
    package(install, group, "pkg-b", "b", "b")
    host = hosted(make_dispatcher)
    with pytest.warns(UntrustedBackendWarning):
        assert host.add(1, 2, backend="alpha") == ("a", 3)
    assert install.imported() == ["pkg_a"]


def test_only_a_trusted_backend_that_declares_no_labels_is_imported_to_ask(
    install, group, make_dispatcher
):
    package(install, group, "host-gpu", "gpu", "gpu", aliases=["g"])  # no turnout-backend.json
    package(install, group, "host-jit", "jit", "jit", aliases=["j"])
    host = hosted(make_dispatcher)
    assert host.add(1, 2, backend="g") == ("gpu", 3)  # the trusted one's code said so
    assert install.imported() == ["host_gpu"]
    with pytest.raises(UnknownBackendError) as caught:
        host.add(1, 2, backend="j")  # only the untrusted one's code says so: not imported
    assert caught.value.installed == ("cpu", "cuda_like", "g", "gpu", "jit")
    assert install.imported() == ["host_gpu"]
    with pytest.warns(UntrustedBackendWarning):
        assert host.add(1, 2, backend="jit") == ("jit", 3)  # by its name
    assert host.add(1, 2, backend="j") == ("jit", 3)  # now its own alias works


def test_no_unknown_label_imports_anything(install, group, make_dispatcher):
    static = {"name": "gpu", "aliases": ["cuda_like"]}
    package(install, group, "host-gpu", "gpu", "gpu", static=static)
    package(install, group, "host-jit", "jit", "jit", aliases=["numba_like"])
    host = hosted(make_dispatcher)
    known = {"cpu", "gpu", "cuda_like", "jit", "numba_like"}

    @hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(label=valid_labels.filter(lambda label: label not in known))
    def check(label):
        with pytest.raises(UnknownBackendError):
            host.add(1, 2, backend=label)
        assert host.get_backend(label) is None

    check()
    assert install.imported() == []
