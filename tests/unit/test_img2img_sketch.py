"""img2img's Sketch and Inpaint sketch sub-tabs (init image and mask from an ImageEditor value), 📐 and Resize by."""

from __future__ import annotations

import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.messages import msg
from modules.ui.img2img_inputs import (
    composite_of,
    image_of,
    inpaint_sketch_input,
    pick_input,
    resized_by,
    size_from_image,
    sketch_input,
)

GREY = (128, 128, 128, 255)
RED = (255, 0, 0, 255)


def red_stroke_layer(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A colour-brush layer: a red bar over x 10..20, transparent elsewhere."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    layer.paste(RED, (10, 0, 20, size[1]))
    return layer


def editor_value(with_composite: bool = True) -> dict[str, object]:
    background = Image.new("RGBA", (64, 48), GREY)
    layer = red_stroke_layer()
    value: dict[str, object] = {"background": background, "layers": [layer]}
    if with_composite:
        value["composite"] = Image.alpha_composite(background, layer)
    return value


@pytest.mark.parametrize("with_composite", [True, False])
def test_sketch_uses_the_drawn_composite_as_init_image(with_composite: bool) -> None:
    chosen = sketch_input(editor_value(with_composite))
    assert chosen.mask is None and chosen.image.size == (64, 48)
    assert chosen.image.getpixel((15, 5)) == RED and chosen.image.getpixel((40, 5)) == GREY


def test_inpaint_sketch_uses_the_composite_and_the_strokes_as_mask() -> None:
    chosen = inpaint_sketch_input(editor_value())
    assert chosen.image.getpixel((15, 5)) == RED and chosen.image.getpixel((40, 5)) == GREY
    assert chosen.mask is not None and chosen.mask.mode == "L" and chosen.mask.size == (64, 48)
    assert chosen.mask.getbbox() == (10, 0, 20, 48)
    assert chosen.mask.getpixel((15, 5)) == 255 and chosen.mask.getpixel((40, 5)) == 0


def test_sketch_modes_say_what_is_missing() -> None:
    with pytest.raises(InvalidParams, match="Sketch box"):
        sketch_input(None)
    with pytest.raises(InvalidParams) as caught:
        inpaint_sketch_input({"background": None, "layers": [], "composite": None})
    assert str(caught.value) == msg("inpaint_sketch_no_image")
    untouched = {"background": Image.new("RGBA", (8, 8), GREY), "layers": [Image.new("RGBA", (8, 8))],
                 "composite": Image.new("RGBA", (8, 8), GREY)}
    with pytest.raises(InvalidParams) as caught:
        inpaint_sketch_input(untouched)
    assert str(caught.value) == msg("inpaint_sketch_no_strokes")


def test_pick_input_routes_the_sketch_sub_tabs() -> None:
    value = editor_value()
    assert pick_input("sketch", None, None, None, None, sketch=value).mask is None
    assert pick_input("inpaint_sketch", None, None, None, None, inpaint_sketch=value).mask is not None


def test_composite_of_layers_without_a_composite() -> None:
    image = composite_of(editor_value(with_composite=False))
    assert image is not None and image.getpixel((12, 1)) == RED
    assert composite_of(None) is None and composite_of({"background": None, "layers": []}) is None


def test_size_from_image_and_resize_by() -> None:
    image = Image.new("RGB", (101, 77))
    assert size_from_image(image) == (104, 80)
    assert size_from_image(None) is None
    assert resized_by(image, 2.0) == (200, 152)
    assert resized_by(Image.new("RGB", (512, 384)), 0.5) == (256, 192)
    assert resized_by(None, 2.0) is None


def test_image_of_the_active_sub_tab() -> None:
    picture, upload = Image.new("RGB", (8, 8)), Image.new("RGB", (16, 16))
    value = editor_value()
    editors = {"sketch": value, "inpaint": None, "inpaint_sketch": None}
    assert image_of("img2img", picture, editors, upload) is picture
    assert image_of("sketch", picture, editors, upload) is value["background"]
    assert image_of("inpaint", picture, editors, upload) is None
    assert image_of("inpaint_upload", picture, editors, upload) is upload
    assert image_of("batch", picture, editors, upload) is None
