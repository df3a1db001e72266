"""Checked by mypy, never run: the decorators keep the host's types."""

from __future__ import annotations

from typing_extensions import assert_type

from turnout import BackendDispatcher, Settings

dispatcher = BackendDispatcher("example_host.backends", "example_host")


@dispatcher.backend_dispatch
def score(values: list[float], *, scale: float = 1.0) -> float:
    return sum(values) * scale


@dispatcher.backend_dispatch(dispatch_args=("data",), convert=("data",))
def fit(data: list[float], *, steps: int = 1) -> dict[str, float]:
    return {"steps": float(steps), "size": float(len(data))}


@dispatcher.backend_dispatch
async def fetch(url: str, retries: int = 0) -> bytes:
    return url.encode() * (retries + 1)


@dispatcher.backend_dispatch(dispatch_args=("url",))
async def fetch_with(url: str, *, retries: int = 0) -> bytes:
    return url.encode() * (retries + 1)


backend_dispatch = dispatcher.backend_dispatch  # as a host re-exports it


@backend_dispatch()
def plain(x: int) -> int:
    return x


@backend_dispatch(convert=["data"])
async def plain_async(data: tuple[int, ...]) -> int:
    return len(data)


@dispatcher.backend_class
class Model:
    def __init__(self, size: int) -> None:
        self.size = size


assert_type(score([1.0], scale=2.0), float)
assert_type(Model(3), Model)
assert_type(fit([1.0], steps=2), dict[str, float])
assert_type(plain(1), int)


async def awaited() -> None:
    assert_type(await fetch("u", 2), bytes)
    assert_type(await fetch_with("u", retries=1), bytes)
    assert_type(await plain_async((1, 2)), int)


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
fit("not a list")  # type: ignore[arg-type]
fit([1.0], step=2)  # type: ignore[call-arg]
plain("1")  # type: ignore[arg-type]
dispatcher.backend_dispatch(3)  # type: ignore[call-overload]
dispatcher.backend_dispatch(dispatch_args=("data",), convert=1)  # type: ignore[call-overload]
