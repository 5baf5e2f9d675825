"""img2img's infotext keys (A1111 names and order) and reading them back into Img2ImgParams.

Written: Denoising strength; with a mask also Mask mode ("Inpaint not masked" only), Mask blur
(one value when x and y agree, else Mask blur x / Mask blur y), Inpaint area ("Only masked" only)
with Masked area padding, Masked content (only when not "original"); Noise multiplier when not 1.
Missing keys read back as A1111's paste defaults (Whole picture, original, padding 32, inpaint masked).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from modules.generation.params import MASKED_CONTENT, Img2ImgParams
from modules.samplers.core import CORE_TABLE

if TYPE_CHECKING:
    from modules.samplers.specs import SamplerTable

NOT_MASKED = "Inpaint not masked"
ONLY_MASKED = "Only masked"
DEFAULT_PADDING = 32


def img2img_infotext(params: Img2ImgParams) -> dict[str, object]:
    values: dict[str, object] = {"Denoising strength": params.denoising_strength}
    if params.mask is not None:
        if params.inpainting_mask_invert:
            values["Mask mode"] = NOT_MASKED
        if params.mask_blur_x == params.mask_blur_y:
            values["Mask blur"] = params.mask_blur_x
        else:
            values["Mask blur x"], values["Mask blur y"] = params.mask_blur_x, params.mask_blur_y
        if params.inpaint_full_res:
            values["Inpaint area"] = ONLY_MASKED
            values["Masked area padding"] = params.inpaint_full_res_padding
        if params.inpainting_fill != 1:
            values["Masked content"] = MASKED_CONTENT[params.inpainting_fill]
    if params.initial_noise_multiplier != 1.0:
        values["Noise multiplier"] = params.initial_noise_multiplier
    return values


def _number(text: str | None, fallback: float) -> float:
    try:
        return float(str(text).strip())
    except (TypeError, ValueError):
        return fallback


def img2img_params_from_infotext(text: str, base: Img2ImgParams | None = None,
                                 samplers: SamplerTable = CORE_TABLE) -> Img2ImgParams:
    """Img2ImgParams from an infotext: the shared fields as txt2img reads them, plus img2img's keys.

    Init images and the mask come from base (an infotext does not carry them). Not validated.
    """
    from modules.generation.infotext import params_from_infotext, parse_infotext

    base = base or Img2ImgParams()
    params = params_from_infotext(text, base, samplers)
    info = parse_infotext(text)
    blur = _number(info.get("Mask blur"), base.mask_blur_x)
    content = info.get("Masked content", MASKED_CONTENT[1]).strip()
    return replace(
        params,
        denoising_strength=_number(info.get("Denoising strength"), base.denoising_strength),
        mask_blur_x=int(_number(info.get("Mask blur x"), blur)),
        mask_blur_y=int(_number(info.get("Mask blur y"), blur)),
        inpainting_mask_invert=info.get("Mask mode", "").strip() == NOT_MASKED,
        inpaint_full_res=info.get("Inpaint area", "").strip() == ONLY_MASKED,
        inpaint_full_res_padding=int(_number(info.get("Masked area padding"), DEFAULT_PADDING)),
        inpainting_fill=MASKED_CONTENT.index(content) if content in MASKED_CONTENT else base.inpainting_fill,
        initial_noise_multiplier=_number(info.get("Noise multiplier"), 1.0),
    )
