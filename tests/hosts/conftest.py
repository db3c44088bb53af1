"""Under CI (CI=true) or REDANCE_TEST_STRICT=1 a skipped host test is a failure: a missing Ardour, a
missing bundle or a failed pedalboard import must not pass as "nothing wrong"."""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("CI") == "true" or os.environ.get("REDANCE_TEST_STRICT") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, and a skip is a failure under CI / REDANCE_TEST_STRICT=1: {reason}"
