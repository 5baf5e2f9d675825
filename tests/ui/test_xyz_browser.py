"""The X/Y/Z plot in the real page (headless Chromium): choose it, set a 2x2 plot with its axis controls,
Generate; the grid comes first in the gallery, then the cells; clicking a cell shows that cell's own
infotext."""

from __future__ import annotations

import re

import pytest

from tests.ui.test_browser import _set_number, guarded_server  # noqa: F401 - the served app fixture

pytestmark = pytest.mark.browser
ID = "txt2img_script_x_y_z_plot"


def _choose(page, elem_id: str, option: str) -> None:  # noqa: ANN001
    """Pick option in the dropdown elem_id (its own list: another dropdown's may still be closing)."""
    page.locator(f"#{elem_id} input").click()
    page.locator(f"#{elem_id}").get_by_role("option", name=option, exact=True).click()


def test_build_a_2x2_plot_and_open_one_cell(guarded_server, browser_page) -> None:  # noqa: ANN001, F811
    from playwright.sync_api import expect

    url, data_dir, guard = guarded_server
    page = browser_page
    page.goto(url)
    expect(page.locator("#sd_model_status")).to_contain_text("Loaded tiny-sd1", timeout=60_000)
    _choose(page, "txt2img_script", "X/Y/Z plot")
    expect(page.locator(f"#{ID}_x_type")).to_be_visible(timeout=10_000)
    page.locator("#txt2img_prompt textarea").fill("a cat")
    _set_number(page, "txt2img_width", 64)
    _set_number(page, "txt2img_height", 64)
    _set_number(page, "txt2img_steps", 2)
    page.locator("#txt2img_seed input").fill("21")
    _choose(page, f"{ID}_x_type", "CFG Scale")
    page.locator(f"#{ID}_x_values textarea").fill("3, 7")
    _choose(page, f"{ID}_y_type", "Sampler")  # a choice axis: the multi-select and its 📒 fill button
    expect(page.locator(f"#{ID}_y_values_dropdown")).to_be_visible(timeout=10_000)
    expect(page.locator(f"#{ID}_y_values textarea")).to_be_hidden()
    _choose(page, f"{ID}_y_values_dropdown", "Euler")
    _choose(page, f"{ID}_y_values_dropdown", "Euler a")
    page.locator("#txt2img_generate").click()
    expect(page.locator("#txt2img_message")).to_contain_text("X/Y/Z plot: 4 cell(s) on 1 grid(s)", timeout=90_000)
    infotext = page.locator("#txt2img_infotext textarea")
    expect(infotext).to_have_value(re.compile(r"Script: X/Y/Z plot, X Type: CFG Scale, X Values: \"3, 7\", "
                                              r"Y Type: Sampler, Y Values: \"Euler,Euler a\""))
    thumbnails = page.locator("#txt2img_gallery .thumbnail-item")
    expect(thumbnails).to_have_count(5, timeout=10_000)
    thumbnails.nth(4).click()  # the last cell: CFG 7, Euler a
    expect(infotext).to_have_value(re.compile(r"Sampler: Euler a, .*CFG scale: 7, Seed: 21"))
    expect(infotext).not_to_have_value(re.compile("X/Y/Z"))
    grids = list((data_dir / "outputs" / "txt2img-grids").rglob("xyz_grid-0000-21.*"))
    assert sorted(p.suffix for p in grids) == [".csv", ".json", ".png"]
    assert not guard.attempts
