"""Images in API bodies: base64 (or data: URI) in, base64 PNG with the infotext chunk out.

Decoding is modules/image_input.py's, shared with the command line (one set of pixel limits): bad
base64, a file that is not an image, a truncated image, a decompression bomb are each an ApiError
(HTTP 400) naming the field; images over MAX_REQUEST_PIXELS together are a 413 before any is decoded.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.image_input import MAX_IMAGE_PIXELS, MAX_REQUEST_PIXELS, ImageInputError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["MAX_IMAGE_PIXELS", "MAX_REQUEST_PIXELS", "ApiError", "decode_image", "decode_images", "encode_png"]


class ApiError(UserError):
    """A bad request that is not a validation error of the body's shape: answered with status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_image(text: str, field: str) -> Image.Image:
    """A fully decoded PIL image from base64; ApiError when the data is not a complete image."""
    return decode_images([(text, field)])[0]


def decode_images(texts: list[tuple[str, str]], limit: int = MAX_REQUEST_PIXELS) -> list[Image.Image]:
    """The images of (base64, field name) pairs, decoded only once their headers show that together they
    hold at most limit pixels (ApiError 413 saying the limit otherwise)."""
    from modules.image_input import decode_all, open_base64

    try:
        return decode_all([open_base64(text, field) for text, field in texts], limit)
    except ImageInputError as e:
        raise ApiError(str(e), e.status) from None


def encode_png(image: Image.Image, infotext: str | None) -> str:
    """base64 of a PNG of image, with infotext in its 'parameters' text chunk (as A1111 sends it)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if infotext:
        info.add_text("parameters", infotext)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
