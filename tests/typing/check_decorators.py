"""Checked by mypy, never run: the decorators keep the host's types."""

from __future__ import annotations

from typing_extensions import assert_type

from turnout import BackendDispatcher, Settings

dispatcher = BackendDispatcher("example_host.backends", "example_host")


@dispatcher.backend_dispatch
def score(values: list[float], *, scale: float = 1.0) -> float:
    return sum(values) * scale


@dispatcher.backend_class
class Model:
    def __init__(self, size: int) -> None:
        self.size = size


assert_type(score([1.0], scale=2.0), float)
assert_type(Model(3), Model)
assert_type(dispatcher.settings, Settings)
assert_type(dispatcher.settings.backend, str | list[str])
assert_type(dispatcher.available_backend_names(), list[str])
with dispatcher.settings.use_backend("cpu") as name:
    assert_type(name, str | list[str])
with dispatcher.settings.use_fallback("warn") as policy:
    assert_type(policy, str)
with dispatcher.settings.use_automatic(False) as on:
    assert_type(on, bool)
dispatcher.settings.backend = ["cpu"]
score("not a list")  # type: ignore[arg-type]
