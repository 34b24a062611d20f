"""Browser tests: headless Chromium (installed on first use by harness.ensure_browser)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium")
