"""Width and height follow a checkpoint's declared resolution (modelspec.resolution), unless the user
changed them: handler logic, and the real page in headless Chromium with a model that says 64x64."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modules.ui.native_size import follow
from tests.tiny_models import declare_size


def test_fields_the_page_set_move_and_fields_the_user_set_stay() -> None:
    default = (512, 512)
    updates, now = follow([512, 512, 512, 512], None, (64, 64), default)
    assert updates == [64, 64, 64, 64] and now == [64, 64, 64, 64]
    updates, now = follow([64, 200, 512, 64], now, (512, 512), default)  # user set txt2img height, img2img width
    assert updates == [512, None, None, 512]
    assert follow([512, 512], None, (512, 512), default)[0] == [None, None]  # nothing to do


@pytest.mark.parametrize(("text", "expected"), [("64x64", (64, 64)), ("768 x 512", (768, 512)), ("", None),
                                                ("huge", None), ("100000x64", None), ("63x64", None)])
def test_declared_size_is_read_from_the_metadata(text: str, expected: tuple[int, int] | None) -> None:
    from modules.model_manager.loaded_model import LoadedModel

    model = LoadedModel.__new__(LoadedModel)
    model.extra = {"metadata": {"modelspec.resolution": text}}
    assert model.declared_size == expected


def test_the_page_uses_the_models_own_size(browser_page, tmp_path: Path) -> None:  # noqa: ANN001
    from playwright.sync_api import expect

    from tests.api.helpers import make_data_dir, running_server

    data = make_data_dir(tmp_path, ("small-model",))
    declare_size(data / "models" / "Stable-diffusion" / "small-model.safetensors", "64x64")
    with running_server(data) as served:
        page = browser_page
        page.goto(served.url)
        expect(page.locator("#sd_model_status")).to_contain_text("Loaded small-model", timeout=60_000)
        for elem_id in ("txt2img_width", "txt2img_height"):
            expect(page.locator(f"#{elem_id} input[type=number]")).to_have_value("64", timeout=20_000)
        page.locator("#tabs button[role=tab]", has_text="img2img").first.click()
        for elem_id in ("img2img_width", "img2img_height"):
            expect(page.locator(f"#{elem_id} input[type=number]")).to_have_value("64", timeout=20_000)
        page.reload()  # a page opened after the model loaded gets the size too
        expect(page.locator("#setting_sd_model_checkpoint input")).to_have_value(re.compile("^small-model"))
        expect(page.locator("#txt2img_width input[type=number]")).to_have_value("64", timeout=20_000)
