"""One thing `check_backend` found: a problem, or a note about what users will see."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem `check_backend` found, or one note about what users will see.

    Attributes
    ----------
    code
        What kind of finding. Problems with the backend object:
        ``invalid-name``, ``reserved-name``, ``invalid-alias``,
        ``unknown-callable``, ``not-callable``, ``cannot-construct``,
        ``cannot-serve``, ``renamed-parameter``, ``positional-order``,
        ``undocumented-parameter``, ``hook-signature``, ``metadata-attribute``.
        Problems with what users install: ``not-installed``, ``load-failed``,
        ``refused``, ``shadowed``, and in ``turnout-backend.json``
        ``metadata-invalid``, ``metadata-group``, ``metadata-key``,
        ``metadata-value``, ``metadata-mismatch``, ``metadata-functions``.
        Notes: ``untrusted``, ``no-static-metadata``.
    target
        The backend attribute, parameter, label or metadata key concerned.
    message
        What is wrong (or what users see) and what to do.
    severity
        ``"error"``: the backend does not conform, and `assert_conformance`
        fails. ``"note"``: worth knowing, not wrong (a backend the host does
        not trust works, with a warning users see once).
    """

    code: str
    target: str
    message: str
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        """Whether it makes the backend fail `assert_conformance`."""
        return self.severity == "error"

    def __str__(self) -> str:
        note = "" if self.is_error else " (note)"
        return f"[{self.code}]{note} {self.target}: {self.message}"
