"""The documentation builds with Sphinx, warnings as errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("example_host", reason="dev.py test installs the example host")
DOCS = Path(__file__).resolve().parents[1] / "docs"
pytestmark = pytest.mark.docs


def test_docs_build_without_warnings(tmp_path):
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
    api = (tmp_path / "api.html").read_text(encoding="utf-8")
    assert "UnknownBackendError" in api
    mean = api[api.index('id="example_host.mean"') :]
    mean = mean[: mean.index('id="example_host.RunningStats"')]
    # the backend-only parameter, its description from the backend, and its provider
    assert '<span class="pre">exact</span>' in mean  # in the signature
    assert "<strong>exact</strong>" in mean  # in the parameter list
    assert "exactly rounded" in mean
    assert "example_accel" in mean
    assert "yes, adds <code" in api
