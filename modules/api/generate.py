"""POST /sdapi/v1/txt2img and /img2img: body → GenerationRequest → one job in the shared queue → A1111's answer.

This module only translates: the rules (infotext, option defaults, styles, overrides, the per-request
checkpoint and VAE, the size rule) are modules/generation/resolve.py's, the same as the web UI's and
the command line's. resolve.check runs them before the job is queued, so everything a request can get
wrong (bad base64, a broken image, a value out of range, an unknown style, sampler, checkpoint or VAE)
is a 4xx and never a stuck queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from modules.api.images import encode_png
from modules.generation.request import GenerationRequest, Outcome

if TYPE_CHECKING:
    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img
    from modules.api.schemas import ProcessingCommon, StableDiffusionProcessingTxt2Img
    from modules.app import App
    from modules.generation.params import GenerationParams
    from modules.jobs import Job, Progress

__all__ = ["Outcome", "cancelled_body", "info_json", "prepare", "prepare_img2img", "response_body", "submit",
           "to_request", "with_scripts"]


def prepare(app: App, req: StableDiffusionProcessingTxt2Img) -> GenerationRequest:
    """The checked GenerationRequest for a txt2img body (InvalidParams / ApiError naming the field otherwise)."""
    from modules.generation.hires import find_hires_upscaler
    from modules.generation.resolve import check

    req.check_supported()
    request = with_scripts(app, to_request(req, "txt2img", req.to_params()), req)
    resolved = check(app, request)
    if getattr(resolved.params, "enable_hr", False):  # a 422 now rather than a failed job
        find_hires_upscaler(app.registry, resolved.params.hr_upscaler)  # type: ignore[attr-defined]
    return request


def prepare_img2img(app: App, req: StableDiffusionProcessingImg2Img) -> GenerationRequest:
    """The checked GenerationRequest for an img2img body, its images decoded (ApiError naming the field
    otherwise). Their headers are read first: together they may hold MAX_REQUEST_PIXELS (413 before decoding)."""
    from modules.api.images import decode_images
    from modules.generation.resolve import check

    req.check_supported()
    texts = [(text, f"init_images[{i}]") for i, text in enumerate(req.init_images or [])]
    decoded = decode_images(texts + ([(req.mask, "mask")] if req.mask else []))
    images, mask = (decoded[:-1], decoded[-1]) if req.mask else (decoded, None)
    request = with_scripts(app, to_request(req, "img2img", req.to_img2img_params(images, mask)), req)
    check(app, request)
    return request


def with_scripts(app: App, request: GenerationRequest, req: ProcessingCommon) -> GenerationRequest:
    """request with the body's script_name/script_args and alwayson_scripts (InvalidParams, a 422, naming an
    unknown script or a bad argument). A body that names no script gets the one its `infotext` records."""
    from modules.scripts.select import script_run_with_infotext

    return replace(request, scripts=script_run_with_infotext(app, request.kind, req.script_name, req.script_args,
                                                             req.alwayson_scripts, req.infotext))


def to_request(req: ProcessingCommon, kind: str, params: GenerationParams) -> GenerationRequest:
    """The body's fields as a GenerationRequest (A1111's API defaults for what it leaves unset)."""
    overrides = dict(req.override_settings or {})
    checkpoint, vae = overrides.pop("sd_model_checkpoint", None), overrides.pop("sd_vae", None)
    return GenerationRequest(
        kind=kind, params=params, explicit=req.explicit_fields(), door_defaults=req.door_fields(),
        styles=tuple(req.styles or ()), infotext=req.infotext or None, options=overrides,
        checkpoint=str(checkpoint) if checkpoint else None, restore_checkpoint=req.override_settings_restore_afterwards,
        vae=str(vae) if vae else None, size_from_model=not ({"width", "height"} & req.model_fields_set),
        save_images=req.save_images and not req.do_not_save_samples,
        save_grid=req.save_images and not req.do_not_save_grid, job_id=req.force_task_id)


def submit(app: App, req: ProcessingCommon, request: GenerationRequest, owner: str) -> Job[Outcome]:
    """Queue the request as owner's job. A1111 answers with a batch's grid only when save_images is true and
    return_grid (option or override) is on: otherwise the grid is dropped as soon as the job ends."""
    from modules.generation.resolve import run

    request = replace(request, owner=owner)
    stamp = time.strftime("%Y%m%d%H%M%S")

    def work(progress: Progress) -> Outcome:
        outcome = run(app, request, progress, stamp)
        if not (req.save_images and outcome.options.get("return_grid", app.options.get("return_grid", True))):
            outcome.result.grid = None
        return outcome

    return app.jobs.submit(request.kind, work, owner=owner, job_id=request.job_id)


def info_json(outcome: Outcome, req: ProcessingCommon) -> str:
    """The "info" string: A1111's Processed.js() keys, for the images in the answer (with a grid first:
    index_of_first_image 1 and the grid's infotext first, as A1111)."""
    from modules.generation.hires import hires_infotext
    from modules.generation.infotext import APP_VERSION, schedule_label
    from modules.generation.params import Txt2ImgParams

    result, params, model = outcome.result, outcome.params, outcome.model
    extra: dict[str, object] = {"Schedule type": schedule_label(params.sampler_name,
                                                                result.scheduler or params.scheduler)}
    extra.update(outcome.task_infotext)
    if isinstance(params, Txt2ImgParams):
        extra.update(hires_infotext(params))
    denoising = extra.pop("Denoising strength", None)
    has_grid = result.grid is not None
    seeds = list(result.seeds)
    infotexts = ([result.infotexts[0]] if has_grid else []) + list(result.infotexts)
    count = len(seeds)
    info: dict[str, Any] = {
        "prompt": params.prompt,
        "all_prompts": [params.prompt] * count,
        "negative_prompt": params.negative_prompt,
        "all_negative_prompts": [params.negative_prompt] * count,
        "seed": seeds[0] if seeds else params.seed,
        "all_seeds": seeds,
        "subseed": result.subseeds[0] if result.subseeds else params.subseed,
        "all_subseeds": list(result.subseeds),
        "subseed_strength": params.subseed_strength,
        "width": params.width,
        "height": params.height,
        "sampler_name": params.sampler_name,
        "cfg_scale": params.cfg_scale,
        "steps": params.steps,
        "batch_size": params.batch_size,
        "restore_faces": False,
        "face_restoration_model": None,
        "sd_model_name": model.stem if model else None,
        "sd_model_hash": model.shorthash if model else None,
        "sd_vae_name": None,
        "sd_vae_hash": None,
        "seed_resize_from_w": params.seed_resize_from_w or -1,
        "seed_resize_from_h": params.seed_resize_from_h or -1,
        "denoising_strength": denoising,
        "extra_generation_params": extra,
        "index_of_first_image": 1 if has_grid else 0,
        "infotexts": infotexts,
        "styles": list(req.styles or []),
        "job_timestamp": outcome.job_timestamp,
        "clip_skip": params.clip_skip,
        "is_using_inpainting_conditioning": False,
        "version": APP_VERSION,
        "interrupted": result.interrupted,
        "warnings": list(result.warnings),  # not in A1111: images left out, and why
    }
    return json.dumps(info, ensure_ascii=False)


def response_body(outcome: Outcome, req: ProcessingCommon) -> dict[str, Any]:
    """{"images": [...], "parameters": {request}, "info": "<json>"}; the grid comes first when the job kept
    one for the answer (save_images with return_grid on, as in A1111; see submit)."""
    result = outcome.result
    images: list[str] | None = None
    if req.send_images:
        images = []
        if result.grid is not None and result.infotexts:
            images.append(encode_png(result.grid, result.infotexts[0]))
        images += [encode_png(image, text) for image, text in zip(result.images, result.infotexts, strict=True)]
    return {"images": images, "parameters": req.echo(), "info": info_json(outcome, req)}


def cancelled_body(app: App, req: ProcessingCommon, request: GenerationRequest) -> dict[str, Any]:
    """The answer for a job interrupted while it waited: no images, and info saying so (with the size
    the job would have drawn)."""
    from modules.errors import UserError
    from modules.generation.resolve import resolve, size_it_would_have

    try:
        params = size_it_would_have(app, resolve(app, request))
    except UserError:  # something changed since it was checked (a style removed): the size is moot
        params = request.params
    info = {"prompt": params.prompt, "all_prompts": [], "all_seeds": [], "infotexts": [], "interrupted": True,
            "seed": params.seed, "width": params.width, "height": params.height}
    return {"images": [] if req.send_images else None, "parameters": req.echo(), "info": json.dumps(info)}
