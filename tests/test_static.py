"""Static metadata (``turnout-backend.json``): forward-compatible, fail-safe, read without import."""

from __future__ import annotations

import json
import logging
import pathlib

import pytest

from turnout import BackendRefusedError, EntryPointRejectedWarning
from turnout._static import SCHEMA, StaticInfo, parse_info, version_problem

EXAMPLE = pathlib.Path(__file__).parent / "static_metadata" / "turnout-backend.json"
GROUP = "example_host.backends"

BACKEND = """
class Backend:
    name = {name!r}

    def total(self, values):
        return ({name!r}, sum(values))
"""


def install_backend(install, name, declared):
    install(
        f"pkg-{name}",
        {name: f"mod_{name}:Backend"},
        {
            f"mod_{name}/__init__.py": BACKEND.format(name=name),
            f"mod_{name}/turnout-backend.json": json.dumps({install.group: declared}),
        },
    )


def parse(entry, *, group=GROUP, **top):
    return parse_info(json.dumps({**top, group: entry}).encode(), group, "test.json")


def ignored(caplog):
    return [m for m in caplog.messages if "ignoring" in m]


@pytest.mark.parametrize(
    "host_versions",
    [">=5", 5, [">=5"], {"min": "5"}, True, ">=five"],
    ids=["newer", "a-number", "a-list", "an-object", "a-boolean", "not-a-specifier"],
)
def test_a_backend_for_newer_hosts_is_refused_whatever_else_it_declares(
    install, make_dispatcher, host_versions
):
    install_backend(
        install,
        "fast",
        {
            "host_versions": host_versions,
            "url": "https://example.invalid/fast",  # a key this turnout knows
            "sponsor": "a key a later turnout may know",
            "priority": "high",  # a known key of the wrong kind: ignored alone
        },
    )
    dispatcher = make_dispatcher(
        trusted_backends={"fast": {"package": "pkg-fast"}}, host_version="1.0"
    )
    with pytest.warns(EntryPointRejectedWarning, match="host_versions|supports testhost >=5"):
        with pytest.raises(BackendRefusedError):
            dispatcher.settings.backend = "fast"
    assert install.imported() == []


def test_unknown_keys_are_ignored_and_said_at_debug(caplog):
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse({"name": "fast", "future_key": {"any": "thing"}, "priority": 3})
    assert (info.name, info.priority) == ("fast", 3)
    assert ignored(caplog) == [
        "turnout: test.json for example_host.backends: ignoring unknown key 'future_key'"
    ]


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("name", "not a label!"),
        ("aliases", ["ok", 3]),
        ("functions", "mean"),
        ("functions", ["mean", "not a name"]),
        ("types", ["no-colon"]),
        ("secondary_types", "numpy:ndarray"),
        ("priority", 1.5),
        ("priority", True),
        ("default_config", [1, 2]),
        ("url", "javascript:alert(1)"),
        ("url", "https://example.invalid/a b"),
        ("short_summary", "two\nlines"),
        ("short_summary", "x" * 201),
    ],
)
def test_a_known_key_of_the_wrong_kind_is_ignored_alone(caplog, key, bad):
    good = {"name": "fast", "types": ["array_library:Chunked"], "priority": 7}
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse({**good, key: bad})
    assert len(ignored(caplog)) == 1
    assert repr(key) in ignored(caplog)[0]
    for other, value in good.items():
        expected = tuple(value) if isinstance(value, list) else value
        if other != key:
            assert getattr(info, other) == expected
        else:
            assert getattr(info, other) == {"name": None, "types": (), "priority": 0}[key]


@pytest.mark.parametrize("bad", ["yes", 1, [True]])
def test_a_malformed_opt_in_counts_as_required(bad):
    assert parse({"requires_opt_in": bad}).requires_opt_in is True
    assert parse({"requires_opt_in": False}).requires_opt_in is False


@pytest.mark.parametrize("bad", [5, [">=5"], False])
def test_a_malformed_host_versions_is_a_refusal(bad):
    info = parse({"host_versions": bad})
    problem = version_problem(info.host_versions, "1.0", "host")
    assert problem is not None
    assert "not a version specifier" in problem


def test_null_means_absent():
    info = parse({"host_versions": None, "requires_opt_in": None, "name": None})
    assert (info.host_versions, info.requires_opt_in, info.name) == (None, False, None)


@pytest.mark.parametrize("version", [1, 2, 99])
def test_a_later_schema_is_read_for_the_keys_this_turnout_knows(caplog, version):
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse(
            {"name": "fast", "priority": 2, "later": {"nested": [1]}},
            **{"turnout-backend": version},
        )
    assert (info.name, info.priority) == ("fast", 2)
    newer = [m for m in caplog.messages if "newer" in m]
    assert bool(newer) is (version > SCHEMA)


@pytest.mark.parametrize("version", ["1", 0, -3, 1.5, True, None, [1]])
def test_a_schema_that_is_no_version_is_read_as_the_current_one(caplog, version):
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse({"name": "fast"}, **{"turnout-backend": version})
    assert info.name == "fast"
    assert any("is not a schema version" in m for m in caplog.messages)


def test_the_documented_example_sets_every_key(caplog):
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse_info(EXAMPLE.read_bytes(), GROUP, str(EXAMPLE))
    assert caplog.messages == []
    assert info.name == "chunked"
    assert info.aliases == ("chunks",)
    assert info.functions == ("mean", "variance", "moving_average")
    variance = info.function_info["variance"]
    assert variance.extra_docstring == "Computed in one pass over the chunks."
    assert variance.additional_parameters == {
        "chunk_size": "Elements per chunk; None keeps the input's chunks."
    }
    assert info.function_info["mean"].extra_docstring is None
    assert info.types == ("example_host_arrays:ChunkedArray",)
    assert info.secondary_types == ("builtins:list",)
    assert info.host_versions == ">=0.1,<1"
    assert (info.priority, info.requires_opt_in) == (10, False)
    assert info.default_config == {"chunk_size": 4096}
    assert info.url == "https://example.invalid/example-host-arrays"
    assert info.short_summary == "Chunk-wise implementations for arrays larger than memory."
    declared = set(json.loads(EXAMPLE.read_text())[GROUP])
    assert declared == {*StaticInfo.__slots__} - {"source", "function_info"}


def test_functions_as_a_list_still_names_them():
    info = parse({"functions": ["mean", "variance"]})
    assert info.functions == ("mean", "variance")
    assert info.function_info == {}


def test_a_bad_detail_of_one_function_is_dropped_alone(caplog):
    functions = {
        "mean": {"extra_docstring": 3, "additional_parameters": {"axis": "Which axis."}},
        "variance": {"additional_parameters": {"not a name": "x"}, "since": "2.0"},
        "median": None,
        "mode": "not an object",
    }
    with caplog.at_level(logging.DEBUG, logger="turnout"):
        info = parse({"functions": functions})
    assert info.functions == ("mean", "variance", "median", "mode")
    mean = info.function_info["mean"]
    assert (mean.extra_docstring, mean.additional_parameters) == (None, {"axis": "Which axis."})
    assert info.function_info["variance"].additional_parameters == {}
    assert len(ignored(caplog)) == 4


def test_support_from_functions_as_an_object_imports_nothing(install, make_dispatcher):
    install_backend(
        install,
        "fast",
        {"functions": {"total": {"extra_docstring": "Fast."}}, "turnout-later": True},
    )
    dispatcher = make_dispatcher(trusted_backends={"fast": {"package": "pkg-fast"}})

    @dispatcher.backend_dispatch
    def total(values):
        return ("cpu", sum(values))

    name = f"{total.__module__}.{total.__qualname__}"
    assert dispatcher.support(load=False)[name] == {"fast": ()}
    assert install.imported() == []


@pytest.mark.parametrize(
    "blob",
    [b"", b"[]", b"{", b"\xff", b'{"example_host.backends": 3}', b"{}", b" " * (1 << 20) + b"{}"],
)
def test_a_file_without_an_object_for_the_group_declares_nothing(blob):
    assert parse_info(blob, GROUP, "test.json") is None


def test_static_info_of_a_loaded_backend_reads_the_same_keys():
    class Backend:
        def __init__(self):
            self.default_config = {"chunk_size": 8}

        types = ("array_library:Chunked",)
        secondary_types = frozenset({"builtins:list", "builtins:tuple"})
        host_versions = ">=1"
        priority = 4
        requires_opt_in = True
        url = "https://example.invalid/b"
        short_summary = "A backend."

    info = StaticInfo.of(Backend(), source="attributes")
    assert info.types == ("array_library:Chunked",)
    assert info.secondary_types == ("builtins:list", "builtins:tuple")
    assert (info.host_versions, info.priority, info.requires_opt_in) == (">=1", 4, True)
    assert info.default_config == {"chunk_size": 8}
    assert (info.url, info.short_summary, info.source) == (
        "https://example.invalid/b",
        "A backend.",
        "attributes",
    )


def test_a_backend_that_answers_every_attribute_declares_nothing():
    class Proxy:
        def __getattr__(self, name):
            return lambda *args: None

    info = StaticInfo.of(Proxy())
    assert (info.types, info.host_versions, info.priority, info.requires_opt_in) == (
        (),
        None,
        0,
        False,
    )
    assert (info.default_config, info.url, info.short_summary) == (None, None, None)
