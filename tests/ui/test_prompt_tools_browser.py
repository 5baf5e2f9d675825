"""Prompt tools in the real page (headless Chromium): live token counter, Ctrl+Up/Down, styles."""

from __future__ import annotations

import pytest

from tests.ui.test_browser import guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser


def test_counter_and_ctrl_up_down_in_the_page(guarded_server, browser_page) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, _, guard = guarded_server
    page = browser_page
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)
    box = page.locator("#txt2img_prompt textarea")
    box.fill("a red cat")
    expect(page.locator("#txt2img_token_counter")).to_have_text("3/75", timeout=10_000)
    box.evaluate("el => el.setSelectionRange(2, 5)")
    box.press("Control+ArrowUp")
    box.press("Control+ArrowUp")
    expect(box).to_have_value("a (red:1.2) cat")
    # the page's state has the edited text: the server copies it into the style editor
    page.locator("#txt2img_styles_edit").get_by_text("Edit styles").click()
    page.locator("#txt2img_edit_style_copy").click()
    expect(page.locator("#txt2img_edit_style_prompt textarea")).to_have_value("a (red:1.2) cat", timeout=10_000)
    expect(page.locator("#txt2img_token_counter")).to_have_text("3/75")
    box.press("Control+ArrowDown")
    box.press("Control+ArrowDown")
    expect(box).to_have_value("a red cat")
    negative = page.locator("#txt2img_neg_prompt textarea")
    negative.fill(", ".join(["word"] * 100))
    expect(page.locator("#txt2img_negative_token_counter")).to_have_text("199/225", timeout=10_000)
    assert not guard.attempts
