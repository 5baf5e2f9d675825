"""Images in API bodies: base64 (or data: URI) in, base64 PNG with the infotext chunk out.

Decoding checks everything a hostile request could get wrong: bad base64, a file that is not an
image, a truncated image, a decompression bomb. Each is an ApiError (HTTP 400) naming the field.
A request's images are opened first (header only: size, no pixels), so decode_images can refuse a
request whose images hold more than MAX_REQUEST_PIXELS together (HTTP 413) before decoding any of them.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_PIXELS = 8192 * 8192  # one image
# all images of one request together (init images and mask): 67.1 million pixels, e.g. 16 of 2048x2048,
# 4 of 4096x4096 or one of 8192x8192; about 200 MB decoded as RGB
MAX_REQUEST_PIXELS = 8192 * 8192
_DATA_URI = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


class ApiError(UserError):
    """A bad request that is not a validation error of the body's shape: answered with status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def decode_base64(text: str, field: str) -> bytes:
    """Bytes of a base64 string (whitespace and a data: URI prefix allowed)."""
    body = _DATA_URI.sub("", text.strip(), count=1)
    body = "".join(body.split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(msg("api_bad_base64", field=field)) from None


def decode_image(text: str, field: str) -> Image.Image:
    """A fully decoded PIL image from base64; ApiError when the data is not a complete image."""
    return load_image(open_image(text, field), field)


def decode_images(texts: list[tuple[str, str]], limit: int = MAX_REQUEST_PIXELS) -> list[Image.Image]:
    """The images of (base64, field name) pairs, decoded only once their headers show that together they
    hold at most limit pixels (ApiError 413 saying the limit otherwise)."""
    opened = [(open_image(text, field), field) for text, field in texts]
    total = sum(image.width * image.height for image, _field in opened)
    if total > limit:
        raise ApiError(msg("api_request_pixels", count=len(opened), total=total / 10**6, limit=limit / 10**6),
                       status=413)
    return [load_image(image, field) for image, field in opened]


def open_image(text: str, field: str) -> Image.Image:
    """The image in a base64 string, opened but not decoded (PIL reads the header only: size and mode)."""
    from PIL import Image, UnidentifiedImageError

    data = decode_base64(text, field)
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # Pillow refuses to open it at all
        raise ApiError(msg("api_image_huge", field=field, megapixels=MAX_IMAGE_PIXELS // 10**6)) from None
    except UnidentifiedImageError:
        raise ApiError(msg("api_bad_image", field=field)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # broken header chunks
        raise ApiError(msg("api_broken_image", field=field, error=str(e)[:200])) from None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise ApiError(msg("api_image_too_large", field=field, width=image.width, height=image.height))
    return image


def load_image(image: Image.Image, field: str) -> Image.Image:
    """image (from open_image) with its pixels decoded now: a truncated or corrupt file fails here, not later."""
    from PIL import Image

    try:
        image.load()
    except Image.DecompressionBombError:
        raise ApiError(msg("api_image_huge", field=field, megapixels=MAX_IMAGE_PIXELS // 10**6)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated data, broken chunks
        raise ApiError(msg("api_broken_image", field=field, error=str(e)[:200])) from None
    return image


def encode_png(image: Image.Image, infotext: str | None) -> str:
    """base64 of a PNG of image, with infotext in its 'parameters' text chunk (as A1111 sends it)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if infotext:
        info.add_text("parameters", infotext)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
