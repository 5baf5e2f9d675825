"""img2img's new sub-tabs in the real page (headless Chromium): Sketch with the colour brush, and Batch from a
folder with Resize by."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modules.generation.outputs import read_png_infotext
from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser


def test_img2img_batch_from_a_folder_with_resize_by(guarded_server, browser_page, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, _data_dir, guard = guarded_server
    page = browser_page
    inputs, outputs = tmp_path / "batch-in", tmp_path / "batch-out"
    inputs.mkdir()
    pixels = np.random.default_rng(1).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").save(inputs / "wide.png")
    (inputs / "junk.jpg").write_text("not a picture")
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)

    page.locator("#tab_img2img-button").click()
    page.locator("#img2img_batch_tab-button").click()
    expect(page.locator("#img2img_mask_blur")).to_be_visible()  # masks may come from a folder
    page.locator("#img2img_batch_input_dir textarea").fill(str(inputs))
    page.locator("#img2img_batch_output_dir textarea").fill(str(outputs))
    page.locator("#img2img_prompt textarea").fill("a field")
    _set_number(page, "img2img_steps", 2)
    page.locator("#img2img_tab_resize_by-button").click()
    _set_number(page, "img2img_scale", 1)
    page.locator("#img2img_generate").click()
    message = page.locator("#img2img_message")
    expect(message).to_contain_text(re.compile(r"1 image\(s\) from 2 input file\(s\)"), timeout=60_000)
    expect(message).to_contain_text("junk.jpg")
    saved = sorted(outputs.glob("*.png"))
    assert [p.name for p in saved] == ["00000-wide.png"]
    with Image.open(saved[0]) as image:
        assert image.size == (96, 64), "Resize by 1: the input's own size"
    assert read_png_infotext(saved[0]).startswith("a field\n")
    expect(page.locator("#img2img_gallery img").first).to_be_visible()
    assert not guard.attempts


def test_img2img_sketch_with_the_colour_brush(guarded_server, browser_page, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, guard = guarded_server
    page = browser_page
    source = tmp_path / "grey.png"
    Image.new("RGB", (64, 64), (128, 128, 128)).save(source)
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)

    page.locator("#tab_img2img-button").click()
    page.locator("#img2img_img2img_sketch_tab-button").click()
    expect(page.locator("#img2img_mask_blur")).to_be_hidden()
    page.locator("#img2img_sketch input[type=file]").set_input_files(str(source))
    canvas = page.locator("#img2img_sketch canvas").first
    expect(canvas).to_be_visible(timeout=10_000)
    for elem_id, value in (("img2img_width", 64), ("img2img_height", 64), ("img2img_steps", 2)):
        _set_number(page, elem_id, value)
    page.locator("#img2img_prompt textarea").fill("a black line")
    page.locator("#img2img_denoising_strength input[type=number]").fill("0.05")
    page.locator("#img2img_denoising_strength input[type=number]").press("Enter")

    box = canvas.bounding_box()
    assert box is not None
    page.locator("#img2img_sketch button[aria-label='Brush']").first.click()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    for step in (1, 2):  # few pointer events: the editor's canvas is slow in software-rendered Chromium
        page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * (0.1 + step * 0.4))
    page.mouse.up()
    message = page.locator("#img2img_message")
    for _ in range(5):
        # the editor loads the picture into its canvas in the browser; on a loaded machine a Generate pressed
        # before that finishes gets the page's "upload an image first" message: then wait and press again
        page.locator("#img2img_generate").click()
        expect(message).to_contain_text(re.compile(r"Saved 1 image\(s\)|Upload an image into the Sketch box"),
                                        timeout=60_000)
        if "Saved 1 image(s)" in message.inner_text():
            break
        page.wait_for_timeout(2_000)
    expect(message).to_contain_text("Saved 1 image(s)")
    pngs = sorted((data_dir / "outputs" / "img2img-images").rglob("*.png"))
    assert len(pngs) == 1
    with Image.open(pngs[0]) as image:
        assert "Mask blur" not in read_png_infotext(pngs[0])
        result = np.asarray(image.convert("L"), dtype=np.int16)
    # the dark stroke (a quarter of the way across) came through the composite; far from it stays grey-ish
    assert result[:, 12:20].min() < 80, "the drawn stroke is in the init image"
    assert abs(result[:, 48:].mean() - 128) < 40
    assert not guard.attempts
