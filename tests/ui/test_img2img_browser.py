"""The img2img tab in the real page (headless Chromium): upload an image, Generate, see the result and the PNG;
then paint a mask with the brush in the Inpaint sub-tab and inpaint; then txt2img's Send to img2img."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modules.messages import msg
from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser



def _small_settings(page) -> None:  # noqa: ANN001
    for elem_id, value in (("img2img_width", 64), ("img2img_height", 64), ("img2img_steps", 3)):
        _set_number(page, elem_id, value)


def test_img2img_and_inpaint_in_the_page(guarded_server, browser_page, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, guard = guarded_server
    page = browser_page
    source = tmp_path / "photo.png"
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(source)
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)

    page.locator("#tab_img2img-button").click()
    # buttons that appear when the tab is first shown get their hover text too (javascript/hints.js)
    expect(page.locator("#img2img_reuse_seed")).to_have_attribute("title", msg("hint_reuse_seed"))
    page.locator("#img2img_prompt textarea").fill("a castle in fog")
    page.locator("#img2img_image input[type=file]").set_input_files(str(source))
    expect(page.locator("#img2img_image img").first).to_be_visible(timeout=10_000)
    _small_settings(page)
    page.locator("#img2img_generate").click()
    expect(page.locator("#img2img_gallery img").first).to_be_visible(timeout=60_000)
    expect(page.locator("#img2img_message")).to_contain_text("Saved 1 image(s)", timeout=10_000)
    expect(page.locator("#img2img_infotext textarea")).to_have_value(
        re.compile("Denoising strength: 0.75"), timeout=10_000)
    folder = data_dir / "outputs" / "img2img-images" / date.today().isoformat()
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 1
    with Image.open(pngs[0]) as image:
        assert image.size == (64, 64) and "Denoising strength: 0.75" in image.text["parameters"]
        assert "Mask blur" not in image.text["parameters"]

    # Inpaint: no mask painted yet → a message; paint the left part with the brush → inpainted
    page.locator("#img2img_inpaint_tab-button").click()
    expect(page.locator("#img2img_mask_blur")).to_be_visible()
    page.locator("#img2maskimg input[type=file]").set_input_files(str(source))
    canvas = page.locator("#img2maskimg canvas").first
    expect(canvas).to_be_visible(timeout=10_000)
    page.locator("#img2img_generate").click()
    expect(page.locator("#img2img_message")).to_contain_text("the mask is empty", timeout=20_000)

    box = canvas.bounding_box()
    assert box is not None
    page.locator("#img2maskimg button[aria-label='Brush']").first.click()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * (0.2 + step * 0.06), steps=3)
    page.mouse.up()
    page.locator("#img2img_generate").click()
    expect(page.locator("#img2img_message")).to_contain_text("Saved 1 image(s)", timeout=60_000)
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 2
    with Image.open(pngs[1]) as image:
        assert "Mask blur: 4" in image.text["parameters"], "the painted mask reached the generation"
        result = np.asarray(image.convert("RGB"))
    assert np.array_equal(result[:, 56:], pixels[:, 56:]), "pixels far from the stroke stay as uploaded"
    assert not np.array_equal(result, pixels)

    # txt2img → 🖼️ Send to img2img: the page switches to img2img with the image and the prompt
    page.locator("#tab_txt2img-button").click()
    page.locator("#txt2img_prompt textarea").fill("a red boat")
    for elem_id, value in (("txt2img_width", 64), ("txt2img_height", 64), ("txt2img_steps", 3)):
        _set_number(page, elem_id, value)
    page.locator("#txt2img_generate").click()
    expect(page.locator("#txt2img_message")).to_contain_text("Saved 1 image(s)", timeout=60_000)
    page.locator("#txt2img_send_to_img2img").click()
    expect(page.locator("#img2img_prompt textarea")).to_have_value("a red boat", timeout=10_000)
    expect(page.locator("#img2img_image img").first).to_be_visible()
    expect(page.locator("#img2img_img2img_tab-button")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#img2img_mask_blur")).to_be_hidden()
    assert not guard.attempts
