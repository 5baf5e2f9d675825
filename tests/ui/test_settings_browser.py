"""The Settings tab in the real page (headless Chromium): change a setting, Apply, and it is in config.json."""

from __future__ import annotations

import json

import pytest

from tests.ui.test_browser import guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser


def test_change_a_setting_and_apply(guarded_server, browser_page) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, guard = guarded_server
    page = browser_page
    page.goto(url)
    page.locator("#tabs").get_by_role("tab", name="Settings").click()
    pattern = page.locator("#setting_samples_filename_pattern textarea")
    pattern.fill("[seed]-[prompt_words]")
    page.locator("#setting_grid_save input[type=checkbox]").uncheck()
    page.locator("#settings_apply").click()
    expect(page.locator("#settings_message")).to_contain_text("Saved 2 changed setting(s)", timeout=20_000)
    saved = json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert saved["samples_filename_pattern"] == "[seed]-[prompt_words]" and saved["grid_save"] is False
    # a bad value: shown with its message, nothing saved
    page.locator("#setting_directories_filename_pattern textarea").fill("../outside")
    page.locator("#settings_apply").click()
    expect(page.locator("#settings_message")).to_contain_text("inside the output folder", timeout=20_000)
    assert "directories_filename_pattern" not in json.loads((data_dir / "config.json").read_text(encoding="utf-8"))
    assert not guard.attempts
