"""The Extras tab in the real page (headless Chromium): upload an image, pick a tiny ESRGAN model from
models/ESRGAN, scale by 2, Generate: the result is shown and saved to outputs/extras-images with its
'extras' infotext; a model file added later appears after the refresh button."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture
from tests.unit.test_upscaler_models import rrdb_state, save, srvgg_state

pytestmark = pytest.mark.browser


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The UI tests' data folder (a tiny sd1 checkpoint) plus models/ESRGAN/4x_tiny.pth."""
    from tests.tiny_models import write_tiny_checkpoint

    folder = tmp_path / "data"
    checkpoints = folder / "models" / "Stable-diffusion"
    checkpoints.mkdir(parents=True)
    write_tiny_checkpoint(checkpoints, "sd1", name="tiny-sd1")
    save(rrdb_state(), folder / "models" / "ESRGAN" / "4x_tiny.pth")
    return folder


def _choose(page, elem_id: str, option: str) -> None:  # noqa: ANN001
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_extras_upscales_and_saves_in_the_page(guarded_server, browser_page, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, _guard = guarded_server
    page = browser_page
    source = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 24, 3), dtype=np.uint8), "RGB").save(source)
    page.goto(url)
    page.locator("#tab_extras-button").click()
    page.locator("#extras_image input[type=file]").set_input_files(str(source))
    expect(page.locator("#extras_image img").first).to_be_visible(timeout=10_000)
    _choose(page, "extras_upscaler_1", "4x_tiny")
    _set_number(page, "extras_upscaling_resize", 2)
    page.locator("#extras_generate").click()
    expect(page.locator("#extras_message")).to_contain_text("1 image(s) saved", timeout=60_000)
    expect(page.locator("#extras_gallery img").first).to_be_visible(timeout=10_000)
    expect(page.locator("#extras_info textarea")).to_have_value(
        "Postprocess upscale by: 2, Postprocess upscaler: 4x_tiny")
    [png] = sorted((data_dir / "outputs" / "extras-images").glob("*.png"))
    with Image.open(png) as image:
        assert png.name == "00000.png" and image.size == (48, 64)
        assert image.text["extras"] == "Postprocess upscale by: 2, Postprocess upscaler: 4x_tiny"

    save(srvgg_state(), data_dir / "models" / "RealESRGAN" / "realesr-general-x4v3.pth", wrap="params")
    page.locator("#extras_refresh_upscalers").click()
    page.wait_for_timeout(500)
    _choose(page, "extras_upscaler_2", "R-ESRGAN General 4xV3")
    _set_number(page, "extras_upscaler_2_visibility", 1)
    page.locator("#extras_generate").click()
    expect(page.locator("#extras_info textarea")).to_have_value(
        "Postprocess upscale by: 2, Postprocess upscaler: 4x_tiny, Postprocess upscaler 2: R-ESRGAN General 4xV3",
        timeout=60_000)
    assert len(list((data_dir / "outputs" / "extras-images").glob("*.png"))) == 2
