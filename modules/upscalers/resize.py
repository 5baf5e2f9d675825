"""The upscalers that need no model (A1111's "None", "Lanczos", "Nearest"): plain PIL resizes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modules.registry import CORE
from modules.upscalers.spec import UpscalerSpec, target_size

if TYPE_CHECKING:
    from PIL import Image

    from modules.registry import Registry


def no_upscale(image: Image.Image, factor: float) -> Image.Image:
    """'None': the image as it is (A1111 leaves resizing to the caller)."""
    return image


def lanczos(image: Image.Image, factor: float) -> Image.Image:
    from PIL import Image

    return image.resize(target_size(image.width, image.height, factor), resample=Image.Resampling.LANCZOS)


def nearest(image: Image.Image, factor: float) -> Image.Image:
    from PIL import Image

    return image.resize(target_size(image.width, image.height, factor), resample=Image.Resampling.NEAREST)


CORE_UPSCALERS = (UpscalerSpec("None", no_upscale), UpscalerSpec("Lanczos", lanczos),
                  UpscalerSpec("Nearest", nearest))


def register_core_upscalers(registry: Registry) -> None:
    for spec in CORE_UPSCALERS:
        registry.upscalers.register(spec.name, spec, source=CORE)
