"""The selector keyword has one type: in the signature, the annotations, ``help()`` and the stubs."""

from __future__ import annotations

import inspect
import pydoc
import typing
from collections.abc import Sequence

import pytest

from turnout._stubs import SELECTOR_TYPE

SELECTOR = str | list[str] | tuple[str, ...] | None

HOST = '''
from __future__ import annotations

from collections.abc import Sequence

from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "typedhost")


@dispatcher.backend_dispatch
def numpy_style(values: Sequence[float], ddof: int = 0) -> float:
    """Return the variance.

    Parameters
    ----------
    values : sequence of float
        The numbers.
    ddof : int, optional
        Delta degrees of freedom.

    Returns
    -------
    float
        Their variance.
    """
    return 0.0


@dispatcher.backend_dispatch
def scanpy_style(values: Sequence[float]) -> float:
    """Return the mean.

    Parameters
    ----------
    values
        The numbers.
    """
    return 0.0


@dispatcher.backend_dispatch
def undocumented(values: Sequence[float]) -> float:
    return 0.0


@dispatcher.backend_dispatch
async def fetch(url: str) -> bytes:
    """Fetch.

    Parameters
    ----------
    url : str
        Where from.
    """
    return b""


@dispatcher.backend_class
class Model:
    """A model.

    Parameters
    ----------
    size : int
        Its size.
    """

    def __init__(self, size: int) -> None:
        self.size = size
'''


@pytest.fixture
def host(site, group):
    site.add("typedhost", modules={"typedhost.py": HOST.format(group=group)})
    import typedhost  # noqa: PLC0415

    return typedhost


def test_the_runtime_type_is_the_stubs_type():
    assert inspect.formatannotation(SELECTOR) == SELECTOR_TYPE


def test_the_signature_says_it(host):
    for target in (host.numpy_style, host.scanpy_style, host.undocumented, host.fetch, host.Model):
        parameter = inspect.signature(target).parameters["backend"]
        assert parameter.annotation == SELECTOR, target
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default is None
        assert f"backend: {SELECTOR_TYPE} = None" in str(inspect.signature(target))


def test_get_type_hints_includes_it_and_the_host_function_keeps_its_own(host):
    expected = {"values": Sequence[float], "ddof": int, "backend": SELECTOR, "return": float}
    hints = typing.get_type_hints(host.numpy_style)
    assert hints == expected
    assert list(hints) == list(expected)  # the selector after the parameters, as in the signature
    assert typing.get_type_hints(host.fetch) == {"url": str, "backend": SELECTOR, "return": bytes}
    assert "backend" not in inspect.unwrap(host.numpy_style).__annotations__
    host.dispatcher.discover()  # merging what backends add changes nothing here
    assert typing.get_type_hints(host.numpy_style) == expected


def lines_of(target):
    return inspect.getdoc(target).splitlines()


def test_numpy_style_docstrings_give_its_type(host):
    for target in (host.numpy_style, host.fetch, host.Model):
        lines = lines_of(target)
        assert f"backend : {SELECTOR_TYPE}" in lines, target
        assert "backend" not in lines
    shown = pydoc.render_doc(host.numpy_style, renderer=pydoc.plaintext)
    assert f"backend: {SELECTOR_TYPE} = None" in shown  # the signature line
    assert f"    backend : {SELECTOR_TYPE}\n" in shown  # the Parameters entry
    host.dispatcher.discover()  # merged again: still one entry
    lines = lines_of(host.numpy_style)
    assert [line for line in lines if line.startswith("backend")] == [f"backend : {SELECTOR_TYPE}"]
    assert lines.index(f"backend : {SELECTOR_TYPE}") < lines.index("Returns")


def test_scanpy_style_and_undocumented_functions_keep_names_alone(host):
    for target in (host.scanpy_style, host.undocumented):
        lines = lines_of(target)
        assert "backend" in lines, target
        assert not [line for line in lines if line.startswith("backend :")]
