"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import string

from hypothesis import strategies as st

LABEL_CHARS = string.ascii_letters + string.digits + "._-"

valid_labels = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,20}[A-Za-z0-9_])?", fullmatch=True)
any_labels = st.one_of(valid_labels, st.text(max_size=12), st.none(), st.integers())

NAMES = [f"p{i}" for i in range(8)]


@st.composite
def host_signatures(draw):
    """Specs of host signatures of every parameter kind: (kind, name, has_default) tuples."""
    names = draw(st.permutations(NAMES))
    counts = [draw(st.integers(0, 2)) for _ in range(3)]
    has_varargs = draw(st.booleans())
    has_varkw = draw(st.booleans())
    spec = []
    index = 0
    defaults_started = False
    for kind, count in zip(("posonly", "poskw", "kwonly"), counts, strict=True):
        for _ in range(count):
            if kind == "kwonly":
                has_default = draw(st.booleans())
            else:
                defaults_started = defaults_started or draw(st.booleans())
                has_default = defaults_started
            spec.append((kind, names[index], has_default))
            index += 1
        if kind == "poskw" and has_varargs:
            spec.append(("varargs", "rest", False))
    if has_varkw:
        spec.append(("varkw", "options", False))
    return spec


def source_of(name, spec, body="return dict(locals())", suffix="_default"):
    """Source of a function with the given parameter spec; a default is ``name + suffix``."""
    parts = []
    saw_star = False
    posonly = [s for s in spec if s[0] == "posonly"]
    for kind, pname, has_default in spec:
        default = f"={pname!r}+{suffix!r}" if has_default else ""
        if kind == "posonly":
            parts.append(pname + default)
            if (kind, pname, has_default) == posonly[-1]:
                parts.append("/")
        elif kind == "poskw":
            parts.append(pname + default)
        elif kind == "varargs":
            parts.append(f"*{pname}")
            saw_star = True
        elif kind == "kwonly":
            if not saw_star:
                parts.append("*")
                saw_star = True
            parts.append(pname + default)
        else:
            parts.append(f"**{pname}")
    return f"def {name}({', '.join(parts)}):\n    {body}\n"


def make_function(name, spec, body="return dict(locals())", suffix="_default"):
    namespace = {}
    exec(source_of(name, spec, body, suffix), namespace)  # noqa: S102 - test-generated source
    return namespace[name]
