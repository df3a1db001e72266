"""turnout against a plain call and its peers, in one run.

Run it with ``python3 dev.py bench`` (under Python 3.12+ to include
scverse-backends): that builds ``.venv/bench-pyX.Y`` with turnout and the peers
and runs this script there. Every per-call figure is the minimum over repeats of
a warmed-up loop; ratios are to a plain call measured in the same run. Startup
figures (import, discovery, first backend call) come from fresh processes, the
minimum of several.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

import turnout
from turnout.testing import DistributionSite

REPEATS = 7
NUMBER = 100_000
PROCESS_RUNS = 5

BACKEND_MODULE = """
class Backend:
    name = "bench"

    def add(self, a, b):
        return a + b

    def kinds(self, a, /, b, *, c=3, **extra):
        return a + b + c

    def posonly(self, a, b, /):
        return a + b

    def kwonly(self, a, *, b):
        return a + b

    def defaults(self, a, b=2, c=3):
        return a + b + c

    def varkw(self, a, **options):
        return a

    def scenario(self, x, shared=1.0, backend_only=False):
        return x


def add(a, b):
    return a + b


class Hooked:  # the same functions, behind a can_run hook that says yes
    name = "hooked"

    def can_run(self, name, args, kwargs):
        return True

    def scenario(self, x, shared=1.0, backend_only=False):
        return x


class Cells:  # an array-like type of the backend's own, owned by Owner

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Owner:
    name = "owner"
    types = ("bench_backend:Cells",)

    def add(self, a, b):
        return a

    def scenario(self, x, shared=1.0, backend_only=False):
        return x
"""

NX_INTERFACE = """
class Interface:
    convert_from_nx = staticmethod(lambda G, *args, **kwargs: G)
    convert_to_nx = staticmethod(lambda obj, *args, **kwargs: obj)
    can_run = staticmethod(lambda name, args, kwargs: True)
    should_run = staticmethod(lambda name, args, kwargs: True)

    @staticmethod
    def bench_add(a, b):
        return a + b

    @staticmethod
    def bench_scenario(x, shared=1.0, host_only=None, *, backend_only=False):
        return x  # networkx passes the host's parameters by position: the backend mirrors them

    @staticmethod
    def bench_typed(G, b):
        return G


class Graph:  # a graph type of the backend's own: networkx dispatches on __networkx_backend__

    __networkx_backend__ = "bench"
"""


def measure(stmt: Callable[[], object]) -> float:
    """Return the best ns/call of `stmt`."""
    timer = timeit.Timer(stmt)
    timer.timeit(NUMBER // 10)
    return min(timer.repeat(REPEATS, NUMBER)) / NUMBER * 1e9


PAIRED_ROUNDS = 31
Stmt = Callable[[], object]


def paired(stmt: Callable[[], object], base: Callable[[], object]) -> tuple[float, float]:
    """Return the best ns/call of `stmt` and its median ratio to `base`, timed in turns.

    Each round times `base`, then `stmt`, over the same number of calls: a
    machine that slows down for a while slows both, and the ratio of the round
    stays. The ratio reported is the median over the rounds.
    """
    probe = timeit.Timer(stmt).timeit(1000) / 1000
    number = max(100, min(NUMBER // 5, int(0.004 / max(probe, 1e-9))))  # ~4 ms a round
    timeit.Timer(stmt).timeit(number)
    timeit.Timer(base).timeit(number)
    times, ratios = [], []
    for _ in range(PAIRED_ROUNDS):
        own = timeit.Timer(base).timeit(number)
        took = timeit.Timer(stmt).timeit(number)
        times.append(took)
        ratios.append(took / own)
    ratios.sort()
    return min(times) / number * 1e9, ratios[len(ratios) // 2]


def plain_add(a: int, b: int) -> int:
    return a + b


class Table:
    """Rows of (section, label, ns, own ns) printed with ratios to the plain call."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, float]] = []
        self.plain = measure(lambda: plain_add(1, 2))

    def add(self, section: str, label: str, ns: float, own: float | None = None) -> None:
        self.rows.append((section, label, ns, self.plain if own is None else own))

    def print(self) -> None:
        print(f"\n{'per call':<52}{'ns/call':>9}{'x plain':>9}{'overhead':>10}")
        print(f"{'plain call':<52}{self.plain:>9.1f}{1:>9.2f}{'':>10}")
        section = None
        for name, label, ns, own in self.rows:
            if name != section:
                print(f"-- {name}")
                section = name
            overhead = (ns - own) / self.plain + 1
            print(f"  {label:<50}{ns:>9.1f}{ns / self.plain:>9.2f}{overhead:>9.2f}x")
        print(
            "overhead: (ns - the implementation's own ns) / plain + 1, so a free "
            "dispatch is 1.00x;\nthe backend function here is a bound method, as "
            "costly as the plain call."
        )


def bench_turnout(table: Table, backend: object) -> None:
    dispatcher = turnout.BackendDispatcher(
        "bench.backends", "bench", trusted_backends={"bench": {"package": "bench-backend"}}
    )

    @dispatcher.backend_dispatch
    def add(a: int, b: int) -> int:
        return a + b

    @dispatcher.backend_dispatch
    def subtract(a: int, b: int) -> int:
        return a - b

    @dispatcher.backend_dispatch
    def kinds(a: int, /, b: int, *, c: int = 3, **extra: int) -> int:
        return a + b + c

    settings = dispatcher.settings
    own = measure(lambda: backend.add(1, 2))  # type: ignore[attr-defined]
    own_kinds = measure(lambda: backend.kinds(1, 2, c=4))  # type: ignore[attr-defined]
    host_kinds = measure(lambda: kinds.__wrapped__(1, 2, c=4))  # type: ignore[attr-defined]
    table.add("turnout", "default path (host code runs)", measure(lambda: add(1, 2)))
    table.add(
        "turnout", "backend='bench' per call", measure(lambda: add(1, 2, backend="bench")), own
    )
    with settings.use_backend("bench"):
        table.add("turnout", "use_backend('bench') scope", measure(lambda: add(1, 2)), own)
        table.add("turnout", "fallback (backend lacks it)", measure(lambda: subtract(1, 2)))
    settings.backend = "bench"
    table.add("turnout", "settings.backend = 'bench'", measure(lambda: add(1, 2)), own)
    settings.backend = "cpu"
    section = "turnout, f(a, /, b, *, c=3, **extra)"
    table.add(section, "default path", measure(lambda: kinds(1, 2, c=4)), host_kinds)
    table.add(section, "default path, defaults", measure(lambda: kinds(1, 2)), host_kinds)
    table.add(
        section, "backend='bench'", measure(lambda: kinds(1, 2, c=4, backend="bench")), own_kinds
    )
    table.add(section, "default path, **extra", measure(lambda: kinds(1, 2, c=4, z=1)), host_kinds)


def scenario(x: int, shared: float = 1.0, host_only: object = None) -> int:
    """The issue's host function: a shared, a host-only parameter."""
    return x


def bench_scenario(table: Table, backend: object) -> dict[str, float]:
    """Host (x, shared, host_only), backend (x, shared, backend_only): turnout and peers.

    Ratios are to a plain call of the backend function with the same arguments
    (or of the host function, for the default path). Returns turnout's ratios.
    """
    implementation = backend.scenario  # type: ignore[attr-defined]

    def own() -> object:
        return implementation(1, shared=2.0, backend_only=True)

    def own_shared() -> object:
        return implementation(1, shared=2.0)

    def own_host() -> object:
        return scenario(1, shared=2.0)

    ratios: dict[str, float] = {}

    def row(section: str, label: str, stmt: Callable[[], object], base: Stmt) -> None:
        ns, ratio = paired(stmt, base)
        table.add(section, f"{label} ({ratio:.2f}x its own call)", ns, ns / ratio)
        if section.startswith("turnout"):
            ratios[label] = ratio

    trusted = {"bench": {"package": "bench-backend"}, "hooked": {"package": "bench-backend"}}
    dispatcher = turnout.BackendDispatcher("bench.backends", "bench", trusted_backends=trusted)
    f = dispatcher.backend_dispatch(scenario)
    f(1, backend="bench")  # load and plan outside the timing
    f(1, backend="hooked")
    section = "turnout, f(x, shared=2.0, backend_only=True, ...)"
    row(section, "default path", lambda: f(1, shared=2.0), own_host)
    # Tracing costs nothing when off: a closed trace leaves the wrappers on their usual code.
    with dispatcher.settings.trace() as calls:
        row(section, "default path, inside settings.trace()", lambda: f(1, shared=2.0), own_host)
    assert calls, "the trace recorded nothing"
    row(section, "default path, after settings.trace() closed", lambda: f(1, shared=2.0), own_host)
    row(
        section,
        "backend=, backend-only keyword",
        lambda: f(1, shared=2.0, backend_only=True, backend="bench"),
        own,
    )
    row(
        section,
        "backend=, no backend-only keyword",
        lambda: f(1, shared=2.0, backend="bench"),
        own_shared,
    )
    with dispatcher.settings.use_backend("bench"):
        row(
            section,
            "scope, backend-only keyword",
            lambda: f(1, shared=2.0, backend_only=True),
            own,
        )
        row(section, "scope, no backend-only keyword", lambda: f(1, shared=2.0), own_shared)
    # Until a scope is entered, the wrapper takes the process-wide choice from a cell;
    # from then on it reads the ContextVar (any thread may be in a scope).
    row(section, "default path, once a scope was used", lambda: f(1, shared=2.0), own_host)
    row(
        section,
        "backend=, can_run hook says yes",
        lambda: f(1, shared=2.0, backend_only=True, backend="hooked"),
        own,
    )
    automatic = turnout.BackendDispatcher(
        "typed.backends",
        "typed",
        trusted_backends={"owner": {"package": "bench-backend"}},
        automatic=True,
    )
    h = automatic.backend_dispatch(scenario)
    automatic.discover()
    h(1, shared=2.0)
    row(
        section,
        "automatic selection on, a type no backend owns",
        lambda: h(1, shared=2.0),
        own_host,
    )
    from bench_backend import Cells, Owner  # type: ignore[import-not-found]  # noqa: PLC0415

    cells, owner = Cells(1), Owner()
    h(cells, shared=2.0)
    row(
        section,
        "automatic selection on, a type its backend owns",
        lambda: h(cells, shared=2.0),
        lambda: owner.scenario(cells, shared=2.0),
    )
    bench_floor(row, implementation, own, own_host, owned=(cells, owner.scenario))
    bench_scenario_peers(row, own, own_host)
    return ratios


def bench_floor(
    row: Callable[[str, str, Stmt, Stmt], None],
    implementation: Callable[..., object],
    own: Stmt,
    own_host: Stmt,
    *,
    owned: tuple[object, Callable[..., object]],
) -> None:
    """The least a wrapper of this design can do, written by hand and timed in the same run.

    The wrapper takes the host's parameters with defaults OMITTED, the selector
    and the backend-only keyword as named parameters, and ``**`` (a keyword a
    backend not yet loaded may take); it reads the ContextVar, finds the route
    by the label and calls it. The route checks the host-only argument and the
    ``**`` dict and fills in the backend's default. Nothing else: no hooks, no
    declines, no fallback.
    """
    from contextvars import ContextVar  # noqa: PLC0415

    omitted = object()
    chosen: ContextVar[str] = ContextVar("floor", default="cpu")
    read = chosen.get
    host_defaults = (1.0, None)
    owner_type = type(None)

    def route(
        x: object, shared: object, host_only: object, kw: object, backend_only: object
    ) -> object:
        if host_only is not omitted:
            raise AssertionError  # never here: the warning for a dropped argument
        if kw:
            raise AssertionError  # never here: keywords nobody declared
        return implementation(
            x, shared=shared, backend_only=False if backend_only is omitted else backend_only
        )

    routes = {"bench": route}

    def wrapper(
        x: object,
        shared: object = omitted,
        host_only: object = omitted,
        *,
        backend: object = None,
        backend_only: object = omitted,
        **kw: object,
    ) -> object:
        if backend is None:
            backend = read()
        if backend == "cpu" or (backend == "auto" and type(x) is not owner_type):
            if shared is omitted:
                shared = host_defaults[0]
            if host_only is omitted:
                host_only = host_defaults[1]
            return scenario(x, shared, host_only)  # type: ignore[arg-type]
        return routes[backend](x, shared, host_only, kw, backend_only)  # type: ignore[index]

    section = "hand-written floor of this design, same call"
    row(section, "default path", lambda: wrapper(1, shared=2.0), own_host)
    row(
        section,
        "backend=, backend-only keyword",
        lambda: wrapper(1, shared=2.0, backend_only=True, backend="bench"),
        own,
    )
    token = chosen.set("bench")
    row(
        section,
        "scope, backend-only keyword",
        lambda: wrapper(1, shared=2.0, backend_only=True),
        own,
    )
    chosen.reset(token)
    token = chosen.set("auto")
    row(section, "automatic, a type no backend owns", lambda: wrapper(1, shared=2.0), own_host)
    chosen.reset(token)
    bench_floor_owned(row, owned)


def bench_floor_owned(
    row: Callable[[str, str, Stmt, Stmt], None], owned: tuple[object, Callable[..., object]]
) -> None:
    """The floor's automatic path for an owned type: the route found by the argument's type."""
    value, implementation = owned
    omitted = object()

    def route(x: object, shared: object, backend_only: object) -> object:
        return implementation(
            x, shared=shared, backend_only=False if backend_only is omitted else backend_only
        )

    by_type = {type(value): route}
    automatic = object()
    current = [automatic]

    def wrapper(
        x: object,
        shared: object = omitted,
        host_only: object = omitted,
        *,
        backend: object = None,
        backend_only: object = omitted,
    ) -> object:
        if backend is None:
            backend = current[0]
        if backend is automatic:
            return by_type[type(x)](x, shared, backend_only)
        raise AssertionError  # never here

    row(
        "hand-written floor of this design, same call",
        "automatic, a type its backend owns",
        lambda: wrapper(value, shared=2.0),
        lambda: implementation(value, shared=2.0),
    )


def bench_scenario_peers(
    row: Callable[[str, str, Stmt, Stmt], None], own: Stmt, own_host: Stmt
) -> None:
    try:
        import scverse_backends  # noqa: PLC0415
    except ImportError:
        pass
    else:
        dispatcher = scverse_backends.BackendDispatcher(
            entrypoint_group="sbench.backends",
            host_name="sbench",
            trusted_backends={"bench": {"aliases": [], "package": "bench-backend"}},
        )
        g = dispatcher.backend_dispatch(scenario)
        section = "scverse-backends, the same call"
        row(section, "default path", lambda: g(1, shared=2.0), own_host)
        row(
            section,
            "backend=, backend-only keyword",
            lambda: g(1, shared=2.0, backend_only=True, backend="bench"),
            own,
        )
        with dispatcher.settings.use_backend("bench"):
            row(
                section,
                "scope, backend-only keyword",
                lambda: g(1, shared=2.0, backend_only=True),
                own,
            )
    try:
        import networkx as nx  # noqa: PLC0415
        from networkx.utils.backends import _dispatchable  # noqa: PLC0415
    except ImportError:
        pass
    else:

        @_dispatchable(graphs=None, name="bench_scenario")
        def bench_scenario(x: int, shared: float = 1.0, host_only: object = None) -> int:
            return x

        section = f"networkx {nx.__version__}, the same call"
        row(section, "default path", lambda: bench_scenario(1, shared=2.0), own_host)
        row(
            section,
            "backend=, backend-only keyword",
            lambda: bench_scenario(1, shared=2.0, backend="bench", backend_only=True),
            own,
        )
        # networkx asks every backend it loads can_run (its own object, nx_bench.Interface,
        # whose can_run says yes): the row above already pays for the hook
        row(
            section,
            "backend=, can_run hook says yes",
            lambda: bench_scenario(1, shared=2.0, backend="bench", backend_only=True),
            own,
        )
    try:
        import uarray as ua  # noqa: PLC0415
    except ImportError:
        return
    multimethod = ua.generate_multimethod(
        lambda x, shared=1.0, host_only=None: (),
        lambda args, kwargs, dispatchables: (args, kwargs),
        "scenario",
        default=scenario,
    )

    class Backend:
        __ua_domain__ = "scenario"

        @staticmethod
        def __ua_function__(
            method: object, args: tuple[int, ...], kwargs: dict[str, object]
        ) -> int:
            kwargs.pop("host_only", None)
            return args[0]

    section = f"uarray {ua.__version__}, the same call"
    row(section, "default path", lambda: multimethod(1, shared=2.0), own_host)
    with ua.set_backend(Backend):
        row(
            section,
            "scope, backend-only keyword",
            lambda: multimethod(1, shared=2.0, backend_only=True),
            own,
        )


def bench_kinds(backend: object) -> float:
    """Each parameter kind, as a multiple of calling that same host function directly.

    Returns the largest default-path ratio.
    """
    dispatcher = turnout.BackendDispatcher(
        "bench.backends", "bench", trusted_backends={"bench": {"package": "bench-backend"}}
    )

    def posonly(a: int, b: int, /) -> int:
        return a + b

    def kwonly(a: int, *, b: int) -> int:
        return a + b

    def defaults(a: int, b: int = 2, c: int = 3) -> int:
        return a + b + c

    def varkw(a: int, **options: int) -> int:
        return a

    def mixed(a: int, *, b: int = 2, **options: int) -> int:
        return a

    cases = [
        ("positional-only f(a, b, /)", posonly, (1, 2), {}),
        ("keyword-only f(a, *, b), b given", kwonly, (1,), {"b": 2}),
        ("defaults f(a, b=2, c=3), a given", defaults, (1,), {}),
        ("**kwargs f(a, **options), one given", varkw, (1,), {"z": 2}),
        ("mixed f(a, *, b=2, **options), b given", mixed, (1,), {"b": 3}),
        ("mixed f(a, *, b=2, **options), **options given", mixed, (1,), {"z": 3}),
    ]
    worst = 0.0
    print(
        f"\n{'each kind alone: x a direct call of the same function':<52}{'default':>9}{'backend':>9}"
    )
    for label, host, args, kwargs in cases:
        wrapped = dispatcher.backend_dispatch(host)
        implementation = getattr(backend, host.__name__, host)
        own_host = measure(lambda h=host, a=args, k=kwargs: h(*a, **k))
        own_backend = measure(lambda i=implementation, a=args, k=kwargs: i(*a, **k))
        default = measure(lambda w=wrapped, a=args, k=kwargs: w(*a, **k))
        selected = measure(lambda w=wrapped, a=args, k=kwargs: w(*a, backend="bench", **k))
        print(f"  {label:<50}{default / own_host:>8.2f}x{selected / own_backend:>8.2f}x")
        worst = max(worst, default / own_host)
    print("(both columns include the argument unpacking of the measuring lambda, on both sides)")
    return worst


def bench_types(table: Table) -> float:
    """Automatic selection by argument type: turnout and networkx; returns turnout's ratio."""
    from bench_backend import Cells, Owner  # type: ignore[import-not-found]  # noqa: PLC0415

    owner = Owner()
    cells = Cells(1)
    own = measure(lambda: owner.add(cells, 2))
    dispatcher = turnout.BackendDispatcher(
        "typed.backends",
        "typed",
        trusted_backends={"owner": {"package": "bench-backend"}},
        automatic=True,
    )

    @dispatcher.backend_dispatch
    def add(a: int, b: int) -> int:
        return a + b

    dispatcher.discover()  # types declared on the backend object count once it is loaded
    add(cells, 2)  # cache the route for the type
    section = "turnout, automatic selection by the first argument's type"
    ns, ratio = paired(lambda: add(cells, 2), lambda: owner.add(cells, 2))
    table.add(section, f"owned type -> its backend ({ratio:.2f}x its own call)", ns, ns / ratio)
    table.add(section, "a type no backend owns -> host code", measure(lambda: add(1, 2)))
    dispatcher.settings.backend = ["owner"]
    table.add(section, "priority list ['owner'], owned type", measure(lambda: add(cells, 2)), own)
    del dispatcher.settings.backend
    try:
        import networkx as nx  # noqa: PLC0415
        from networkx.utils.backends import _dispatchable  # noqa: PLC0415
        from nx_bench import Graph  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        return ratio

    @_dispatchable(graphs="G", name="bench_typed")
    def bench_typed(G: object, b: int) -> object:  # noqa: N803 - networkx's name for a graph
        return G

    graph = Graph()
    section = f"networkx {nx.__version__} _dispatchable, a backend's graph type"
    table.add(section, "backend graph -> its backend", measure(lambda: bench_typed(graph, 2)), own)
    return ratio


def bench_scverse(table: Table, own: float) -> None:
    try:
        import scverse_backends  # noqa: PLC0415
    except ImportError:
        print("(scverse-backends not installed: it needs Python >= 3.12)")
        return
    dispatcher = scverse_backends.BackendDispatcher(
        entrypoint_group="sbench.backends",
        host_name="sbench",
        trusted_backends={"bench": {"aliases": [], "package": "bench-backend"}},
    )

    @dispatcher.backend_dispatch
    def add(a: int, b: int) -> int:
        return a + b

    settings = dispatcher.settings
    section = f"scverse-backends {scverse_backends.__dict__.get('__version__', '0.0.3')}"
    table.add(section, "default path", measure(lambda: add(1, 2)))
    table.add(section, "backend='bench' per call", measure(lambda: add(1, 2, backend="bench")), own)
    with settings.use_backend("bench"):
        table.add(section, "use_backend('bench') scope", measure(lambda: add(1, 2)), own)
    settings.backend = "bench"
    table.add(section, "settings.backend = 'bench'", measure(lambda: add(1, 2)), own)
    settings.backend = "cpu"


def bench_networkx(table: Table, own: float) -> None:
    try:
        import networkx as nx  # noqa: PLC0415
        from networkx.utils.backends import _dispatchable  # noqa: PLC0415
    except ImportError:
        print("(networkx not installed)")
        return

    @_dispatchable(graphs=None, name="bench_add")
    def bench_add(a: int, b: int) -> int:
        return a + b

    section = f"networkx {nx.__version__} _dispatchable (one backend installed)"
    table.add(section, "default path", measure(lambda: bench_add(1, 2)))
    table.add(
        section, "backend='bench' per call", measure(lambda: bench_add(1, 2, backend="bench")), own
    )
    with nx.config.backend_priority(algos=["bench"]):
        table.add(section, "backend_priority scope", measure(lambda: bench_add(1, 2)), own)
    nx.config.backend_priority.algos = ["bench"]
    table.add(section, "backend_priority global", measure(lambda: bench_add(1, 2)), own)
    nx.config.backend_priority.algos = []


def bench_uarray(table: Table, own: float) -> None:
    try:
        import uarray as ua  # noqa: PLC0415
    except ImportError:
        print("(uarray not installed)")
        return

    add = ua.generate_multimethod(
        lambda a, b: (),
        lambda args, kwargs, dispatchables: (args, kwargs),
        "bench",
        default=plain_add,
    )

    class Backend:
        __ua_domain__ = "bench"

        @staticmethod
        def __ua_function__(method: object, args: tuple[int, ...], kwargs: dict[str, int]) -> int:
            return plain_add(*args, **kwargs)

    section = f"uarray {ua.__version__} (no per-call keyword)"
    table.add(section, "default path", measure(lambda: add(1, 2)))
    with ua.set_backend(Backend):
        table.add(section, "set_backend scope", measure(lambda: add(1, 2)), own)
    ua.set_global_backend(Backend)
    table.add(section, "set_global_backend", measure(lambda: add(1, 2)), own)


def bench_threads(dispatched: Callable[[int, int], int]) -> None:
    def run(func: Callable[[int, int], int], threads: int, calls: int) -> float:
        def work() -> None:
            for _ in range(calls // threads):
                func(1, 2)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.perf_counter() - start

    calls = 400_000
    print("\nten threads sharing 400,000 calls: wall time, and as a multiple of one thread")
    for label, func in (("plain call", plain_add), ("turnout default path", dispatched)):
        one = min(run(func, 1, calls) for _ in range(3))
        ten = min(run(func, 10, calls) for _ in range(3))
        print(f"  {label:<26}{1e3 * one:>8.1f} ms{1e3 * ten:>8.1f} ms{ten / one:>8.2f}x")


DOC = """Compute something from a and b.

    A longer description, as real host functions have.

    Parameters
    ----------
    a
        The first value.
    b
        The second value.
    c
        A keyword.

    Returns
    -------
    int
        The result.
    """


def bench_decoration() -> float:
    sources = "\n".join(
        f"def f{i}(a, b=1, *, c=2):\n    {DOC!r}\n    return a\n" for i in range(1000)
    )
    best = float("inf")
    for run in range(5):
        namespace: dict[str, object] = {}
        exec(sources, namespace)  # noqa: S102 - generated benchmark functions
        functions = [namespace[f"f{i}"] for i in range(1000)]
        dispatcher = turnout.BackendDispatcher(f"decorate{run}.backends", "decorate")
        start = time.perf_counter()
        for function in functions:
            dispatcher.backend_dispatch(function)  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
    print(
        f"\ndecorating 1,000 documented functions (selector in signature and docstring): "
        f"{1e3 * best:.2f} ms ({1e6 * best / 1000:.2f} us each)"
    )
    return 1e3 * best


def import_time(module: str, env: dict[str, str]) -> float | None:
    """Best cumulative ``-X importtime`` of `module` in fresh processes, in ms."""
    best = None
    for _ in range(PROCESS_RUNS):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode:
            return None
        last = result.stderr.strip().splitlines()[-1]
        ms = int(last.split("|")[1]) / 1000
        best = ms if best is None else min(best, ms)
    return best


def bench_import(env: dict[str, str]) -> float | None:
    print("\nimport time (best of 5 fresh processes, -X importtime cumulative)")
    times = {m: import_time(m, env) for m in ("turnout", "scverse_backends", "pluggy", "uarray")}
    reference = times["scverse_backends"]
    for module, ms in times.items():
        if ms is None:
            print(f"  {module:<20}{'not installed':>12}")
            continue
        share = f"{100 * ms / reference:>7.0f}% of scverse_backends" if reference else ""
        print(f"  {module:<20}{ms:>9.1f} ms{share}")
    return times["turnout"]


FIRST_CALL = """
import sys, time, json
{preload}
t0 = time.perf_counter()
import {package} as lib
t1 = time.perf_counter()
d = lib.BackendDispatcher(entrypoint_group="disc.backends", host_name="disc",
    trusted_backends={{f"b{{i}}": {{"aliases": [], "package": f"disc-backend-{{i}}"}} for i in range({n})}})
@d.backend_dispatch
def add(a, b):
    return a + b
t2 = time.perf_counter()
add(1, 2, backend="b{pick}")
t3 = time.perf_counter()
print(json.dumps({{"first_call": 1e3 * (t3 - t2), "imported": sorted(m for m in sys.modules if m.startswith("disc_backend_"))}}))
"""

METADATA_SCAN = """
import time, json
t0 = time.perf_counter()
import importlib.metadata
eps = list(importlib.metadata.entry_points(group="disc.backends"))
print(json.dumps({"first_call": 1e3 * (time.perf_counter() - t0), "imported": []}))
"""


def fresh(
    code: str, env: dict[str, str], cwd: str, runs: int = PROCESS_RUNS
) -> tuple[float, list[str]]:
    best, imported = float("inf"), []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            check=True,
        )
        data = json.loads(result.stdout)
        best, imported = min(best, data["first_call"]), data["imported"]
    return best, imported


def bench_discovery(base_env: dict[str, str]) -> float:
    """Return the warm first call with 100 backends among 500 unrelated distributions (ms)."""
    print(
        "\nfirst backend call in a fresh process (ms, best of 5): discovery, trust, import of"
        "\nthe selected backend, plan; 'cold' has an empty cache, 'warm' a filled one"
    )
    header = ["backends", "unrelated", "turnout cold", "warm", "warm+inspect", "metadata scan"]
    has_scverse = import_time("scverse_backends", base_env) is not None
    if has_scverse:
        header.append("scverse-backends")
    print("  " + "".join(f"{h:>16}" for h in header))
    result = float("nan")
    for n, unrelated in ((1, 0), (1, 500), (100, 0), (100, 500)):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            site = DistributionSite(root / "site")
            for i in range(unrelated):
                site.add(
                    f"unrelated-{i}",
                    entry_points={"console_scripts": {f"t{i}": "x:main"}} if i % 3 == 0 else None,
                )
            for i in range(n):
                site.add(
                    f"disc-backend-{i}",
                    entry_points={"disc.backends": {f"b{i}": f"disc_backend_{i}:Backend"}},
                    modules={
                        f"disc_backend_{i}.py": f"class Backend:\n    name = 'b{i}'\n    def add(self, a, b):\n        return a + b\n"
                    },
                )
            cwd = root / "cwd"
            cwd.mkdir()
            env = {
                **base_env,
                "PYTHONPATH": str(site.root),
                "TURNOUT_CACHE_DIR": str(root / "cache"),
            }
            pick = n // 2
            code = FIRST_CALL.format(preload="", package="turnout", n=n, pick=pick)
            cold, imported = fresh(code, env, str(cwd), runs=1)
            assert imported == [f"disc_backend_{pick}"], imported  # only the selected backend
            warm, _ = fresh(code, env, str(cwd))
            result = warm
            preload = FIRST_CALL.format(preload="import inspect", package="turnout", n=n, pick=pick)
            warm_inspect, _ = fresh(preload, env, str(cwd))
            scan, _ = fresh(METADATA_SCAN, env, str(cwd))
            cells = [
                n,
                unrelated,
                f"{cold:.1f}",
                f"{warm:.1f}",
                f"{warm_inspect:.1f}",
                f"{scan:.1f}",
            ]
            if has_scverse:
                code = FIRST_CALL.format(preload="", package="scverse_backends", n=n, pick=pick)
                cells.append(f"{fresh(code, env, str(cwd))[0]:.1f}")
            print("  " + "".join(f"{c:>16}" for c in cells))
    print(
        "  'metadata scan' is a fresh process importing importlib.metadata and reading the group;"
        "\n  'warm+inspect' imports inspect first, as any real host already has."
    )
    return result


def load() -> str:
    try:
        return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except (AttributeError, OSError):
        return "load average unknown"


def targets(
    scenario: dict[str, float],
    kinds: float,
    typed: float,
    *,
    decorate: float,
    first: float,
    imported: float | None,
) -> None:
    """Print each target with its figure from this run."""
    default = scenario["default path"]
    rows = [
        (
            "backend path with a backend-only keyword, per call",
            scenario["backend=, backend-only keyword"],
            4.0,
            "x",
        ),
        (
            "backend path with a backend-only keyword, scoped",
            scenario["scope, backend-only keyword"],
            4.0,
            "x",
        ),
        ("default path, the scenario", default, 3.3, "x"),
        (
            "default path after a trace closed (default path + 5%)",
            scenario["default path, after settings.trace() closed"],
            1.05 * default,
            "x",
        ),
        ("a can_run hook that says yes", scenario["backend=, can_run hook says yes"], 8.0, "x"),
        (
            "automatic selection on, unowned type (default path + 10%)",
            scenario["automatic selection on, a type no backend owns"],
            1.1 * default,
            "x",
        ),
        ("automatic selection by type, owned type", typed, 4.0, "x"),
        ("default path, worst parameter kind", kinds, 3.3, "x"),
        ("decorating 1,000 documented functions", decorate, 12.0, " ms"),
        ("first backend call, 100 + 500 distributions, warm", first, 8.0, " ms"),
        ("import turnout", imported if imported is not None else float("nan"), 9.0, " ms"),
    ]
    print(f"\ntargets ({load()})")
    for label, value, limit, unit in rows:
        mark = "met" if value <= limit else "MISSED"
        print(f"  {label:<58}{value:>8.2f}{unit:<3} <= {limit:g}{unit:<3} {mark}")


def main() -> None:
    print(
        f"turnout {turnout.__version__} on Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{load()}"
    )
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory() as tmp, DistributionSite(tmp) as site:
        site.add(
            "bench-backend",
            entry_points={
                "bench.backends": {
                    "bench": "bench_backend:Backend",
                    "hooked": "bench_backend:Hooked",
                },
                "sbench.backends": {"bench": "bench_backend:Backend"},
                "typed.backends": {"owner": "bench_backend:Owner"},
            },
            modules={"bench_backend.py": BACKEND_MODULE},
        )
        site.add(
            "nx-bench",
            entry_points={"networkx.backends": {"bench": "nx_bench:Interface"}},
            modules={"nx_bench.py": NX_INTERFACE},
        )
        from bench_backend import Backend  # type: ignore[import-not-found]  # noqa: PLC0415

        backend = Backend()
        own = measure(lambda: backend.add(1, 2))
        table = Table()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bench_turnout(table, backend)
            bench_scverse(table, own)
            bench_networkx(table, own)
            bench_uarray(table, own)
            scenario = bench_scenario(table, backend)
            typed = bench_types(table)
        table.print()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kinds = bench_kinds(backend)
        dispatcher = turnout.BackendDispatcher("threads.backends", "threads")
        bench_threads(dispatcher.backend_dispatch(plain_add))
    decorate = bench_decoration()
    imported = bench_import(base_env)
    first = bench_discovery(base_env)
    targets(scenario, kinds, typed, decorate=decorate, first=first, imported=imported)


if __name__ == "__main__":
    main()
