"""Images handed to the app by a caller (API base64 fields, command-line files): one decoder, one set of limits.

Everything a hostile or careless input can get wrong is found here and told in the caller's words:
bad base64, a file that is not an image, a truncated image, a decompression bomb, an image over
MAX_IMAGE_PIXELS, images that together hold more than MAX_REQUEST_PIXELS. An image is opened first
(header only: size, no pixels), so the pixel limits are checked before anything is decoded.

    image = read_path(Path("photo.png"), "--init-image")            # CLI
    images = decode_all([open_base64(text, "init_images[0]")])       # API (ImageInputError, with a status)
    info = image_info(image)                                         # its infotext (PNG Info, /png-info)
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_PIXELS = 8192 * 8192  # one image
# all images of one request together (init images and mask): 67.1 million pixels, e.g. 16 of 2048x2048,
# 4 of 4096x4096 or one of 8192x8192; about 200 MB decoded as RGB
MAX_REQUEST_PIXELS = 8192 * 8192
# Pillow's info entries about the file format rather than what the image says (left out of ImageInfo.items, as A1111)
FORMAT_INFO_KEYS = frozenset({"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "exif", "loop",
                              "background", "timestamp", "duration", "progressive", "progression", "icc_profile",
                              "chromaticity", "photoshop", "transparency", "gamma", "aspect", "srgb", "adobe",
                              "adobe_transform", "xmp"})
_DATA_URI = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


class ImageInputError(UserError):
    """An input image that cannot be used; status is the HTTP status an API answers with (400, or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Source:
    """Where an image came from, for messages: an API field ('init_images[0]') or a flag and its file."""

    label: str
    path: Path | None = None

    def error(self, kind: str, status: int = 400, **values: object) -> ImageInputError:
        """The message of kind (bad_image, broken_image, image_too_large, image_huge) in the caller's words."""
        if self.path is not None:
            return ImageInputError(msg(f"cli_{kind}", what=self.label, path=self.path, **values), status)
        return ImageInputError(msg(f"api_{kind}", field=self.label, **values), status)


@dataclass(frozen=True)
class Opened:
    image: Image.Image  # header read, pixels not decoded yet
    source: Source


def decode_base64(text: str, label: str) -> bytes:
    """Bytes of a base64 string (whitespace and a data: URI prefix allowed)."""
    body = _DATA_URI.sub("", text.strip(), count=1)
    body = "".join(body.split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError(msg("api_bad_base64", field=label)) from None


def open_bytes(data: bytes, source: Source) -> Opened:
    """The image in data, opened but not decoded (PIL reads the header only: size and mode)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:  # Pillow refuses to open it at all
        raise source.error("image_huge", megapixels=MAX_IMAGE_PIXELS // 10**6) from None
    except UnidentifiedImageError:
        raise source.error("bad_image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # broken header chunks
        raise source.error("broken_image", error=str(e)[:200]) from None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise source.error("image_too_large", width=image.width, height=image.height)
    return Opened(image, source)


def open_base64(text: str, label: str) -> Opened:
    return open_bytes(decode_base64(text, label), Source(label))


def open_path(path: Path, label: str) -> Opened:
    """The image file at path, opened (UserError 'no file' when there is none)."""
    source = Source(label, path)
    if not path.is_file():
        raise UserError(msg("cli_no_file", what=label, path=path))
    try:
        data = path.read_bytes()
    except OSError as e:
        raise source.error("broken_image", error=str(e)[:200]) from None
    return open_bytes(data, source)


def load(opened: Opened) -> Image.Image:
    """The image with its pixels decoded now: a truncated or corrupt file fails here, not later."""
    from PIL import Image

    try:
        opened.image.load()
    except Image.DecompressionBombError:
        raise opened.source.error("image_huge", megapixels=MAX_IMAGE_PIXELS // 10**6) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated data, broken chunks
        raise opened.source.error("broken_image", error=str(e)[:200]) from None
    return opened.image


def decode_all(opened: list[Opened], limit: int = MAX_REQUEST_PIXELS) -> list[Image.Image]:
    """The opened images decoded, once their headers show that together they hold at most limit pixels
    (ImageInputError 413 saying the limit otherwise)."""
    total = sum(o.image.width * o.image.height for o in opened)
    if total > limit:
        raise ImageInputError(msg("api_request_pixels", count=len(opened), total=total / 10**6, limit=limit / 10**6),
                              status=413)
    return [load(o) for o in opened]


def read_path(path: Path, label: str) -> Image.Image:
    """The image file at path, fully decoded; UserError saying what is wrong with it otherwise."""
    return load(open_path(path, label))


@dataclass(frozen=True)
class ImageInfo:
    """What an image file says about itself (A1111's PNG Info): its infotext ('' when it has none; PNG text
    chunk, or EXIF UserComment for JPEG/WebP), that infotext parsed, and its other text items."""

    infotext: str
    parameters: dict[str, str]  # parse_infotext's keys ('Prompt', 'Steps', 'Size-1', ...); {} without one
    items: dict[str, str | int | float | bool]  # other text chunks and info values (not 'exif', 'icc_profile')


def image_info(image: Image.Image) -> ImageInfo:
    """The one reader of an image's generation parameters (PNG Info tab and /sdapi/v1/png-info)."""
    from modules.generation.infotext import parse_infotext
    from modules.generation.outputs import INFOTEXT_KEY, read_png_infotext

    text = read_png_infotext(image) or ""
    items = {str(k): (v if isinstance(v, (str, int, float, bool)) else str(v)[:1000])
             for k, v in image.info.items() if k != INFOTEXT_KEY and k not in FORMAT_INFO_KEYS}
    return ImageInfo(text, parse_infotext(text) if text.strip() else {}, items)
