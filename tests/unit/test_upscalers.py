"""The registered upscalers: A1111's non-model ones (None, Lanczos, Nearest) and one an extension adds."""

from __future__ import annotations

import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.registry import Registry
from modules.upscalers.resize import register_core_upscalers
from modules.upscalers.spec import MAX_SIDE, UpscalerSpec, find_upscaler, upscale


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    register_core_upscalers(registry)
    return registry


def test_core_upscalers_resize_with_pil(registry: Registry) -> None:
    image = Image.new("RGB", (3, 2), (0, 0, 0))
    image.putpixel((0, 0), (255, 0, 0))
    assert upscale(registry, "None", image, 4) is image, "None leaves the image as it is"
    nearest = upscale(registry, "nearest", image, 2)  # any case
    assert nearest.size == (6, 4) and nearest.getpixel((1, 1)) == (255, 0, 0) and nearest.getpixel((2, 0)) == (0, 0, 0)
    lanczos = upscale(registry, "Lanczos", image, 2.5)
    assert lanczos.size == (8, 5) and lanczos.getpixel((0, 0))[0] > 128


def test_bad_names_and_factors_say_what_to_do(registry: Registry) -> None:
    image = Image.new("RGB", (8, 8))
    with pytest.raises(InvalidParams, match="Unknown upscaler 'ESRGAN'. Choose one of: None, Lanczos, Nearest"):
        find_upscaler(registry, "ESRGAN")
    for factor in (0, -1, float("nan"), MAX_SIDE):
        with pytest.raises(InvalidParams, match="Cannot upscale a 8x8 image"):
            upscale(registry, "Lanczos", image, factor)


def test_an_extension_upscaler_is_listed_in_the_api_shape(make_app) -> None:  # noqa: ANN001
    from modules.api import lists

    app = make_app((), load=False)
    app.registry.upscalers.register("Flip 2x", UpscalerSpec("Flip 2x", lambda im, f: im.transpose(0), scale=2,
                                                            model_name="flip"), source="ext")
    assert [u["name"] for u in lists.upscalers(app)] == ["None", "Lanczos", "Nearest", "Flip 2x"]
    assert lists.upscalers(app)[-1] == {"name": "Flip 2x", "model_name": "flip", "model_path": None,
                                        "model_url": None, "scale": 2}
