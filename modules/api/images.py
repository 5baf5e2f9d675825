"""Images in API bodies: base64 (or data: URI) in, base64 PNG with the infotext chunk out.

Decoding checks everything a hostile request could get wrong: bad base64, a file that is not an
image, a truncated image, a decompression bomb. Each is an ApiError (HTTP 400) naming the field.
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

MAX_IMAGE_PIXELS = 8192 * 8192
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
    from PIL import Image, UnidentifiedImageError

    data = decode_base64(text, field)
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ApiError(msg("api_image_too_large", field=field, width=image.width, height=image.height))
        image.load()  # decode now: a truncated or corrupt file fails here, not later
    except ApiError:
        raise
    except Image.DecompressionBombError:  # Pillow refuses to open it at all
        raise ApiError(msg("api_image_huge", field=field, megapixels=MAX_IMAGE_PIXELS // 10**6)) from None
    except UnidentifiedImageError:
        raise ApiError(msg("api_bad_image", field=field)) from None
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
