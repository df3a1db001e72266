"""Label grammar, distribution names, suggestions, environment prefixes."""

from __future__ import annotations

import pytest

from turnout._names import (
    env_prefix,
    is_under_module,
    is_valid_label,
    label_problem,
    module_of,
    normalize_distribution,
    suggest,
)


@pytest.mark.parametrize("label", ["gpu", "a", "cuda12", "my.gpu", "x_y-z", "A9_", "a" * 128])
def test_valid_labels(label):
    assert is_valid_label(label)


@pytest.mark.parametrize(
    "label",
    [
        "",
        "-gpu",
        ".gpu",
        "gpu-",
        "gpu.",
        "no space",
        "gpü",
        "ｇｐｕ",
        "a" * 129,
        None,
        3,
        b"gpu",
    ],
)
def test_invalid_labels_say_why(label):
    assert not is_valid_label(label)
    assert label_problem(label)


def test_normalize_distribution_is_pep_503():
    assert normalize_distribution("Example_Host.Accel") == "example-host-accel"
    assert normalize_distribution("a--b__c") == "a-b-c"


def test_suggest_ignores_case_and_orders_by_similarity():
    assert suggest("GPU", ["gpu", "jit"]) == ["gpu"]
    assert suggest("acel", ["accel", "example", "accelerated"]) == ["accel"]
    assert suggest("zzz", ["gpu"]) == []


def test_modules_and_prefixes():
    assert module_of("pkg.mod:Backend") == "pkg.mod"
    assert module_of("pkg.mod") == "pkg.mod"
    assert is_under_module("pkg.mod", "pkg")
    assert not is_under_module("pkgx.mod", "pkg")


def test_env_prefix():
    assert env_prefix("example_host") == "EXAMPLE_HOST"
    assert env_prefix("scikit-image") == "SCIKIT_IMAGE"
