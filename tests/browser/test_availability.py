"""Without chromium the browser tests skip locally, and fail in CI (CI=true)."""

import pytest

from tests.browser.conftest import _unavailable


def test_a_missing_browser_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI: no chromium"):
        _unavailable("no chromium")


def test_a_missing_browser_skips_locally_with_the_reason(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        _unavailable("no chromium")
