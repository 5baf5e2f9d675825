"""What the img2img tab's image boxes hold, turned into an init image and a mask (PIL only, no gradio).

Modes (the sub-tabs, as in A1111):
- "img2img": the uploaded image, no mask;
- "sketch": an ImageEditor value with a colour brush: the drawn composite (image + strokes) is the init image;
- "inpaint": an ImageEditor value ({"background", "layers", "composite"}); everything painted on the
  layers (any alpha above 0) becomes the mask, white = repaint;
- "inpaint_sketch": an ImageEditor value with a colour brush: the composite is the init image and the
  strokes (the painted layers) are the mask;
- "inpaint_upload": an image and a separate mask image (white = repaint);
- "batch": a folder of images (modules/generation/img2img_batch.py), not handled here.
Missing images and empty masks raise UserError with a message for the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

MODES = ("img2img", "sketch", "inpaint", "inpaint_sketch", "inpaint_upload", "batch")
MODE_LABELS = {"img2img": "img2img", "sketch": "Sketch", "inpaint": "Inpaint", "inpaint_sketch": "Inpaint sketch",
               "inpaint_upload": "Inpaint upload", "batch": "Batch"}
EDITOR_MODES = ("sketch", "inpaint", "inpaint_sketch")  # the sub-tabs holding an ImageEditor
MASKED_MODES = ("inpaint", "inpaint_sketch", "inpaint_upload", "batch")  # the inpaint controls are shown


@dataclass(frozen=True)
class Img2ImgInput:
    image: Image.Image
    mask: Image.Image | None  # L, image size, 255 = repaint; None in img2img mode


def painted_mask(layers: list[Image.Image | None], size: tuple[int, int]) -> Image.Image | None:
    """The union of what was painted on the layers (alpha > 0 → 255), at size; None when nothing was."""
    from PIL import Image, ImageChops

    mask: Image.Image | None = None
    for layer in layers:
        if layer is None:
            continue
        alpha = layer.getchannel("A") if layer.mode in ("RGBA", "LA") else layer.convert("RGBA").getchannel("A")
        alpha = alpha.point(lambda v: 255 if v > 0 else 0)
        if alpha.size != size:
            alpha = alpha.resize(size, Image.Resampling.NEAREST)
        mask = alpha if mask is None else ImageChops.lighter(mask, alpha)
    if mask is None or mask.getbbox() is None:
        return None
    return mask


def editor_input(value: dict[str, Any] | None) -> Img2ImgInput:
    """Init image and mask from an ImageEditor value (the background is the image, the layers the mask)."""
    background = (value or {}).get("background")
    if background is None:
        raise InvalidParams(msg("inpaint_no_image"))
    mask = painted_mask(list((value or {}).get("layers") or []), background.size)
    if mask is None:
        raise InvalidParams(msg("inpaint_no_mask"))
    return Img2ImgInput(image=background, mask=mask)


def composite_of(value: dict[str, Any] | None) -> Image.Image | None:
    """What an ImageEditor shows (background with the strokes on it), or None when it holds nothing."""
    value = value or {}
    composite = value.get("composite")
    if composite is not None:
        return composite
    background = value.get("background")
    if background is None:
        return None
    return _painted_over(background, list(value.get("layers") or []))


def _painted_over(background: Image.Image, layers: list[Image.Image | None]) -> Image.Image:
    from PIL import Image

    result = background.convert("RGBA")
    for layer in layers:
        if layer is not None:
            top = layer.convert("RGBA")
            result = Image.alpha_composite(result, top if top.size == result.size else top.resize(result.size))
    return result


def sketch_input(value: dict[str, Any] | None) -> Img2ImgInput:
    """Sketch: the drawn composite is the init image, no mask."""
    image = composite_of(value)
    if image is None:
        raise InvalidParams(msg("sketch_no_image"))
    return Img2ImgInput(image=image, mask=None)


def inpaint_sketch_input(value: dict[str, Any] | None) -> Img2ImgInput:
    """Inpaint sketch: the composite is the init image and the strokes are the mask."""
    image = composite_of(value)
    if image is None or (value or {}).get("background") is None:
        raise InvalidParams(msg("inpaint_sketch_no_image"))
    mask = painted_mask(list((value or {}).get("layers") or []), image.size)
    if mask is None:
        raise InvalidParams(msg("inpaint_sketch_no_strokes"))
    return Img2ImgInput(image=image, mask=mask)


def upload_input(image: Image.Image | None, mask: Image.Image | None) -> Img2ImgInput:
    if image is None:
        raise InvalidParams(msg("inpaint_no_image"))
    if mask is None:
        raise InvalidParams(msg("inpaint_upload_no_mask"))
    grey = mask.convert("L")
    if grey.getbbox() is None:
        raise InvalidParams(msg("inpaint_mask_black"))
    return Img2ImgInput(image=image, mask=grey)


def pick_input(mode: str, image: Image.Image | None, editor: dict[str, Any] | None,
               upload_image: Image.Image | None, upload_mask: Image.Image | None,
               sketch: dict[str, Any] | None = None, inpaint_sketch: dict[str, Any] | None = None) -> Img2ImgInput:
    """The init image (and mask) of the active sub-tab (not "batch": its images come from a folder)."""
    if mode == "sketch":
        return sketch_input(sketch)
    if mode == "inpaint_sketch":
        return inpaint_sketch_input(inpaint_sketch)
    if mode == "inpaint":
        return editor_input(editor)
    if mode == "inpaint_upload":
        return upload_input(upload_image, upload_mask)
    if image is None:
        raise InvalidParams(msg("img2img_no_image"))
    return Img2ImgInput(image=image, mask=None)


def size_from_image(image: Image.Image | None) -> tuple[int, int] | None:
    """📐: an image's width and height rounded to 8 (within the size sliders' range); None without an image."""
    from modules.generation.img2img_prep import scaled_size

    return None if image is None else scaled_size(image.size)


def resized_by(image: Image.Image | None, scale: float) -> tuple[int, int] | None:
    """"Resize by": the image's size times scale, rounded to 8 (A1111's Resize by tab); None without an image."""
    from modules.generation.img2img_prep import scaled_size

    return None if image is None else scaled_size(image.size, scale)

def image_of(mode: str, image: Image.Image | None, editors: dict[str, dict[str, Any] | None],
             upload_image: Image.Image | None) -> Image.Image | None:
    """The picture the active sub-tab holds (for 📐 and Resize by): the image, an editor's background or
    composite, or the Inpaint upload image."""
    if mode in EDITOR_MODES:
        value = editors.get(mode) or {}
        return value.get("background") if value.get("background") is not None else composite_of(value)
    if mode == "inpaint_upload":
        return upload_image
    return image if mode == "img2img" else None

