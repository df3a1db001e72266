"""The host's one BackendDispatcher: ten lines a host writes once."""

from turnout import BackendDispatcher

_dispatcher = BackendDispatcher(
    entrypoint_group="example_host.backends",
    host_name="example_host",
    trusted_backends={
        "example_accel": {
            "aliases": ["example", "accelerated"],
            "package": "example-host-accel",
        },
    },
    reserved_backends={"cuda": "reserved for the official CUDA backend; use 'example_accel'"},
)
backend_dispatch = _dispatcher.backend_dispatch
backend_class = _dispatcher.backend_class
settings = _dispatcher.settings
get_backend = _dispatcher.get_backend
available_backend_names = _dispatcher.available_backend_names
discover = _dispatcher.discover
