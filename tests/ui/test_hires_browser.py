"""The Hires. fix accordion and the variation seed options in the real page (headless Chromium, tiny model):
turn the hires fix on, read the Upscaled resolution, Generate, get the upscaled PNG; ↙️ fills the fields."""

from __future__ import annotations

import re
from datetime import date

import pytest
from PIL import Image

from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser
PROMPT = "a lighthouse at dusk"


def test_hires_fix_in_the_page(guarded_server, browser_page) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, _guard = guarded_server
    page = browser_page
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)
    page.locator("#txt2img_prompt textarea").fill(PROMPT)
    for elem_id, value in (("txt2img_width", 64), ("txt2img_height", 64), ("txt2img_steps", 3)):
        _set_number(page, elem_id, value)

    page.locator("#txt2img_hr").get_by_text("Hires. fix").first.click()
    page.locator("#txt2img_enable_hr input[type=checkbox]").check()
    page.locator("#txt2img_hr_scale input[type=number]").fill("1.25")
    page.locator("#txt2img_hr_scale input[type=number]").press("Enter")
    expect(page.locator("#txt2img_hr_final_resolution")).to_contain_text("64x64 → 80x80", timeout=10_000)
    page.locator("#txt2img_generate").click()

    expect(page.locator("#txt2img_infotext textarea")).to_have_value(
        re.compile(r"Size: 64x64,.*Denoising strength: 0\.7,.*Hires upscale: 1\.25,.*Hires upscaler: Latent"),
        timeout=60_000)
    expect(page.locator("#txt2img_infotext textarea")).not_to_have_value(re.compile("Hires CFG"))  # 0: the same CFG
    pngs = sorted((data_dir / "outputs" / "txt2img-images" / date.today().isoformat()).glob("*.png"))
    assert len(pngs) == 1
    with Image.open(pngs[0]) as image:
        assert image.size == (80, 80)

    # ↙️: the hires and variation keys of an infotext fill the fields
    page.locator("#txt2img_prompt textarea").fill(
        f"{PROMPT}\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 9, Size: 64x64, Variation seed: 5, "
        "Variation seed strength: 0.1, Denoising strength: 0.3, Hires upscale: 1.5, Hires upscaler: Lanczos")
    page.locator("#txt2img_paste").click()
    expect(page.locator("#txt2img_prompt textarea")).to_have_value(PROMPT)
    expect(page.locator("#txt2img_hr_scale input[type=number]")).to_have_value("1.5")
    expect(page.locator("#txt2img_denoising_strength input[type=number]")).to_have_value("0.3")
    page.locator("#txt2img_seed_extras").get_by_text("Extra seed options").first.click()  # folded until opened
    expect(page.locator("#txt2img_subseed_strength input[type=number]")).to_have_value("0.1")
    expect(page.locator("#txt2img_subseed input")).to_have_value("5")
    expect(page.locator("#txt2img_hr_final_resolution")).to_contain_text("64x64 → 96x96")
