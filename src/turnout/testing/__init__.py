"""Helpers for testing hosts and backends: real distributions, conformance runs, observers."""

from __future__ import annotations

from turnout._chain import Observer
from turnout.testing._check import assert_conformance, check_backend
from turnout.testing._compare import compare_results
from turnout.testing._conformance import run_conformance
from turnout.testing._finding import Finding
from turnout.testing._site import DistributionSite

__all__ = [
    "DistributionSite",
    "Finding",
    "Observer",
    "assert_conformance",
    "check_backend",
    "compare_results",
    "run_conformance",
]
Observer.__module__ = "turnout.testing"
