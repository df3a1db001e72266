"""The documentation builds with Sphinx, warnings as errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("example_host", reason="dev.py test installs the example host")
DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.docs


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("html")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tmp_path


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags out, entities as characters."""
    import html as entities  # noqa: PLC0415

    body = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.DOTALL)
    return entities.unescape(re.sub(r"<[^>]+>", "", body))


def test_docs_build_without_warnings(built):
    api = (built / "api.html").read_text(encoding="utf-8")
    assert "UnknownBackendError" in api
    mean = api[api.index('id="example_host.mean"') :]
    mean = mean[: mean.index('id="example_host.RunningStats"')]
    # the backend-only parameter, its description from the backend, and its provider
    assert '<span class="pre">exact</span>' in mean  # in the signature
    assert "<strong>exact</strong>" in mean  # in the parameter list
    assert "exactly rounded" in mean
    assert "example_accel" in mean


def test_pages_use_the_theme_and_render_directives(built):
    pages = sorted(built.glob("*.html"))
    assert len(pages) >= 9
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "furo" in html, page.name
        text = text_of(html)
        assert ".. versionadded" not in text, page.name  # rendered as "Added in version"
        assert ".. code-block" not in text, page.name
    api = text_of((built / "api.html").read_text(encoding="utf-8"))
    assert "Added in version 0.1" not in api  # the first release marks nothing as added


def section(html: str, start: str, end: str | None = None) -> str:
    """The text from the element with id `start` up to the one with id `end`."""
    first = html.rindex("<", 0, html.index(f'id="{start}"'))
    last = html.rindex("<", 0, html.index(f'id="{end}"')) if end else len(html)
    return text_of(html[first:last])


def test_api_page_signatures_enums_and_exceptions(built):
    html = (built / "api.html").read_text(encoding="utf-8")
    mean = html[html.index('id="example_host.mean"') :]
    mean = text_of(mean[: mean.index("</dt>")])
    assert (
        "backend: str | list[str] | tuple[str, ...] | None = None" in mean
    )  # the selector, from decoration on
    status = section(html, "turnout.BackendStatus").strip()
    assert status.startswith("class turnout.BackendStatus¶")  # no Enum(value, names, ...)
    for member in ("READY", "FAILED", "REJECTED", "SHADOWED", "NOT_LOADED"):
        assert f"{member}¶" in status[:2000]
    errors = section(html, "turnout.TurnoutError", "turnout.TurnoutWarning")
    assert "Return type" not in errors
    info = section(html, "turnout.BackendInfo", "turnout.Explanation")
    assert "object_ref¶" in info  # record fields are documented


def test_support_matrix_renders(built):
    html = (built / "support-matrix.html").read_text(encoding="utf-8")
    table = html[html.index("<table") : html.index("</table>")]
    assert "yes, adds <code" in table
    for name in ("example_host.mean", "RunningStats", "example_accel", "chunked"):
        assert name in text_of(table)
