"""Helpers for testing hosts and backends: real distributions, conformance runs."""

from __future__ import annotations

from turnout.testing._check import Finding, assert_conformance, check_backend
from turnout.testing._conformance import run_conformance
from turnout.testing._site import DistributionSite

__all__ = ["DistributionSite", "Finding", "assert_conformance", "check_backend", "run_conformance"]
