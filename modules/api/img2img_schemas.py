"""POST /sdapi/v1/img2img's request and response bodies: A1111's StableDiffusionImg2ImgProcessingAPI.

The shared fields come from ProcessingCommon (schemas.py); these are img2img's own, with A1111's
API defaults, which differ from its UI's: inpainting_fill 0 (fill), inpaint_full_res true (Only
masked), inpaint_full_res_padding 0. Images are base64 only (a data: URI prefix is fine); URLs and
file paths are refused as bad base64. IMG2IMG_FIELDS maps request fields onto Img2ImgParams and is
checked against it by a test.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from modules.api.schemas import UNSUPPORTED_COMMON, ApiModel, ProcessingCommon
from modules.generation.params import Img2ImgParams

if TYPE_CHECKING:
    from PIL import Image

MAX_INIT_IMAGES = 16

# request field -> Img2ImgParams field (mask_blur, when given, sets both blur fields; images are decoded apart)
IMG2IMG_FIELDS: dict[str, str] = {
    "denoising_strength": "denoising_strength",
    "resize_mode": "resize_mode",
    "mask_blur_x": "mask_blur_x",
    "mask_blur_y": "mask_blur_y",
    "mask_round": "mask_round",
    "inpainting_fill": "inpainting_fill",
    "inpaint_full_res": "inpaint_full_res",
    "inpaint_full_res_padding": "inpaint_full_res_padding",
    "inpainting_mask_invert": "inpainting_mask_invert",
}
IMAGE_FIELDS: dict[str, str] = {"init_images": "init_images", "mask": "mask"}


class StableDiffusionProcessingImg2Img(ProcessingCommon):
    unsupported: ClassVar[tuple[tuple[str, Any], ...]] = (*UNSUPPORTED_COMMON, ("latent_mask", (None, "")))

    init_images: list[str] | None = Field(default=None, max_length=MAX_INIT_IMAGES,
                                          description="base64 images (a data: URI is accepted)")
    resize_mode: int = 0
    image_cfg_scale: float | None = None  # instruct-pix2pix only; ignored, as A1111 does for other models
    mask: str | None = Field(default=None, description="base64 greyscale mask, white = repaint")
    mask_blur_x: int = 4
    mask_blur_y: int = 4
    mask_blur: int | None = None
    mask_round: bool = True
    inpainting_fill: int = 0
    inpaint_full_res: bool = True
    inpaint_full_res_padding: int = 0
    inpainting_mask_invert: int = 0
    initial_noise_multiplier: float | None = None
    latent_mask: str | None = None
    include_init_images: bool = Field(default=False, exclude=True)

    def to_img2img_params(self, images: list[Image.Image], mask: Image.Image | None) -> Img2ImgParams:
        """Img2ImgParams for this request with its decoded images (A1111's API defaults for what it leaves
        unset; not validated). The infotext and the other request rules apply later (resolve.py)."""
        base = self.to_params(Img2ImgParams())
        values: dict[str, Any] = {target: getattr(self, source) for source, target in IMG2IMG_FIELDS.items()}
        if self.mask_blur is not None:
            values["mask_blur_x"] = values["mask_blur_y"] = self.mask_blur
        values["inpainting_mask_invert"] = bool(self.inpainting_mask_invert)
        if self.initial_noise_multiplier is not None:
            values["initial_noise_multiplier"] = self.initial_noise_multiplier
        return replace(base, **values, init_images=tuple(images), mask=mask)

    def explicit_fields(self) -> frozenset[str]:
        explicit = {target for source, target in IMG2IMG_FIELDS.items() if source in self.model_fields_set}
        if "mask_blur" in self.model_fields_set:
            explicit |= {"mask_blur_x", "mask_blur_y"}
        if self.initial_noise_multiplier is not None:
            explicit.add("initial_noise_multiplier")
        return super().explicit_fields() | explicit

    def door_fields(self) -> frozenset[str]:
        return super().door_fields() | frozenset(IMG2IMG_FIELDS.values())

    def echo(self) -> dict[str, Any]:
        """The request as the response's "parameters": init_images and mask only with include_init_images."""
        body = self.model_dump()
        if not self.include_init_images:
            body["init_images"] = None
            body["mask"] = None
        return body


class ImageToImageResponse(ApiModel):
    images: list[str] | None = Field(default=None, description="base64 PNGs; a batch's grid first only with "
                                     "save_images and the return_grid option on (as A1111)")
    parameters: dict[str, Any]
    info: str
