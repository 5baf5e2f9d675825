"""POST /sdapi/v1/txt2img: request → checks → one job in the shared queue → A1111's response body."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.api.images import ApiError, encode_png
from modules.messages import msg

if TYPE_CHECKING:
    from modules.api.schemas import StableDiffusionProcessingTxt2Img
    from modules.app import App
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import GenerationResult
    from modules.jobs import Job, Progress
    from modules.model_manager.folders import CheckpointInfo

log = logging.getLogger(__name__)

@dataclass
class Txt2ImgOutcome:
    result: GenerationResult
    params: Txt2ImgParams
    model: CheckpointInfo | None
    job_timestamp: str


def prepare(app: App, req: StableDiffusionProcessingTxt2Img) -> Txt2ImgParams:
    """Validated Txt2ImgParams for the request (InvalidParams / ApiError naming the field otherwise)."""
    from modules.api.lists import apply_styles

    req.check_supported()
    params = req.to_params(app.options.param_defaults())
    prompt, negative = apply_styles(app, params.prompt, params.negative_prompt, req.styles or [])
    params = replace(params, prompt=prompt, negative_prompt=negative)
    params.validate()
    checkpoint = req.checkpoint_override()
    if checkpoint and app.folders.find_checkpoint(checkpoint) is None:
        raise ApiError(msg("checkpoint_not_found", name=checkpoint[:200]), status=404)
    return params


def submit(app: App, req: StableDiffusionProcessingTxt2Img, params: Txt2ImgParams, owner: str) -> Job[Txt2ImgOutcome]:
    """Queue the generation; a checkpoint override is loaded inside the job (and put back after)."""
    from modules.generation import txt2img as txt2img_module

    checkpoint = req.checkpoint_override()
    restore = req.override_settings_restore_afterwards
    save_images = req.save_images and not req.do_not_save_samples
    save_grid = req.save_images and not req.do_not_save_grid
    stamp = time.strftime("%Y%m%d%H%M%S")

    def work(progress: Progress) -> Txt2ImgOutcome:
        previous = app.models.current_info
        if checkpoint:
            app.models.load(checkpoint)
        try:
            result = txt2img_module.txt2img(app, params, progress, save_images=save_images, save_grid=save_grid)
            return Txt2ImgOutcome(result, params, app.models.current_info, stamp)
        finally:
            if checkpoint and restore and previous is not None and app.models.current_info != previous:
                try:
                    app.models.load(previous.title)
                except Exception:  # noqa: BLE001 - the images are done; the new model stays loaded
                    log.exception("could not put checkpoint %s back", previous.title)

    return app.jobs.submit("txt2img", work, owner=owner, job_id=req.force_task_id)


def info_json(outcome: Txt2ImgOutcome, req: StableDiffusionProcessingTxt2Img) -> str:
    """The "info" string: A1111's Processed.js() keys, for the images actually made."""
    from modules.generation.infotext import APP_VERSION, schedule_label

    result, params, model = outcome.result, outcome.params, outcome.model
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
        "subseed": -1,
        "all_subseeds": [-1] * count,
        "subseed_strength": 0,
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
        "seed_resize_from_w": -1,
        "seed_resize_from_h": -1,
        "denoising_strength": None,
        "extra_generation_params": {"Schedule type": schedule_label(params.sampler_name, params.scheduler)},
        "index_of_first_image": 1 if has_grid else 0,
        "infotexts": infotexts,
        "styles": list(req.styles or []),
        "job_timestamp": outcome.job_timestamp,
        "clip_skip": params.clip_skip,
        "is_using_inpainting_conditioning": False,
        "version": APP_VERSION,
        "interrupted": result.interrupted,
    }
    return json.dumps(info, ensure_ascii=False)


def response_body(outcome: Txt2ImgOutcome, req: StableDiffusionProcessingTxt2Img) -> dict[str, Any]:
    """{"images": [...], "parameters": {request}, "info": "<json>"}; the grid comes first when there is one."""
    result = outcome.result
    images: list[str] | None = None
    if req.send_images:
        images = []
        if result.grid is not None and result.infotexts:
            images.append(encode_png(result.grid, result.infotexts[0]))
        images += [encode_png(image, text) for image, text in zip(result.images, result.infotexts, strict=True)]
    return {"images": images, "parameters": req.model_dump(), "info": info_json(outcome, req)}


def cancelled_body(req: StableDiffusionProcessingTxt2Img, params: Txt2ImgParams) -> dict[str, Any]:
    """The answer for a job interrupted while it waited: no images, and info saying so."""
    info = {"prompt": params.prompt, "all_prompts": [], "all_seeds": [], "infotexts": [], "interrupted": True,
            "seed": params.seed, "width": params.width, "height": params.height}
    return {"images": [] if req.send_images else None, "parameters": req.model_dump(), "info": json.dumps(info)}
