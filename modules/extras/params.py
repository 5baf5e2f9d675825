"""ExtrasParams: what the Extras tab and the API ask of one postprocessing run (A1111's field names).

resize_mode 0 scales by upscaling_resize; 1 scales to upscaling_resize_w x upscaling_resize_h (the larger of
the two factors, then a centred crop to that size when upscaling_crop). upscaler_1 enlarges the image;
upscaler_2 too when extras_upscaler_2_visibility > 0, and the two are blended (0: only the first, 1: only
the second). Pure data and checks: no torch, no App.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.registry import Registry

NONE = "None"
MAX_SCALE = 8.0
SIZE_RANGE = (1, 8192)  # "Scale to" sizes the API takes (the tab's boxes start at 64, as A1111's)


@dataclass(frozen=True)
class ExtrasParams:
    resize_mode: int = 0
    upscaling_resize: float = 2.0
    upscaling_resize_w: int = 512
    upscaling_resize_h: int = 512
    upscaling_crop: bool = True
    upscaler_1: str = NONE
    upscaler_2: str = NONE
    extras_upscaler_2_visibility: float = 0.0

    def validate(self, registry: Registry) -> None:
        """InvalidParams naming what is wrong: the sizes, the visibility, an upscaler that is not registered."""
        from modules.upscalers.spec import find_upscaler

        low, high = SIZE_RANGE
        scale_ok = math.isfinite(self.upscaling_resize) and 1 <= self.upscaling_resize <= MAX_SCALE
        size_ok = low <= self.upscaling_resize_w <= high and low <= self.upscaling_resize_h <= high
        if (self.resize_mode == 1 and not size_ok) or (self.resize_mode != 1 and not scale_ok) \
                or self.resize_mode not in (0, 1):
            raise InvalidParams(msg("extras_bad_resize", value=self.upscaling_resize, width=self.upscaling_resize_w,
                                    height=self.upscaling_resize_h))
        if not (0 <= self.extras_upscaler_2_visibility <= 1):
            raise InvalidParams(msg("extras_bad_visibility", value=self.extras_upscaler_2_visibility))
        find_upscaler(registry, self.upscaler_1)
        if self.uses_second:
            find_upscaler(registry, self.upscaler_2)

    @property
    def uses_second(self) -> bool:
        return self.upscaler_2 != NONE and self.extras_upscaler_2_visibility > 0

    def factor(self, width: int, height: int) -> float:
        """How much an image of width x height is enlarged."""
        if self.resize_mode == 1:
            return max(self.upscaling_resize_w / width, self.upscaling_resize_h / height)
        return float(self.upscaling_resize)

    def infotext_items(self) -> dict[str, object]:
        """A1111's postprocessing keys, in its order."""
        items: dict[str, object] = {}
        if self.resize_mode == 1:
            items["Postprocess upscale to"] = f"{self.upscaling_resize_w}x{self.upscaling_resize_h}"
            if self.upscaling_crop:
                items["Postprocess crop to"] = f"{self.upscaling_resize_w}x{self.upscaling_resize_h}"
        else:
            items["Postprocess upscale by"] = _number(self.upscaling_resize)
        items["Postprocess upscaler"] = self.upscaler_1
        if self.uses_second:
            items["Postprocess upscaler 2"] = self.upscaler_2
        return items


def _number(value: float) -> object:
    return int(value) if float(value).is_integer() else value
