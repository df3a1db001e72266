"""Provider verification against a trusted backend's rule."""

from __future__ import annotations

from turnout._trust import Provider, parse_trusted


def rule_for(**info):
    problems: list[str] = []
    rules = parse_trusted({"gpu": info}, {}, problems, "h")
    assert problems == []
    return rules["gpu"]


def test_rule_keeps_host_aliases_and_install_hint():
    rule = rule_for(
        aliases=["fast", "gpu", "fast"],
        distributions=["b-dist", "a-dist"],
        package="host-gpu",
    )
    assert rule.labels == ("gpu", "fast")
    assert rule.package == "host-gpu"


def test_distribution_match_is_pep_503_normalised():
    rule = rule_for(package="Host_GPU")
    assert rule.refusal(Provider("gpu", "m:B", "host-gpu", "1")) is None
    reason = rule.refusal(Provider("gpu", "m:B", "other", "1"))
    assert reason is not None
    assert "expects distribution 'host-gpu'" in reason
    assert "uninstall other" in reason


def test_optional_checks_narrow_the_provider():
    rule = rule_for(
        package="d", entrypoints=["gpu"], object_refs=["m.sub:B"], module_prefixes=["m"]
    )
    assert rule.refusal(Provider("gpu", "m.sub : B", "d", "1")) is None
    assert "entry point name" in rule.refusal(Provider("other", "m.sub:B", "d", "1"))
    assert "object reference" in rule.refusal(Provider("gpu", "m.sub:C", "d", "1"))


def test_provider_describes_itself():
    provider = Provider("gpu", "m:B", "host-gpu", "1.2")
    assert provider.describe() == "entry point 'gpu = m:B' from host-gpu 1.2"
    assert provider.module == "m"
