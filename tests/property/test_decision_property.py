"""explain() names the backend that runs: for any state of the settings, functions and classes.

Real distributions provide three backends; hypothesis draws the call's keyword,
a scope, the process-wide setting, a per-function priority, automatic selection,
the kill switch, aliases, a deprecated label and the argument (whose value a
``can_run`` or ``should_run`` hook may refuse, and whose type one backend owns).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import warnings

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from turnout import BackendDispatcher, DeprecatedBackendWarning
from turnout.testing import DistributionSite

BACKENDS = {
    "a": """
class Backend:
    name = "a"
    aliases = ["alpha"]

    def f(self, x):
        return ("a", x)

    def _can_run(x):
        return x != 13 or "13 is unlucky here"

    f.can_run = staticmethod(_can_run)

    class M:
        implementation = "a"
""",
    "b": """
class Backend:
    name = "b"

    def f(self, x):
        return ("b", x)

    def should_run(self, name, args, kwargs):
        return args[0] != 7

    class M:
        implementation = "b"
""",
    "c": """
class Backend:
    name = "c"

    def f(self, x):
        return ("c", x)
""",
}
LABELS = ["a", "alpha", "b", "c", "old", "cpu"]
_groups = itertools.count()


class Special:
    """A type backend c owns (declared in its static metadata)."""

    def __repr__(self) -> str:
        return "Special()"


def _host(group: str, **options: object) -> tuple[BackendDispatcher, object, type]:
    dispatcher = BackendDispatcher(
        group,
        "prophost",
        trusted_backends={name: {"package": f"prop-{name}"} for name in BACKENDS},
        deprecated_backends={"old": "b"},
        **options,  # type: ignore[arg-type]
    )

    @dispatcher.backend_dispatch
    def f(x):
        return ("cpu", x)

    @dispatcher.backend_class
    class M:
        implementation = "cpu"

    return dispatcher, f, M


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    group = f"turnout_prop.g{os.getpid()}_{next(_groups)}.backends"
    with DistributionSite(tmp_path_factory.mktemp("site")) as site:
        for name, source in BACKENDS.items():
            # the metadata gives every label the code does: a label is known before import
            aliases = ["alpha"] if name == "a" else []
            types = [f"{__name__}:Special"] if name == "c" else []
            info = {group: {"name": name, "aliases": aliases, "types": types}}
            site.add(
                f"prop-{name}",
                entry_points={group: {name: f"prop_{name}:Backend"}},
                modules={
                    f"prop_{name}/__init__.py": source,
                    f"prop_{name}/turnout-backend.json": json.dumps(info),
                },
            )
        normal = _host(group)
        saved = {key: os.environ.get(key) for key in ("PROPHOST_BACKEND", "PROPHOST_STRICT")}
        os.environ.update(PROPHOST_BACKEND="cpu", PROPHOST_STRICT="1")
        try:
            forced = _host(group)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        yield {False: normal, True: forced}


selection = st.one_of(
    st.none(),
    st.sampled_from(LABELS),
    st.lists(st.sampled_from(LABELS), min_size=1, max_size=3),
)


@given(
    forced=st.booleans(),
    keyword=selection,
    scope=selection,
    process_wide=selection,
    per_function=st.one_of(st.none(), st.lists(st.sampled_from(LABELS), min_size=1, max_size=3)),
    automatic=st.booleans(),
    argument=st.sampled_from([0, 7, 13, "special"]),
)
def test_explain_names_the_backend_that_runs(
    hosts, forced, keyword, scope, process_wide, per_function, automatic, argument
):
    dispatcher, f, model = hosts[forced]
    settings = dispatcher.settings
    x = Special() if argument == "special" else argument
    call = {} if keyword is None else {"backend": keyword}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedBackendWarning)
        del settings.backend
        settings.priority.clear()
        settings.automatic = automatic
        if process_wide is not None:
            settings.backend = process_wide
        if per_function is not None:
            settings.priority["f"] = per_function
            settings.priority["M"] = per_function
        context = settings.use_backend(scope) if scope is not None else contextlib.nullcontext()
        with context:
            explained = dispatcher.explain(f, x, **call)
            ran = f(x, **call)[0]
            assert ("cpu" if explained.fallback else explained.backend) == ran, explained
            explained = dispatcher.explain(model, **call)
            built = model(**call).implementation
            assert ("cpu" if explained.fallback else explained.backend) == built, explained
        event(f"the function ran on {ran}, the class on {built}")
        if forced:
            assert ran == built == "cpu"
