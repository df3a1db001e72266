"""Hostile and broken backends, each a real installed distribution.

In every scenario: the host imports, ``"cpu"`` works, a good backend works, the
problem shows in the registry report with a message that says what to do, and
no module is imported twice.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections import Counter

import pytest

from turnout import BackendStatus, TurnoutWarning

GOOD = """
class Backend:
    name = "gpu"

    def add(self, a, b):
        return ("gpu", a + b)
"""


def backend(name: object) -> str:
    return f"class Backend:\n    name = {name!r}\n\n    def add(self, a, b):\n        return ({name!r}, a + b)\n"


# id: (distribution, entry points, module source, expected status, words in the message)
SCENARIOS = {
    "raises-at-import": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "raise RuntimeError('no driver')",
        BackendStatus.FAILED,
        ["RuntimeError: no driver", "reinstall"],
    ),
    "raises-cancelled-error": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "import asyncio\nraise asyncio.CancelledError('stop')",
        BackendStatus.FAILED,
        ["CancelledError", "uninstall"],
    ),
    "raises-custom-base-exception": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Hostile(BaseException):\n    pass\nraise Hostile('boom')",
        BackendStatus.FAILED,
        ["Hostile: boom"],
    ),
    "name-property-raises": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Backend:\n    @property\n    def name(self):\n        raise RuntimeError('name boom')\n",
        BackendStatus.FAILED,
        ["name boom"],
    ),
    "aliases-property-raises": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Backend:\n    name = 'bad'\n    @property\n    def aliases(self):\n        raise RuntimeError('aliases boom')\n",
        BackendStatus.FAILED,
        ["aliases boom"],
    ),
    "getattr-raises": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Backend:\n    name = 'bad'\n    def __getattr__(self, attr):\n        raise RuntimeError('getattr boom')\n",
        BackendStatus.FAILED,
        ["getattr boom"],
    ),
    "repr-raises": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Backend:\n    name = 'bad'\n    def __repr__(self):\n        raise RuntimeError('repr boom')\n",
        BackendStatus.FAILED,
        ["repr boom"],
    ),
    "syntax-error": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "def broken(:\n    pass\n",
        BackendStatus.FAILED,
        ["SyntaxError", "reinstall"],
    ),
    "missing-attribute": (
        "bad-dist",
        {"bad": "bad_mod:Nope"},
        "x = 1\n",
        BackendStatus.FAILED,
        ["AttributeError", "Nope"],
    ),
    "constructor-raises": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        "class Backend:\n    def __init__(self):\n        raise ValueError('ctor')\n",
        BackendStatus.FAILED,
        ["ValueError: ctor"],
    ),
    "name-not-a-string": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        backend(42),
        BackendStatus.REJECTED,
        ["must be a string"],
    ),
    "name-empty": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        backend(""),
        BackendStatus.REJECTED,
        ["must not be empty"],
    ),
    "name-non-ascii": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        backend("gpü"),
        BackendStatus.REJECTED,
        ["not a valid label"],
    ),
    "entry-point-look-alike-of-trusted": (
        "bad-dist",
        {"g\u0440u": "bad_mod:Backend"},
        backend("gpu"),
        BackendStatus.REJECTED,
        ["not a valid label", "rename"],
    ),
    "declared-look-alike-of-trusted": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        backend("g\u0440u"),
        BackendStatus.REJECTED,
        ["not a valid label"],
    ),
    "entry-point-named-cpu": (
        "bad-dist",
        {"cpu": "bad_mod:Backend"},
        backend("cpu"),
        BackendStatus.REJECTED,
        ["'cpu' always means"],
    ),
    "declared-name-cpu": (
        "bad-dist",
        {"bad": "bad_mod:Backend"},
        backend("cpu"),
        BackendStatus.REJECTED,
        ["'cpu' always means"],
    ),
    "reserved-name": (
        "bad-dist",
        {"cuda": "bad_mod:Backend"},
        backend("cuda"),
        BackendStatus.REJECTED,
        ["reserved by hostile_host", "use 'gpu'"],
    ),
    "trusted-name-wrong-distribution": (
        "bad-dist",
        {"gpu": "bad_mod:Backend"},
        backend("gpu"),
        BackendStatus.REJECTED,
        ["expects distribution 'host-gpu'", "uninstall bad-dist"],
    ),
    "trusted-name-wrong-object-reference": (
        "host-tpu",
        {"tpu": "bad_mod:Other"},
        backend("tpu").replace("class Backend", "class Other"),
        BackendStatus.REJECTED,
        ["expects object reference 'bad_mod:Backend'"],
    ),
}

HOST = """
from turnout import BackendDispatcher

_dispatcher = BackendDispatcher(
    {group!r},
    "hostile_host",
    trusted_backends={{
        "gpu": {{"package": "host-gpu"}},
        "tpu": {{"package": "host-tpu", "object_refs": ["bad_mod:Backend"]}},
    }},
    reserved_backends={{"cuda": "use 'gpu'"}},
)
report = _dispatcher.report
get_backend = _dispatcher.get_backend
available_backend_names = _dispatcher.available_backend_names


@_dispatcher.backend_dispatch
def add(a, b):
    return ("cpu", a + b)
"""


def check(install, site, group, bad_names=()):
    """The common promises; return the report entries not READY."""
    site.add("hostile-host", modules={"hostile_host.py": HOST.format(group=group)})
    host = importlib.import_module("hostile_host")
    assert host.add(1, 2) == ("cpu", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TurnoutWarning)
        assert host.add(1, 2, backend="gpu") == ("gpu", 3)
        report = host.report()
        for name in bad_names:  # asking again imports nothing again
            with contextlib.suppress(ImportError):
                host.get_backend(name)
    counts = Counter(install.imported())
    assert all(count == 1 for count in counts.values()), counts
    return [info for info in report if info.status is not BackendStatus.READY]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_hostile_backend(install, site, group, scenario):
    dist, entry_points, source, status, words = SCENARIOS[scenario]
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GOOD})
    install(dist, entry_points, {"bad_mod.py": source})
    problems = check(install, site, group, bad_names=[*entry_points, "bad"])
    assert [info.status for info in problems] == [status]
    message = problems[0].as_dict()["error"]
    for word in words:
        assert word in message, message


def test_two_distributions_claiming_one_untrusted_name(install, site, group):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GOOD})
    install("first-dist", {"dup": "first_mod:Backend"}, {"first_mod.py": backend("dup")})
    install("second-dist", {"dup": "second_mod:Backend"}, {"second_mod.py": backend("dup")})
    (problem,) = check(install, site, group, bad_names=["dup"])
    assert problem.status is BackendStatus.REJECTED
    assert problem.is_conflict
    assert problem.distribution == "second-dist"
    assert "uninstall one of the two" in problem.reason


def test_backend_that_imports_the_host_while_importing(install, site, group):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": GOOD})
    install(
        "recursive-dist",
        {"rec": "rec_mod:Backend"},
        {
            "rec_mod.py": "import hostile_host\nhostile_host.available_backend_names()\nhostile_host.add(1, 2)\n"
            + backend("rec")
        },
    )
    assert check(install, site, group, bad_names=["rec"]) == []
