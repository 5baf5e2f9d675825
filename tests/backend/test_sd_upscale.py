"""The SD upscale img2img script: upscale, redraw tile by tile with img2img, blend back; one image of the
scaled size with its own infotext keys, saved; its arguments checked before queueing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Img2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import check, submit
from modules.scripts.sd_upscale import TITLE, with_extra_infotext
from modules.scripts.select import script_run

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler", "denoising_strength": 0.3, "seed": 9}


def _request(app, args: list[Any], kind: str = "img2img", **params: Any) -> GenerationRequest:  # noqa: ANN001
    rng = np.random.default_rng(0)
    init = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    values = {**SMALL, "init_images": (init,), **params}
    return GenerationRequest(kind, Img2ImgParams(**values), explicit=frozenset(values),
                             scripts=script_run(app, kind, TITLE, args, None))


def test_sd_upscale_draws_tiles_and_blends_them(sd1_app) -> None:  # noqa: ANN001
    request = _request(sd1_app, [16, "Lanczos", 2])
    check(sd1_app, request)
    result = submit(sd1_app, request).result().result
    assert [image.size for image in result.images] == [(128, 96)]
    assert "6 tile(s) of 64x64" in result.message  # 128 wide: 3 columns at overlap 16; 96 high: 2 rows
    info = parse_infotext(result.infotexts[0])
    assert info["SD upscale overlap"] == "16" and info["SD upscale upscaler"] == "Lanczos"
    assert info["Size"] == "64x64" and info["Seed"] == "9"  # A1111 writes the tile size
    assert read_png_infotext(result.paths[0]) == result.infotexts[0]
    with Image.open(result.paths[0]) as saved:
        assert saved.size == (128, 96)


def test_arguments_are_checked_before_queueing(sd1_app) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParams, match="Upscaler"):
        _request(sd1_app, [64, "No such upscaler", 2])
    with pytest.raises(InvalidParams, match="Scale Factor"):
        _request(sd1_app, [64, "Lanczos", 9])


def test_infotext_keys_go_before_the_version() -> None:
    text = "a fox\nSteps: 2, Seed: 1, Version: v1"
    assert with_extra_infotext(text, {"SD upscale overlap": 64}) == "a fox\nSteps: 2, Seed: 1, SD upscale overlap: 64, Version: v1"
    assert with_extra_infotext("a\nSteps: 2", {"K": "x"}) == "a\nSteps: 2, K: x"
