"""example-host-cupy: example_host's statistics on a CUDA GPU, through CuPy.

The ``cupy`` backend (alias ``gpu``) is example-host-numpy's backend with CuPy
as its array module: the values go to the GPU as one array, and the result
comes back as the host's Python types, agreeing with the host's within the
same tolerance (`example_host_numpy.agrees`).

CuPy is imported when turnout loads this backend, that is when a user first
selects it, never when example_host or turnout is imported. Where CuPy or a
GPU is missing, constructing the backend raises `ImportError` saying which and
what to do, and turnout takes it from there: a user who names the backend (in
a call, a scope or ``settings.backend``) gets a `turnout.BackendLoadError`
carrying that message; ``python -m turnout --host example_host`` and
``example_host.report()`` show the backend as failed, with the message; and it
is not tried again in that process. Nothing is computed on the CPU for someone
who asked for the GPU, and nothing is checked again on every call.
"""

from __future__ import annotations

from typing import Any

from example_host_numpy import NumpyBackend

__all__ = ["CupyBackend"]


class CupyBackend(NumpyBackend):
    """The backend object the ``cupy`` entry point names; constructing it needs CuPy and a GPU.

    Raises
    ------
    ImportError
        CuPy is not installed, cannot be imported, or finds no CUDA GPU.
    """

    name = "cupy"
    aliases = ("gpu",)

    def __init__(self) -> None:
        self._xp = cupy_on_a_gpu()


def cupy_on_a_gpu() -> Any:
    """Return the `cupy` module if it imports and sees a CUDA GPU; else raise `ImportError`."""
    try:
        import cupy  # noqa: PLC0415 - optional and heavy: only when the backend loads
    except ModuleNotFoundError as error:
        if error.name != "cupy":
            raise ImportError(f"CuPy is installed but cannot import {error.name!r}") from error
        raise ImportError(
            "CuPy is not installed; the 'cupy' backend needs it and a CUDA GPU: "
            "pip install cupy-cuda12x (or the cupy-cuda11x or cupy-cuda13x wheel "
            "that matches your CUDA driver), or use backend='numpy'"
        ) from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # no driver, no device: CuPy raises more than one type
        raise ImportError(_no_gpu(f"{type(error).__name__}: {error}")) from error
    if count < 1:
        raise ImportError(_no_gpu("it counts 0 devices"))
    return cupy


def _no_gpu(problem: str) -> str:
    return (
        f"CuPy finds no CUDA GPU ({problem}); the 'cupy' backend needs an NVIDIA GPU "
        "and its driver, or use backend='numpy'"
    )
