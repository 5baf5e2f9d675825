"""What the img2img tab's image boxes hold, turned into an init image and a mask (PIL only, no gradio).

Modes (the sub-tabs, as in A1111):
- "img2img": the uploaded image, no mask;
- "inpaint": an ImageEditor value ({"background", "layers", "composite"}); everything painted on the
  layers (any alpha above 0) becomes the mask, white = repaint;
- "inpaint_upload": an image and a separate mask image (white = repaint).
Missing images and empty masks raise UserError with a message for the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

MODES = ("img2img", "inpaint", "inpaint_upload")
MODE_LABELS = {"img2img": "img2img", "inpaint": "Inpaint", "inpaint_upload": "Inpaint upload"}


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
               upload_image: Image.Image | None, upload_mask: Image.Image | None) -> Img2ImgInput:
    """The init image (and mask) of the active sub-tab."""
    if mode == "inpaint":
        return editor_input(editor)
    if mode == "inpaint_upload":
        return upload_input(upload_image, upload_mask)
    if image is None:
        raise InvalidParams(msg("img2img_no_image"))
    return Img2ImgInput(image=image, mask=None)
