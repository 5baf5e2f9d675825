"""The Script dropdown in the real page (headless Chromium): choose Prompts from file or textbox, its
controls appear, Generate draws one image per line."""

from __future__ import annotations

import re
from datetime import date

import pytest

from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser
SLUG = "prompts_from_file_or_textbox"


def test_choose_a_script_and_generate(guarded_server, browser_page) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, guard = guarded_server
    page = browser_page
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)
    lines = page.locator(f"#txt2img_script_{SLUG}_3 textarea")
    expect(lines).to_be_hidden()
    page.locator("#txt2img_script input").click()
    page.get_by_role("option", name="Prompts from file or textbox").click()
    expect(lines).to_be_visible(timeout=10_000)
    page.locator("#txt2img_prompt textarea").fill("photo")
    _set_number(page, "txt2img_width", 64)
    _set_number(page, "txt2img_height", 64)
    _set_number(page, "txt2img_steps", 2)
    page.locator(f"#txt2img_script_{SLUG}_0 input[type=checkbox]").check()  # Iterate seed every line
    page.locator("#txt2img_seed input").fill("40")
    lines.fill("a cat\n--prompt a dog --steps 3")
    page.locator("#txt2img_generate").click()
    expect(page.locator("#txt2img_message")).to_contain_text("Saved 2 image(s)", timeout=60_000)
    expect(page.locator("#txt2img_infotext textarea")).to_have_value(re.compile(r"^a cat photo\n"))
    folder = data_dir / "outputs" / "txt2img-images" / date.today().isoformat()
    infos = [parse_infotext(read_png_infotext(p) or "") for p in sorted(folder.glob("*.png"))]
    assert [(i["Prompt"], i["Steps"], i["Seed"]) for i in infos] == [("a cat photo", "2", "40"),
                                                                      ("a dog photo", "3", "41")]
    assert not guard.attempts
