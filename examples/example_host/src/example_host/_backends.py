"""The host's one BackendDispatcher: a dozen lines a host writes once."""

from turnout import BackendDispatcher

_dispatcher = BackendDispatcher(
    entrypoint_group="example_host.backends",
    host_name="example_host",
    trusted_backends={
        "example_accel": {
            "aliases": ["example", "accelerated"],
            "package": "example-host-accel",
        },
        "chunked": {"aliases": ["chunks"], "package": "example-host-arrays"},
        "dask": {"aliases": ["distributed"], "package": "example-host-dask"},
        "numpy": {"aliases": ["vectorized"], "package": "example-host-numpy"},
        "cupy": {"aliases": ["gpu"], "package": "example-host-cupy"},
    },
    reserved_backends={"cuda": "reserved for the CUDA backend; use 'cupy'"},
    # A call whose first argument is of a type a trusted backend owns runs
    # there when nobody chose a backend (users switch it off with
    # settings.automatic = False or EXAMPLE_HOST_AUTOMATIC=0).
    automatic=True,
    # Backends declare the host versions they support; turnout checks them
    # against example_host.__version__ (or host_version=..., if given).
)
backend_dispatch = _dispatcher.backend_dispatch
backend_class = _dispatcher.backend_class
settings = _dispatcher.settings
get_backend = _dispatcher.get_backend
available_backend_names = _dispatcher.available_backend_names
discover = _dispatcher.discover
explain = _dispatcher.explain
report = _dispatcher.report
bind = _dispatcher.bind
