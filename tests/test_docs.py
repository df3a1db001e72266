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
    assert "example_host.mean" in api
    assert "UnknownBackendError" in api
