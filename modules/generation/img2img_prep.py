"""img2img's pixel side (PIL and numpy, no torch): resizing init images, masks, "Only masked" crops, fill, overlay.

Behaviour follows A1111 (facts from the compatibility reference, own code):
- resize modes: 0 just resize (stretch), 1 crop and resize (cover, centre crop), 2 resize and fill
  (fit, the borders filled by stretching the edge rows/columns), 3 just resize (latent upscale): the
  image is also kept at its own size (rounded to 8) as `latent_source`, which is encoded and resized in
  latent space (latent_resize.py); mask, overlay and the pixels for conditioning are stretched as in 0;
- the mask is greyscale, white = repaint; it is resized to the init image when sizes differ,
  inverted for "Inpaint not masked", then blurred (Gaussian, mask_blur_x / mask_blur_y);
- "Whole picture": image and mask are resized to width x height; the overlay keeps the original
  pixels where the blurred mask (doubled, so the repainted area reaches its edge) is 0;
- "Only masked" (inpaint_full_res): the mask's bounding box plus padding, grown to the output's
  aspect ratio, is cut out and generated at width x height, then scaled back and pasted into the
  original, which keeps its own size;
- masked content "fill" replaces the masked pixels with colours blurred in from around the mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from modules.generation.params import Img2ImgParams

Box = tuple[int, int, int, int]  # left, top, right, bottom
BACKGROUND = (255, 255, 255)  # transparent parts of an init image become white (A1111's default)
FILL_RADII = (128, 64, 32, 16, 8, 4, 2, 1)
LATENT_RESIZE = 3  # "Just resize (latent upscale)"


@dataclass
class PreparedImage:
    """One init image made ready for the model, and what is needed to put the result back."""

    pixels: Image.Image  # RGB, width x height: what the VAE encodes
    mask: Image.Image | None  # L, width x height, blurred: the latent mask is drawn from it
    overlay: Image.Image | None  # RGBA at output size: original pixels, transparent where repainted
    base: Image.Image | None = None  # "Only masked": the original the result is pasted into
    paste_box: Box | None = None
    latent_source: Image.Image | None = None  # resize mode 3: RGB at its own size, encoded then resized as latents


def flatten(image: Image.Image) -> Image.Image:
    """RGB; transparency is composited onto white."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def resize_image(mode: int, image: Image.Image, width: int, height: int) -> Image.Image:
    """image at width x height by A1111's resize mode (0 and 3 stretch, 1 crops, 2 fills).

    Masks (mode L) are resampled bilinearly, so their 0 and 255 stay exact (Lanczos overshoots).
    """
    from PIL import Image

    resample = Image.Resampling.BILINEAR if image.mode == "L" else Image.Resampling.LANCZOS
    if image.size == (width, height):
        return image.copy()
    if mode == 1:
        scale = max(width / image.width, height / image.height)
        scaled = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                              resample)
        left, top = (scaled.width - width) // 2, (scaled.height - height) // 2
        return scaled.crop((left, top, left + width, top + height))
    if mode == 2:
        return _resize_and_fill(image, width, height)
    return image.resize((width, height), resample)


def _resize_and_fill(image: Image.Image, width: int, height: int) -> Image.Image:
    from PIL import Image

    scale = min(width / image.width, height / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resample = Image.Resampling.BILINEAR if image.mode == "L" else Image.Resampling.LANCZOS
    fitted = image.resize((w, h), resample)
    canvas = fitted.resize((width, height), Image.Resampling.NEAREST)  # corners; the bars are redrawn below
    left, top = (width - w) // 2, (height - h) // 2
    right, bottom = width - left - w, height - top - h
    bars = (  # (edge strip of the fitted image, size it is stretched to, where it goes)
        ((0, 0, 1, h), (left, h), (0, top)), ((w - 1, 0, w, h), (right, h), (left + w, top)),
        ((0, 0, w, 1), (w, top), (left, 0)), ((0, h - 1, w, h), (w, bottom), (left, top + h)),
    )
    for strip, size, where in bars:
        if size[0] > 0 and size[1] > 0:
            canvas.paste(fitted.crop(strip).resize(size), where)
    canvas.paste(fitted, (left, top))
    return canvas


def scaled_size(size: tuple[int, int], scale: float = 1.0, multiple: int = 8, lowest: int = 64,
                highest: int = 2048) -> tuple[int, int]:
    """An image size times scale, each side rounded to the nearest multiple and kept within lowest..highest
    (the output size of A1111's "Resize by", and of 📐 with scale 1)."""
    width, height = (min(highest, max(lowest, round(side * scale / multiple) * multiple)) for side in size)
    return width, height


def latent_source_size(width: int, height: int, multiple: int = 8) -> tuple[int, int]:
    """An image's own size rounded to the nearest multiple (at least one multiple): the size resize mode 3 encodes at."""
    return max(multiple, round(width / multiple) * multiple), max(multiple, round(height / multiple) * multiple)


def _latent_source(rgb: Image.Image, mask: Image.Image | None, fill: bool) -> Image.Image:
    """rgb at latent_source_size, with the masked part filled when masked content is "fill"."""
    from PIL import Image

    size = latent_source_size(rgb.width, rgb.height)
    source = rgb if rgb.size == size else rgb.resize(size, Image.Resampling.LANCZOS)
    if mask is not None and fill:
        source = fill_masked(source, mask.resize(size, Image.Resampling.BILINEAR))
    return source


def blur_mask(mask: Image.Image, blur_x: int, blur_y: int) -> Image.Image:
    """Gaussian blur with separate horizontal and vertical radii (0 = none in that direction)."""
    from PIL import ImageFilter

    if blur_x <= 0 and blur_y <= 0:
        return mask
    return mask.filter(ImageFilter.GaussianBlur(radius=(max(0, blur_x), max(0, blur_y))))


def crop_region(mask: Image.Image, padding: int) -> Box:
    """The bounding box of the mask's non-zero pixels plus padding, inside the image (whole image if empty)."""
    box = mask.getbbox()
    if box is None:
        return 0, 0, mask.width, mask.height
    left, top, right, bottom = box
    return (max(left - padding, 0), max(top - padding, 0), min(right + padding, mask.width),
            min(bottom + padding, mask.height))


def expand_to_aspect(box: Box, width: int, height: int, image_w: int, image_h: int) -> Box:
    """Grow box (centred, clamped to the image) until its aspect ratio matches width:height where it fits."""
    left, top, right, bottom = box
    box_w, box_h = right - left, bottom - top
    ratio = width / height
    if box_w / box_h < ratio:
        new_w = min(image_w, round(box_h * ratio))
        left, right = _grow(left, right, new_w, image_w)
    else:
        new_h = min(image_h, round(box_w / ratio))
        top, bottom = _grow(top, bottom, new_h, image_h)
    return left, top, right, bottom


def _grow(start: int, end: int, size: int, limit: int) -> tuple[int, int]:
    extra = size - (end - start)
    start -= extra // 2
    end += extra - extra // 2
    if start < 0:
        end, start = end - start, 0
    if end > limit:
        start, end = max(0, start - (end - limit)), limit
    return start, end


def _box_blur(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)-square window, zero outside the image (float, exact; H and W are axes 0 and 1)."""
    import numpy as np

    for axis in (0, 1):
        pad = [(0, 0)] * values.ndim
        pad[axis] = (radius + 1, radius)
        sums = np.cumsum(np.pad(values, pad), axis=axis)
        size = 2 * radius + 1
        values = np.take(sums, range(size, sums.shape[axis]), axis=axis) - np.take(
            sums, range(0, sums.shape[axis] - size), axis=axis)
    return values / float((2 * radius + 1) ** 2)


def fill_masked(image: Image.Image, mask: Image.Image) -> Image.Image:
    """Masked pixels replaced by colours blurred in from the unmasked ones (coarse first, then finer)."""
    import numpy as np
    from PIL import Image

    keep = (np.asarray(mask.convert("L"), dtype=np.float32) < 128).astype(np.float32)[..., None]
    if keep.all() or not keep.any():
        return image.copy()
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    filled = np.broadcast_to(rgb[keep[..., 0] > 0].mean(axis=0), rgb.shape).copy()
    for radius in FILL_RADII:
        weight, colours = keep, rgb * keep
        for _ in range(2):  # two box blurs: a smoother, tent-shaped window
            weight, colours = _box_blur(weight, radius), _box_blur(colours, radius)
        known = weight[..., 0] > 0.05
        filled[known] = colours[known] / weight[known]
    out = np.where(keep > 0, rgb, filled)
    return Image.fromarray(out.clip(0, 255).round().astype(np.uint8))


def _overlay(original: Image.Image, repaint: Image.Image) -> Image.Image:
    """RGBA: the original where repaint is 0, fading to transparent where repaint is 255."""
    from PIL import ImageOps

    overlay = original.convert("RGBA")
    overlay.putalpha(ImageOps.invert(repaint.convert("L")))
    return overlay


def _doubled(mask: Image.Image) -> Image.Image:
    return mask.point(lambda v: min(255, v * 2))


def prepare_image(image: Image.Image, params: Img2ImgParams) -> PreparedImage:
    """One init image (and params.mask) → what the model encodes, the mask and the overlay."""
    from PIL import Image, ImageOps

    w, h = params.width, params.height
    rgb = flatten(image)
    latent = params.resize_mode == LATENT_RESIZE
    if params.mask is None:
        return PreparedImage(resize_image(params.resize_mode, rgb, w, h), None, None,
                             latent_source=_latent_source(rgb, None, False) if latent else None)
    mask = params.mask.convert("L")
    if mask.size != rgb.size:  # A1111 resizes the mask to the image
        mask = mask.resize(rgb.size, Image.Resampling.BILINEAR)
    if params.inpainting_mask_invert:
        mask = ImageOps.invert(mask)
    mask = blur_mask(mask, params.mask_blur_x, params.mask_blur_y)
    if params.inpaint_full_res:
        box = expand_to_aspect(crop_region(mask, params.inpaint_full_res_padding), w, h, rgb.width, rgb.height)
        pixels = resize_image(2, rgb.crop(box), w, h)
        model_mask = resize_image(2, mask.crop(box), w, h)
        prepared = PreparedImage(pixels, model_mask, _overlay(rgb, mask), base=rgb, paste_box=box)
    else:
        pixels = resize_image(params.resize_mode, rgb, w, h)
        model_mask = resize_image(params.resize_mode, mask, w, h)
        prepared = PreparedImage(pixels, model_mask, _overlay(pixels, _doubled(model_mask)),
                                 latent_source=_latent_source(rgb, mask, params.inpainting_fill == 0) if latent else None)
    if params.inpainting_fill == 0:
        prepared.pixels = fill_masked(prepared.pixels, prepared.mask)
    return prepared


def apply_overlay(generated: Image.Image, prepared: PreparedImage) -> Image.Image:
    """The generated image with the original pixels put back outside the (blurred) mask."""
    from PIL import Image

    if prepared.overlay is None:
        return generated
    result = generated.convert("RGB")
    if prepared.paste_box is not None and prepared.base is not None:
        left, top, right, bottom = prepared.paste_box
        base = prepared.base.copy()
        base.paste(result.resize((right - left, bottom - top), Image.Resampling.LANCZOS), (left, top))
        result = base
    return Image.alpha_composite(result.convert("RGBA"), prepared.overlay).convert("RGB")
