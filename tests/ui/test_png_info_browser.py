"""PNG Info in the real page (headless Chromium): drop a PNG, see its parameters, Send to txt2img fills the fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from modules.generation.outputs import FileFormat, write_image
from tests.ui.test_browser import guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser

INFOTEXT = ("a lighthouse at dusk\nNegative prompt: people\nSteps: 7, Sampler: Euler, Schedule type: Karras, "
            "CFG scale: 4.5, Seed: 4242, Size: 64x128, Clip skip: 2, Hires upscaler: Latent, Version: v1.10.1")


def test_drop_a_png_on_png_info_and_send_it_to_txt2img(guarded_server, browser_page, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, _data_dir, guard = guarded_server
    page = browser_page
    source = tmp_path / "made-elsewhere.png"
    with open(source, "wb") as handle:
        write_image(Image.new("RGB", (64, 128), (30, 60, 200)), handle, INFOTEXT, FileFormat())
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)

    page.locator("#tab_png_info-button").click()
    page.locator("#pnginfo_image input[type=file]").set_input_files(str(source))
    expect(page.locator("#pnginfo_generation_info textarea")).to_have_value(INFOTEXT, timeout=20_000)
    table = page.locator("#pnginfo_html")
    for text in ("a lighthouse at dusk", "Seed", "4242", "Hires upscaler", "64x128"):
        expect(table).to_contain_text(text)

    page.locator("#pnginfo_send_txt2img").click()
    expect(page.locator("#tab_txt2img-button")).to_have_attribute("aria-selected", "true", timeout=10_000)
    expect(page.locator("#txt2img_prompt textarea")).to_have_value("a lighthouse at dusk")
    expect(page.locator("#txt2img_neg_prompt textarea")).to_have_value("people")
    expect(page.locator("#txt2img_steps input[type=number]")).to_have_value("7")
    expect(page.locator("#txt2img_height input[type=number]")).to_have_value("128")
    expect(page.locator("#txt2img_cfg_scale input[type=number]")).to_have_value("4.5")
    expect(page.locator("#txt2img_seed input")).to_have_value("4242")
    expect(page.locator("#txt2img_message")).to_contain_text("sent from PNG Info")
    assert not guard.attempts

