"""What backends' turnout-backend.json says about functions, in the host's docs, without import.

Real distributions: a backend whose file gives a note (``extra_docstring``) and a
parameter (``additional_parameters``) for ``variance``. The merged docstring,
``support()`` and the Sphinx support matrix show them with ``discover(import_backends=False)``
or ``:no-import:`` while nothing is imported; once imported, the backend's code decides.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest

NOTE = "Computed in one pass over the chunks."
CHUNK_SIZE = "Elements per chunk; None keeps the input's chunks."

CHUNKED = """
class Backend:
    name = "chunked"

    def variance(self, values, chunk_size=None):
        '''Variance over chunks.

        Parameters
        ----------
        values
            The values.
        chunk_size
            Elements per chunk, from the code.
        '''
        return ("chunked", chunk_size)
"""


def variance(values):
    """Return the variance.

    Parameters
    ----------
    values
        The values.

    Returns
    -------
    float
        The variance.
    """
    return ("cpu", None)


def info(group: str) -> str:
    about = {"extra_docstring": NOTE, "additional_parameters": {"chunk_size": CHUNK_SIZE}}
    return json.dumps({group: {"name": "chunked", "functions": {"variance": about}}})


@pytest.fixture
def host(install, group, make_dispatcher):
    install(
        "host-chunked",
        {"chunked": "host_chunked:Backend"},
        {"host_chunked/__init__.py": CHUNKED, "host_chunked/turnout-backend.json": info(group)},
    )
    dispatcher = make_dispatcher(trusted_backends={"chunked": {"package": "host-chunked"}})

    return dispatcher, dispatcher.backend_dispatch(variance)


def _public(function):
    return f"{function.__module__}.{function.__qualname__}"


def test_discover_without_import_shows_the_files_note_and_parameter(host, install):
    dispatcher, variance = host
    assert NOTE not in (variance.__doc__ or "")  # nothing is read before it is asked for
    dispatcher.discover(import_backends=False)
    doc = inspect.cleandoc(variance.__doc__)  # 3.13 strips the indentation of docstrings itself
    assert install.imported() == []
    assert f"Backend ``chunked``\n    {NOTE}" in doc
    other = doc[doc.index("Other Parameters") : doc.index("Returns")]
    assert f"chunk_size\n    {CHUNK_SIZE}\n    Only for backend ``chunked``.\n" in other
    assert "chunk_size" not in str(inspect.signature(variance))  # no default known
    assert dispatcher.support(load=False) == {_public(variance): {"chunked": ("chunk_size",)}}
    assert install.imported() == []


def test_once_imported_the_code_decides_and_the_note_stays(host, install):
    _, variance = host
    assert variance([1.0], backend="chunked", chunk_size=4) == ("chunked", 4)
    assert install.imported() == ["host_chunked"]
    doc = inspect.cleandoc(variance.__doc__)
    assert f"Backend ``chunked``\n    {NOTE}" in doc  # the file's note, loaded or not
    assert "Elements per chunk, from the code." in doc  # the code's numpydoc wins
    assert CHUNK_SIZE not in doc
    assert "chunk_size=" in str(inspect.signature(variance))


HOST_MODULE = """
import turnout

dispatcher = turnout.BackendDispatcher(
    {group!r}, "docshost", trusted_backends={{"chunked": {{"package": "host-chunked"}}}}
)


@dispatcher.backend_dispatch
def variance(values):
    '''Return the variance.'''
    return sum(values)
"""

PAGE = """
Support
=======

.. turnout-support-matrix:: docshost
   :no-import:
"""


def test_the_sphinx_support_matrix_without_import(install, group, site, tmp_path):
    pytest.importorskip("sphinx")
    from tests.test_docs import text_of  # noqa: PLC0415 - the page's visible text

    # the backend's module cannot even be imported on this machine: the file stands for it
    broken = "raise ImportError('no GPU here')\n"
    install(
        "host-chunked",
        {"chunked": "host_chunked:Backend"},
        {"host_chunked/__init__.py": broken, "host_chunked/turnout-backend.json": info(group)},
    )
    site.add("docs-host", modules={"docshost.py": HOST_MODULE.format(group=group)})
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "conf.py").write_text('project = "t"\nextensions = ["turnout.sphinxext"]\n')
    (docs / "index.rst").write_text(PAGE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site.root), *sys.path])}
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(docs), str(tmp_path / "h")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert built.returncode == 0, built.stderr
    page = " ".join(text_of((tmp_path / "h" / "index.html").read_text()).split())
    assert f"docshost.variance yes, adds chunk_size {NOTE}" in page
    assert install.imported() == []
