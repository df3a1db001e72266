"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import string

from hypothesis import strategies as st

LABEL_CHARS = string.ascii_letters + string.digits + "._-"

valid_labels = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9_])?", fullmatch=True)
any_labels = st.one_of(valid_labels, st.text(max_size=12), st.none(), st.integers())
