"""POST /sdapi/v1/txt2img and /img2img: request → checks → one job in the shared queue → A1111's response body.

Everything a request can get wrong (bad base64, a broken image, a value out of range, an unknown
sampler or checkpoint) is found here before the job is queued, so it is a 4xx and never a stuck queue.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from modules.api.images import ApiError, encode_png
from modules.messages import msg

if TYPE_CHECKING:
    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img
    from modules.api.schemas import ProcessingCommon, StableDiffusionProcessingTxt2Img
    from modules.app import App
    from modules.generation.params import GenerationParams, Img2ImgParams, Txt2ImgParams
    from modules.generation.txt2img import GenerationResult
    from modules.jobs import Job, Progress
    from modules.model_manager.folders import CheckpointInfo
    from modules.model_manager.loaded_model import LoadedModel

log = logging.getLogger(__name__)
P = TypeVar("P", bound="GenerationParams")


@dataclass
class Outcome:
    """What a finished job hands to the request that waits for it. params hold no images (init images and
    mask are dropped as soon as the generation ends), so nothing decoded outlives the answer."""

    result: GenerationResult
    params: GenerationParams
    model: CheckpointInfo | None
    job_timestamp: str
    task_infotext: dict[str, object] = field(default_factory=dict)  # img2img's keys, read while params had them


Txt2ImgOutcome = Outcome  # the name used before img2img shared it


def prepare(app: App, req: StableDiffusionProcessingTxt2Img) -> Txt2ImgParams:
    """Validated Txt2ImgParams for the request (InvalidParams / ApiError naming the field otherwise)."""
    req.check_supported()
    return _checked(app, req, req.to_params(app.options.param_defaults()))


def prepare_img2img(app: App, req: StableDiffusionProcessingImg2Img) -> Img2ImgParams:
    """Validated Img2ImgParams with the request's images decoded (ApiError naming the field otherwise).
    Their headers are read first: together they may hold MAX_REQUEST_PIXELS (413 before any decoding)."""
    from modules.api.images import decode_images

    req.check_supported()
    texts = [(text, f"init_images[{i}]") for i, text in enumerate(req.init_images or [])]
    decoded = decode_images(texts + ([(req.mask, "mask")] if req.mask else []))
    images, mask = (decoded[:-1], decoded[-1]) if req.mask else (decoded, None)
    return _checked(app, req, req.to_img2img_params(images, mask, app.options.param_defaults()))


def _checked(app: App, req: ProcessingCommon, params: P) -> P:
    """params with the request's styles applied, validated, and its checkpoint and VAE overrides known.
    A prompt taken from `infotext` gets its <lora:…> tags pointed at local files by the recorded hashes."""
    from modules.api.lists import apply_styles
    from modules.networks.vae import AUTOMATIC, NONE

    if req.infotext and "prompt" not in req.model_fields_set:
        params = replace(params, prompt=_loras_by_hash(app, req.infotext, params.prompt))
    prompt, negative = apply_styles(app, params.prompt, params.negative_prompt, req.styles or [])
    params = replace(params, prompt=prompt, negative_prompt=negative)
    params.validate()
    for key, value in req.run_options().items():
        app.options.check(key, value)  # InvalidParams naming the option and its choices
    checkpoint = req.checkpoint_override()
    if checkpoint and app.folders.find_checkpoint(checkpoint) is None:
        raise ApiError(msg("checkpoint_not_found", name=checkpoint[:200]), status=404)
    vae = req.vae_override()
    if vae and vae not in (AUTOMATIC, NONE) and app.networks.vaes.find(vae) is None:
        raise ApiError(msg("api_vae_not_found", name=vae[:200]), status=404)
    return params


def _loras_by_hash(app: App, infotext: str, prompt: str) -> str:
    from modules.generation.infotext import parse_infotext
    from modules.networks.lora import rename_by_hashes

    hashes = parse_infotext(infotext).get("Lora hashes")
    return rename_by_hashes(prompt, hashes, app.networks.loras) if hashes else prompt


def vae_for(app: App, req: ProcessingCommon) -> str | None:
    """The VAE this request runs with: override_settings' sd_vae, else the infotext's VAE when that file
    is here (as A1111 turns an infotext's 'VAE' into an override), else None (the selected one)."""
    chosen = req.vae_override()
    if chosen:
        return chosen
    return app.networks.vaes.choice_from_infotext(req.infotext) if req.infotext else None


def submit(app: App, req: ProcessingCommon, params: GenerationParams, owner: str) -> Job[Outcome]:
    """Queue the generation (img2img for Img2ImgParams, else txt2img); a checkpoint override is loaded
    inside the job (and put back after)."""
    from modules.generation import img2img as img2img_module
    from modules.generation import txt2img as txt2img_module
    from modules.generation.params import Img2ImgParams

    kind = "img2img" if isinstance(params, Img2ImgParams) else "txt2img"
    size_from_model = req.leaves_size_to_model()

    checkpoint = req.checkpoint_override()
    vae = vae_for(app, req)
    options = req.run_options()
    restore = req.override_settings_restore_afterwards
    save_images = req.save_images and not req.do_not_save_samples
    save_grid = req.save_images and not req.do_not_save_grid
    stamp = time.strftime("%Y%m%d%H%M%S")

    def work(progress: Progress) -> Outcome:
        previous = app.models.current_info
        previous_vae = app.networks.vaes.selected
        if checkpoint:
            app.models.load(checkpoint)
        if vae:
            app.networks.vaes.select(vae)  # applied to the model when the generation starts
        try:
            sized = model_sized(params, app.models.current) if size_from_model else params
            run = img2img_module.img2img if kind == "img2img" else txt2img_module.txt2img  # looked up now: tests patch them
            result = run(app, sized, progress, save_images=save_images, save_grid=save_grid,  # type: ignore[arg-type]
                         options=options)
            # A1111: no grid in the answer unless save_images is true and return_grid (option or override) is on
            if not (req.save_images and options.get("return_grid", app.options.get("return_grid", True))):
                result.grid = None
            kept, task_infotext = _without_images(sized)
            return Outcome(result, kept, app.models.current_info, stamp, task_infotext)
        finally:
            if vae and restore:
                app.networks.vaes.selected = previous_vae  # the next job applies it again
            if checkpoint and restore and previous is not None and app.models.current_info != previous:
                try:
                    app.models.load(previous.title)
                except Exception:  # noqa: BLE001 - the images are done; the new model stays loaded
                    log.exception("could not put checkpoint %s back", previous.title)

    return app.jobs.submit(kind, work, owner=owner, job_id=req.force_task_id)


def _without_images(params: GenerationParams) -> tuple[GenerationParams, dict[str, object]]:
    """(params without init images and mask, img2img's infotext keys read before they went): what the answer
    needs, so that the decoded images are freed when the job ends, whatever happens to its outcome."""
    from modules.generation.img2img_infotext import img2img_infotext
    from modules.generation.params import Img2ImgParams

    if not isinstance(params, Img2ImgParams):
        return params, {}
    return replace(params, init_images=(), mask=None), img2img_infotext(params)


def model_sized(params: P, model: LoadedModel | None) -> P:
    """params drawn at the model's declared size (safetensors 'modelspec.resolution': 64x64 for the demo
    model), for a request that names no size; A1111's 512x512 default when the model declares none."""
    return _sized(params, model.declared_size if model is not None else None)


def _sized(params: P, size: tuple[int, int] | None) -> P:
    if size is None or size == (params.width, params.height):
        return params
    sized = replace(params, width=size[0], height=size[1])
    sized.validate()
    return sized


def size_it_would_have(app: App, req: ProcessingCommon, params: P) -> P:
    """For a job cancelled before it ran: params at the size the job would have drawn, which for a
    request that names no size is the declared size of the checkpoint it would have run on (its
    override's, read from the file's metadata, else the loaded one's)."""
    from modules.errors import CheckpointLoadError
    from modules.model_manager.checkpoint_files import read_safetensors_metadata
    from modules.model_manager.loaded_model import size_from_metadata

    if not req.leaves_size_to_model():
        return params
    override = req.checkpoint_override()
    info = app.models.folders.find_checkpoint(override) if override else None
    if info is None or info == app.models.current_info:
        return model_sized(params, app.models.current)
    try:
        metadata = read_safetensors_metadata(info.path) if info.path.suffix == ".safetensors" else {}
    except CheckpointLoadError as e:  # the job would have failed to load it; the size is moot
        log.debug("no metadata in %s: %s", info.path, e)
        metadata = {}
    return _sized(params, size_from_metadata(metadata))


def info_json(outcome: Outcome, req: ProcessingCommon) -> str:
    """The "info" string: A1111's Processed.js() keys, for the images in the answer (with a grid first:
    index_of_first_image 1 and the grid's infotext first, as A1111)."""
    from modules.generation.infotext import APP_VERSION, schedule_label

    result, params, model = outcome.result, outcome.params, outcome.model
    extra: dict[str, object] = {"Schedule type": schedule_label(params.sampler_name,
                                                                result.scheduler or params.scheduler)}
    extra.update(outcome.task_infotext)
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


def cancelled_body(app: App, req: ProcessingCommon, params: GenerationParams) -> dict[str, Any]:
    """The answer for a job interrupted while it waited: no images, and info saying so (with the size
    the job would have drawn)."""
    params = size_it_would_have(app, req, params)
    info = {"prompt": params.prompt, "all_prompts": [], "all_seeds": [], "infotexts": [], "interrupted": True,
            "seed": params.seed, "width": params.width, "height": params.height}
    return {"images": [] if req.send_images else None, "parameters": req.echo(), "info": json.dumps(info)}
