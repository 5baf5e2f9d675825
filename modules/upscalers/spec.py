"""What an upscaler is: a name and a function that enlarges an image by a factor.

    registry.upscalers.register("My upscaler", UpscalerSpec("My upscaler", my_upscale, scale=4),
                                source="my-extension")

upscale(image, factor) -> the image factor times as large; a model-based upscaler also names its
model (model_name, model_path, model_url), as A1111's list shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.registry import Registry

MAX_SIDE = 16384  # pixels a side an upscaled image may have

UpscaleFn = Callable[["Image.Image", float], "Image.Image"]


@dataclass(frozen=True)
class UpscalerSpec:
    name: str
    upscale: UpscaleFn = field(compare=False)
    scale: float = 4.0  # the model's native factor (A1111 lists 4 for the plain resizers)
    model_name: str | None = None
    model_path: str | None = None
    model_url: str | None = None

    def as_api(self) -> dict[str, Any]:
        """The A1111 /sdapi/v1/upscalers item."""
        return {"name": self.name, "model_name": self.model_name, "model_path": self.model_path,
                "model_url": self.model_url, "scale": self.scale}


def target_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """The size of a width x height image upscaled by factor; InvalidParams when out of range."""
    wide, high = width * factor, height * factor
    if not (factor > 0 and 1 <= wide <= MAX_SIDE and 1 <= high <= MAX_SIDE):  # NaN fails every comparison
        raise InvalidParams(msg("bad_upscale", width=width, height=height, scale=factor, maximum=MAX_SIDE))
    return round(wide), round(high)


def find_upscaler(registry: Registry, name: str) -> UpscalerSpec:
    """The registered upscaler by name (any case); InvalidParams listing the choices."""
    spec = registry.upscalers.get(name)
    if spec is None:
        raise InvalidParams(msg("unknown_upscaler", name=name, choices=", ".join(registry.upscalers.names())))
    return spec


def upscale(registry: Registry, name: str, image: Image.Image, factor: float) -> Image.Image:
    """image upscaled by factor with the named upscaler."""
    target_size(image.width, image.height, factor)
    return find_upscaler(registry, name).upscale(image, factor)
