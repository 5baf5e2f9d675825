"""POST /sdapi/v1/extra-single-image and /extra-batch-images (A1111's request and response fields): the
body → ExtrasRun → one job in the shared queue → the upscaled images as base64 PNG.

Face restoration (gfpgan_visibility, codeformer_visibility) is not part of this program: a request that
asks for it is refused with a message rather than answered without it. As in A1111, the API does not
save the images (the Extras tab does).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from modules.api.schemas import ApiModel

if TYPE_CHECKING:
    from modules.app import App
    from modules.extras.run import ExtrasResult, ExtrasRun
    from modules.jobs import Job
    from modules.registry import Registry

WAIT_POLL_S = 0.05


class ExtrasBaseRequest(ApiModel):
    resize_mode: Literal[0, 1] = Field(0, description="0: scale by upscaling_resize; 1: to upscaling_resize_w x _h")
    show_extras_results: bool = Field(True, description="Return the images")
    gfpgan_visibility: float = Field(0, ge=0, le=1, description="Not supported here (must be 0)")
    codeformer_visibility: float = Field(0, ge=0, le=1, description="Not supported here (must be 0)")
    codeformer_weight: float = Field(0, ge=0, le=1)
    upscaling_resize: float = Field(2, ge=1, le=8, description="Scale by")
    upscaling_resize_w: int = Field(512, ge=1, description="Target width (resize_mode 1)")
    upscaling_resize_h: int = Field(512, ge=1, description="Target height (resize_mode 1)")
    upscaling_crop: bool = Field(True, description="Crop to fit (resize_mode 1)")
    upscaler_1: str = Field("None", description="GET /sdapi/v1/upscalers lists the names")
    upscaler_2: str = Field("None", description="Blended over upscaler_1 by extras_upscaler_2_visibility")
    extras_upscaler_2_visibility: float = Field(0, ge=0, le=1)
    upscale_first: bool = Field(False, description="Upscale before face restoration (no effect here)")

    def to_params(self) -> Any:
        from modules.extras.params import ExtrasParams

        return ExtrasParams(resize_mode=self.resize_mode, upscaling_resize=self.upscaling_resize,
                            upscaling_resize_w=self.upscaling_resize_w, upscaling_resize_h=self.upscaling_resize_h,
                            upscaling_crop=self.upscaling_crop, upscaler_1=self.upscaler_1,
                            upscaler_2=self.upscaler_2,
                            extras_upscaler_2_visibility=self.extras_upscaler_2_visibility)

    def check_supported(self) -> None:
        from modules.api.images import ApiError
        from modules.messages import msg

        if self.gfpgan_visibility > 0 or self.codeformer_visibility > 0:
            raise ApiError(msg("extras_no_face_restoration"))


class ExtrasSingleImageRequest(ExtrasBaseRequest):
    image: str = Field("", description="The image, base64 (or a data: URI)")


class FileData(ApiModel):
    data: str = Field(description="Base64 of the file")
    name: str = Field("", description="File name")


class ExtrasBatchImagesRequest(ExtrasBaseRequest):
    imageList: list[FileData] = Field(default_factory=list, description="The images")  # noqa: N815 - A1111's name


class ExtrasSingleImageResponse(ApiModel):
    html_info: str = Field("", description="What was done")
    image: str = Field("", description="The result, base64 PNG")


class ExtrasBatchImagesResponse(ApiModel):
    html_info: str = Field("", description="What was done")
    images: list[str] = Field(default_factory=list, description="The results, base64 PNG")


def single_run(req: ExtrasSingleImageRequest) -> ExtrasRun:
    from modules.api.images import decode_image
    from modules.extras.run import ExtrasRun, NamedImage

    req.check_supported()
    images = (NamedImage("", decode_image(req.image, "image")),) if req.image else ()
    return ExtrasRun(req.to_params(), images=images, save=False)


def batch_run(req: ExtrasBatchImagesRequest) -> ExtrasRun:
    from modules.api.images import decode_images
    from modules.extras.run import ExtrasRun, NamedImage

    req.check_supported()
    decoded = decode_images([(f.data, f"imageList[{i}]") for i, f in enumerate(req.imageList)])
    return ExtrasRun(req.to_params(), images=tuple(NamedImage(f.name, image) for f, image in
                                                   zip(req.imageList, decoded, strict=True)), save=False)


def encoded(result: ExtrasResult, show: bool) -> list[str]:
    from modules.api.images import encode_png

    return [encode_png(image, None) for image in result.images] if show else []


def extras_router(app: App) -> APIRouter:
    from modules.api.auth import parse_credentials
    from modules.api.routes import owner_dependency
    from modules.extras.run import submit_extras

    router = APIRouter()
    # the caller's owner key, as the core routes name it (the API's auth check itself runs before this)
    caller = owner_dependency(parse_credentials(app.settings.api_auth) if app.settings.api_auth else [])

    async def run(extras: ExtrasRun, owner: str) -> ExtrasResult:
        job: Job[ExtrasResult] = await run_in_threadpool(submit_extras, app, extras, owner)
        try:
            while not job.wait(0):
                await asyncio.sleep(WAIT_POLL_S)
            return job.take()
        finally:
            job.release()

    @router.post("/extra-single-image", response_model=ExtrasSingleImageResponse, tags=["postprocessing"])
    async def extra_single_image(req: ExtrasSingleImageRequest, owner: str = Depends(caller)) -> dict[str, Any]:
        result = await run(await run_in_threadpool(single_run, req), owner)
        images = await run_in_threadpool(encoded, result, req.show_extras_results)
        return {"html_info": result.infotexts[0] if result.infotexts else result.message,
                "image": images[0] if images else ""}

    @router.post("/extra-batch-images", response_model=ExtrasBatchImagesResponse, tags=["postprocessing"])
    async def extra_batch_images(req: ExtrasBatchImagesRequest, owner: str = Depends(caller)) -> dict[str, Any]:
        result = await run(await run_in_threadpool(batch_run, req), owner)
        images = await run_in_threadpool(encoded, result, req.show_extras_results)
        return {"html_info": result.infotexts[0] if result.infotexts else result.message, "images": images}

    return router


def _router(app: App) -> APIRouter:
    return extras_router(app)


def register_extras_routes(registry: Registry) -> None:
    registry.api_routes.register("extras", _router)
