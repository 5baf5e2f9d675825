"""create_api(app): the /sdapi/v1 routes as one APIRouter. Every route is a closure over app.

Who is asking: with --api-auth, the HTTP Basic user name; without it, all API callers are one user.
Jobs carry that owner, so /progress, /interrupt and /skip act on the caller's own jobs only and never
on a UI session's job (see modules/jobs.py). /progress?id_task=... looks at one of the caller's jobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from modules.api import lists
from modules.api.auth import Credentials, basic_auth_user
from modules.api.images import ApiError, decode_image, encode_png
from modules.api.img2img_schemas import ImageToImageResponse, StableDiffusionProcessingImg2Img
from modules.api.schemas import (
    EmbeddingsResponse,
    HypernetworkItem,
    LoraItem,
    MemoryResponse,
    PNGInfoRequest,
    PNGInfoResponse,
    ProgressResponse,
    PromptStyleItem,
    SamplerItem,
    SchedulerItem,
    SDModelItem,
    SDVaeItem,
    StableDiffusionProcessingTxt2Img,
    TextToImageResponse,
    UpscalerItem,
)
from modules.app import App
from modules.errors import JobCancelled, UserError
from modules.generation.preview import live_preview
from modules.jobs import Job
from modules.messages import msg
from modules.option_specs import locked_changes

log = logging.getLogger(__name__)

PREFIX = "/sdapi/v1"
API_OWNER = "api:"
WAIT_POLL_S = 0.05
MAX_WAITING_SWITCHES = 4  # checkpoint switches (POST /options) that may wait for the queue at once


def owner_dependency(pairs: Credentials) -> Any:
    """FastAPI dependency: the caller's owner key; 401 without valid credentials when pairs are set."""

    def caller(request: Request) -> str:
        if not pairs:
            return API_OWNER
        user = basic_auth_user(request, pairs)
        if user is None:
            raise HTTPException(401, detail=msg("api_auth_required"), headers={"WWW-Authenticate": "Basic"})
        return API_OWNER + user

    return caller


def progress_body(app: App, job: Job[Any] | None, with_image: bool) -> dict[str, Any]:
    """A1111's progress shape for one job (or the idle shape), plus id_task/status/queue_position in state."""
    if job is None:
        return {"progress": 0.0, "eta_relative": 0.0, "state": {}, "current_image": None, "textinfo": None}
    p = job.progress
    position = app.jobs.position(job)
    state = {
        "skipped": p.skipped, "interrupted": p.interrupted, "stopping_generation": False,
        "job": job.name if not job.done else "", "job_count": p.batches,
        "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.localtime(job.submitted)),
        "job_no": p.batch, "sampling_step": p.step, "sampling_steps": p.total_steps, "id_task": job.id,
        "status": job.state, "queue_position": position,
    }
    if job.state == "queued":
        return {"progress": 0.0, "eta_relative": 0.0, "state": state, "current_image": None,
                "textinfo": msg("waiting_for_job", ahead=position)}
    if job.done:
        return {"progress": 1.0 if job.state == "done" else 0.0, "eta_relative": 0.0, "state": state,
                "current_image": None, "textinfo": None}
    image = live_preview(p, app.options) if with_image else None
    preview = encode_png(image, None) if image is not None else None
    return {"progress": p.fraction(), "eta_relative": p.eta(), "state": state, "current_image": preview,
            "textinfo": p.text() if p.total_steps else msg("starting_job")}


def create_api(app: App, pairs: Credentials | None = None) -> APIRouter:
    """The router (prefix /sdapi/v1); pairs: --api-auth credentials (None or [] = open)."""
    from modules.api import generate

    caller = owner_dependency(pairs or [])
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(caller)])

    async def run_generation(req: Any, request: Any, owner: str) -> dict[str, Any]:
        # waiting is async, so any number of queued requests holds no worker thread
        job = generate.submit(app, req, request, owner)
        try:
            while not job.wait(0):
                await asyncio.sleep(WAIT_POLL_S)
            outcome = job.take()  # the finished job, still listed for /progress, keeps no images
        except JobCancelled:
            return await run_in_threadpool(generate.cancelled_body, app, req, request)  # reads files
        finally:
            job.release()  # the request went away while waiting: its images are dropped when the job ends
        return await run_in_threadpool(generate.response_body, outcome, req)

    @router.post("/txt2img", response_model=TextToImageResponse, tags=["generation"])
    async def txt2img(req: StableDiffusionProcessingTxt2Img, owner: str = Depends(caller)) -> dict[str, Any]:
        params = await run_in_threadpool(generate.prepare, app, req)
        return await run_generation(req, params, owner)

    @router.post("/img2img", response_model=ImageToImageResponse, tags=["generation"])
    async def img2img(req: StableDiffusionProcessingImg2Img, owner: str = Depends(caller)) -> dict[str, Any]:
        params = await run_in_threadpool(generate.prepare_img2img, app, req)  # decodes the images
        return await run_generation(req, params, owner)

    @router.get("/progress", response_model=ProgressResponse, tags=["generation"])
    def progress(skip_current_image: bool = False, id_task: str | None = None,
                 owner: str = Depends(caller)) -> dict[str, Any]:
        if id_task is not None:
            job = app.jobs.get(id_task)
            if job is None or job.owner != owner:
                raise ApiError(msg("api_unknown_task", id=id_task[:64]), status=404)
        else:
            mine = app.jobs.jobs(owner)
            job = mine[0] if mine else None
        return progress_body(app, job, not skip_current_image)

    @router.post("/interrupt", tags=["generation"])
    def interrupt(id_task: str | None = None, owner: str = Depends(caller)) -> dict[str, Any]:
        app.jobs.interrupt(job_id=id_task, owner=owner)
        return {}

    @router.post("/skip", tags=["generation"])
    def skip(id_task: str | None = None, owner: str = Depends(caller)) -> dict[str, Any]:
        app.jobs.skip(job_id=id_task, owner=owner)
        return {}

    @router.get("/options", tags=["options"])
    def get_options() -> dict[str, Any]:
        info = app.models.current_info
        return {**app.options.as_dict(), "sd_model_checkpoint": info.title if info else None,
                "sd_checkpoint_hash": info.sha256 if info else None, "sd_vae": app.networks.vaes.selected}

    @router.get("/cmd-flags", tags=["options"])
    def get_cmd_flags() -> dict[str, Any]:
        from modules.api.cmd_flags import cmd_flags

        return cmd_flags(app.settings)

    switch_slots: list[object] = []  # one token per checkpoint switch of /options being checked or waiting

    def check_options(values: dict[str, Any]) -> dict[str, Any]:
        """Runs on a worker thread: checks the checkpoint name and option values, selects the VAE;
        returns the options to store."""
        locked = locked_changes(app, values)  # folders and file names, on a shared server
        if locked:
            raise ApiError(msg("option_locked", keys=", ".join(locked)), status=403)
        checkpoint = values.get("sd_model_checkpoint")
        if checkpoint is not None and (not isinstance(checkpoint, str) or app.folders.find_checkpoint(checkpoint) is None):
            raise ApiError(msg("checkpoint_not_found", name=str(checkpoint)[:200]), status=404)
        vae = values.get("sd_vae")
        if vae is not None:
            try:
                app.select_vae(str(vae))
            except UserError as e:
                raise ApiError(str(e), status=404) from None
        rest = {k: v for k, v in values.items() if k not in ("sd_model_checkpoint", "sd_checkpoint_hash", "sd_vae")}
        for key, value in rest.items():
            app.options.check(key, value)
        return rest

    @router.post("/options", tags=["options"])
    async def set_options(values: dict[str, Any] = Body(...), owner: str = Depends(caller)) -> None:  # noqa: B008
        # A checkpoint switch is a queued job, awaited without holding a worker thread (as run_generation
        # does), so switches waiting behind a long job never starve /progress, /interrupt or the page; at
        # most MAX_WAITING_SWITCHES wait at once, a further one gets a 429 before anything changes. A client
        # that goes away does not cancel its switch: the job is queued and runs (A1111 switches in the request).
        checkpoint = values.get("sd_model_checkpoint")
        if not checkpoint:
            rest = await run_in_threadpool(check_options, values)
        else:
            if len(switch_slots) >= MAX_WAITING_SWITCHES:
                raise ApiError(msg("checkpoint_switch_busy", count=len(switch_slots)), status=429)
            token = object()
            switch_slots.append(token)
            try:
                rest = await run_in_threadpool(check_options, values)
                job = app.jobs.submit("load-checkpoint", lambda _p: app.load_checkpoint(checkpoint), owner=owner)
                while not job.wait(0):
                    await asyncio.sleep(WAIT_POLL_S)
            finally:
                switch_slots.remove(token)
            job.result()  # the load's error (422) or JobCancelled (409) when interrupted while waiting
        unknown = await run_in_threadpool(app.options.update, rest)
        if unknown:
            log.info("options not used by this version, ignored: %s", ", ".join(sorted(unknown)[:20]))
        return None

    @router.get("/sd-models", response_model=list[SDModelItem], tags=["models"])
    def sd_models() -> list[dict[str, Any]]:
        return lists.sd_models(app)

    @router.get("/sd-vae", response_model=list[SDVaeItem], tags=["models"])
    def sd_vae() -> list[dict[str, Any]]:
        return lists.sd_vaes(app)

    @router.get("/samplers", response_model=list[SamplerItem], tags=["models"])
    def samplers() -> list[dict[str, Any]]:
        return lists.samplers(app)

    @router.get("/schedulers", response_model=list[SchedulerItem], tags=["models"])
    def schedulers() -> list[dict[str, Any]]:
        return lists.schedulers(app)

    @router.get("/upscalers", response_model=list[UpscalerItem], tags=["models"])
    def upscalers() -> list[dict[str, Any]]:
        return lists.upscalers(app)

    @router.get("/loras", response_model=list[LoraItem], tags=["models"])
    def loras() -> list[dict[str, Any]]:
        return lists.network_items(app, "lora", refresh=True)

    @router.get("/extra-networks", tags=["models"])
    def extra_networks() -> list[dict[str, Any]]:
        return lists.extra_networks(app)

    @router.get("/embeddings", response_model=EmbeddingsResponse, tags=["models"])
    def embeddings() -> dict[str, Any]:
        return lists.embeddings(app)

    @router.get("/hypernetworks", response_model=list[HypernetworkItem], tags=["models"])
    def hypernetworks() -> list[dict[str, Any]]:
        return lists.network_items(app, "hypernetwork")

    @router.get("/prompt-styles", response_model=list[PromptStyleItem], tags=["models"])
    def prompt_styles() -> list[dict[str, Any]]:
        return lists.prompt_styles(app)

    @router.post("/refresh-checkpoints", tags=["models"])
    def refresh_checkpoints() -> None:
        app.refresh_models()

    @router.post("/refresh-loras", tags=["models"])
    def refresh_loras() -> None:
        app.networks.loras.refresh()

    @router.post("/refresh-vae", tags=["models"])
    def refresh_vae() -> None:
        return None  # the VAE list is read from the folder on every request

    @router.post("/refresh-embeddings", tags=["models"])
    def refresh_embeddings() -> None:
        app.networks.embeddings.load(app.models.current)

    @router.post("/png-info", response_model=PNGInfoResponse, tags=["tools"])
    def png_info(req: PNGInfoRequest) -> dict[str, Any]:
        from modules.image_input import image_info

        if not req.image.strip():
            return {"info": "", "items": {}, "parameters": {}}
        info = image_info(decode_image(req.image, "image"))
        return {"info": info.infotext, "items": info.items, "parameters": info.parameters}

    @router.get("/scripts", tags=["scripts"])
    def scripts() -> dict[str, list[str]]:
        from modules.scripts.select import scripts_list

        return scripts_list(app)

    @router.get("/script-info", tags=["scripts"])
    def script_info() -> list[dict[str, Any]]:
        from modules.scripts.select import scripts_info

        return scripts_info(app)

    @router.get("/memory", response_model=MemoryResponse, tags=["tools"])
    def memory() -> dict[str, Any]:
        return lists.memory()

    return router
