"""The request rules, in one place for the web UI, the REST API and the command line.

    check(app, request)          # before queueing: the same rules, so a bad request fails at once
    job = submit(app, request)   # one job in the app's queue: resolve() again inside it, then generate
    outcome = job.result()

resolve(app, request) turns a GenerationRequest into what the generation runs with:
- option defaults (Settings: CLIP skip, emphasis, default sampler) for the fields the caller left unset;
- infotext reuse: the infotext's values for the fields the caller did not set, <lora:…> tags pointed at
  the local files by their recorded hashes, the settings it records as run options, its VAE when that
  file is here;
- override_settings: run options for this run only, option-backed fields (CLIP_stop_at_last_layers);
- styles: merged into both prompts in order; an unknown style is an error naming it and the styles;
- checkpoint and VAE for this request: checked here, loaded/applied inside the job only; the app's
  selected checkpoint and VAE (and the remembered options) are never changed by a request;
- validation (ranges, sampler and schedule type among those registered).
The size rule (the checkpoint's declared size for a request that names none) needs the model that
runs, so it is applied inside the job (at_model_size).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from modules.errors import InvalidParams, ModelNotFound
from modules.generation.request import GenerationRequest, Outcome
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.hooks import Hooks
    from modules.generation.params import GenerationParams
    from modules.jobs import Job, Progress
    from modules.model_manager.loaded_model import LoadedModel
    from modules.scripts.base import ScriptCall

log = logging.getLogger(__name__)
P = TypeVar("P", bound="GenerationParams")


@dataclass(frozen=True)
class Resolved:
    """A request with its rules applied: what the job generates with (before the size rule)."""

    params: GenerationParams  # validated; styles merged; infotext, option defaults and overrides applied
    options: dict[str, Any]  # run options (RUN_OPTIONS) for this run
    checkpoint: str | None  # a checkpoint to load for this job (known to exist)
    vae: str | None  # the VAE choice for this run (None: the app's selected one)
    size_from_model: bool  # draw at the declared size of the checkpoint that runs
    notes: list[str] = field(default_factory=list)  # things the caller should know (an infotext's VAE missing)


def resolve(app: App, request: GenerationRequest) -> Resolved:
    """The request's rules applied (see the module doc); UserError naming what is wrong."""
    from modules.options import RUN_OPTIONS, generation_option_keys
    from modules.samplers.registry import sampler_table

    params, notes = _with_option_defaults(app, request), []
    options: dict[str, Any] = {}
    vae, size_from_model = request.vae, request.size_from_model
    if request.infotext:
        params, recorded, infotext_vae, has_size, notes = _from_infotext(app, request, params)
        options.update(recorded)
        vae = vae or infotext_vae
        size_from_model = size_from_model and not has_size
    option_fields = generation_option_keys()
    changes: dict[str, Any] = {}
    for key, value in request.options.items():
        if key in RUN_OPTIONS or key in option_fields:
            checked = app.options.check(key, value)  # InvalidParams naming the option and its choices
            if key in option_fields:
                changes[option_fields[key]] = checked
            else:
                options[key] = checked
    params = replace(params, **changes)
    params = _with_styles(app, params, request.styles)
    samplers = sampler_table(app.registry)
    sampler, schedule = samplers.split_legacy_name(params.sampler_name, params.scheduler)
    params = replace(params, sampler_name=samplers.find_sampler(sampler).name,
                     scheduler=samplers.find_schedule(schedule).label)
    params.validate(samplers)
    _check_checkpoint(app, request.checkpoint)
    _check_vae(app, vae)
    return Resolved(params, options, request.checkpoint or None, vae, size_from_model, notes)


def check(app: App, request: GenerationRequest) -> Resolved:
    """resolve() before the request is queued: every check that can fail without a model fails now
    (the selected script's own check too: a bad line of Prompts from file)."""
    if request.kind not in ("txt2img", "img2img"):
        raise InvalidParams(f"unknown generation kind {request.kind!r}")
    resolved = resolve(app, request)
    if getattr(resolved.params, "enable_hr", False):  # an unknown hires upscaler fails before queueing
        from modules.generation.hires import find_hires_upscaler

        find_hires_upscaler(app.registry, resolved.params.hr_upscaler)  # type: ignore[attr-defined]
    selected = _selected_script(request)
    if selected is not None:
        selected.script.check(app, _without_script(request), list(selected.args))
    return resolved


def _with_option_defaults(app: App, request: GenerationRequest) -> GenerationParams:
    skip = request.explicit | request.door_defaults
    defaults = {name: value for name, value in app.options.param_defaults().items() if name not in skip}
    return replace(request.params, **defaults)


def _from_infotext(app: App, request: GenerationRequest,
                   params: P) -> tuple[P, dict[str, Any], str | None, bool, list[str]]:
    """(params with the infotext's values in the fields the caller did not set, the run options it records,
    its VAE when that file is here, whether it records a size, notes)."""
    from modules.generation.infotext import parse_infotext
    from modules.generation.override_settings import overrides_in_infotext
    from modules.generation.paste import read_infotext

    text = request.infotext or ""
    pasted = read_infotext(app, text, params)  # LoRA tags by hash, the VAE looked up, notes
    taken = {f.name: getattr(pasted.params, f.name) for f in fields(params) if f.name not in request.explicit}
    info = parse_infotext(text)
    recorded, _unknown = overrides_in_infotext(info)
    options = {o.option: o.value for o in recorded}
    return replace(params, **taken), options, pasted.vae, "Size-1" in info, list(pasted.notes)


def _with_styles(app: App, params: P, names: tuple[str, ...] | list[str]) -> P:
    from modules.styles import apply_named_styles

    if not names:
        return params
    prompt, negative = apply_named_styles(app.settings.data_dir, params.prompt, params.negative_prompt, names)
    return replace(params, prompt=prompt, negative_prompt=negative)


def _check_checkpoint(app: App, name: str | None) -> None:
    if name and app.folders.find_checkpoint(name) is None:
        raise ModelNotFound(msg("checkpoint_not_found", name=name[:200]))


def _check_vae(app: App, choice: str | None) -> None:
    vaes = app.networks.vaes
    if choice and not vaes.known(choice):
        raise ModelNotFound(msg("vae_not_found", name=choice[:200], choices=", ".join(vaes.choices())[:2000]))


# --- the size rule ----------------------------------------------------------------------------------------
def declared_size(model: LoadedModel | None) -> tuple[int, int] | None:
    """The (width, height) a checkpoint declares (safetensors 'modelspec.resolution': 64x64 for the demo
    model), None when it declares none (A1111's 512x512 default then stays)."""
    return model.declared_size if model is not None else None


def at_size(params: P, size: tuple[int, int] | None) -> P:
    """params drawn at size (unchanged for None)."""
    if size is None or size == (params.width, params.height):
        return params
    sized = replace(params, width=size[0], height=size[1])
    sized.validate_size()  # everything else was checked before; only the size changed
    return sized


def size_it_would_have(app: App, resolved: Resolved) -> GenerationParams:
    """For a job cancelled before it ran: params at the size it would have drawn (the declared size of the
    checkpoint it would have run on: its override's, read from the file's metadata, else the loaded one's)."""
    from modules.errors import CheckpointLoadError
    from modules.model_manager.checkpoint_files import read_safetensors_metadata
    from modules.model_manager.loaded_model import size_from_metadata

    if not resolved.size_from_model:
        return resolved.params
    info = app.models.folders.find_checkpoint(resolved.checkpoint) if resolved.checkpoint else None
    if info is None or info == app.models.current_info:
        return at_size(resolved.params, declared_size(app.models.current))
    try:
        metadata = read_safetensors_metadata(info.path) if info.path.suffix == ".safetensors" else {}
    except CheckpointLoadError as e:  # the job would have failed to load it; the size is moot
        log.debug("no metadata in %s: %s", info.path, e)
        metadata = {}
    return at_size(resolved.params, size_from_metadata(metadata))


# --- the job ----------------------------------------------------------------------------------------------
def run(app: App, request: GenerationRequest, progress: Progress, job_timestamp: str = "") -> Outcome:
    """The generation of one request, on the job worker: load its checkpoint (put the previous one back
    afterwards when asked; the remembered checkpoint option never changes), then its selected script's run
    (which draws with scripts.base.generate_now) or draw(); hand back."""
    previous = app.models.current_info
    if request.checkpoint:
        _check_checkpoint(app, request.checkpoint)
        app.models.load(request.checkpoint)  # this job only: not app.load_checkpoint, which remembers it
    try:
        selected = _selected_script(request)
        if selected is None:
            return draw(app, request, progress, job_timestamp)
        resolved = resolve(app, request)
        result = selected.script.run(app, _without_script(request), list(selected.args), progress)
        kept, task_infotext = _without_images(resolved.params)
        return Outcome(result, kept, app.models.current_info, dict(resolved.options), task_infotext, job_timestamp)
    finally:
        if request.checkpoint and request.restore_checkpoint and previous is not None \
                and app.models.current_info != previous:
            try:
                app.models.load(previous.title)
            except Exception:  # noqa: BLE001 - the images are done; the new model stays loaded
                log.exception("could not put checkpoint %s back", previous.title)


def draw(app: App, request: GenerationRequest, progress: Progress, job_timestamp: str = "") -> Outcome:
    """One generation with the model that is loaded: resolve, the size rule, the task with the request's
    hooks and its always-on scripts' hooks (never a selected script: see run)."""
    from modules.generation import img2img as img2img_module
    from modules.generation import txt2img as txt2img_module

    resolved = resolve(app, request)
    params = resolved.params
    if resolved.size_from_model:
        params = at_size(params, declared_size(app.models.current))
    task = img2img_module.img2img if request.kind == "img2img" else txt2img_module.txt2img  # looked up now
    result = task(app, params, progress, _hooks(request), save_images=request.save_images,  # type: ignore[arg-type]
                  save_grid=request.save_grid, options=resolved.options, vae=resolved.vae)
    kept, task_infotext = _without_images(params)
    return Outcome(result, kept, app.models.current_info, dict(resolved.options), task_infotext, job_timestamp)


def _selected_script(request: GenerationRequest) -> ScriptCall | None:
    from modules.scripts.base import ScriptRun

    return request.scripts.selected if isinstance(request.scripts, ScriptRun) else None


def _without_script(request: GenerationRequest) -> GenerationRequest:
    """The request a selected script works on: itself no longer selected (its always-on scripts stay)."""
    return replace(request, scripts=request.scripts.without_selected(), checkpoint=None)


def _hooks(request: GenerationRequest) -> Hooks | None:
    """The request's own hooks, then its always-on scripts' (in registration order)."""
    from modules.scripts.base import ScriptRun

    scripts = request.scripts.hooks() if isinstance(request.scripts, ScriptRun) else None
    if request.hooks is None:
        return scripts
    return request.hooks.merged(scripts)


def submit(app: App, request: GenerationRequest) -> Job[Outcome]:
    """Queue the request (one job in the app's queue); returns the Job at once."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    return app.jobs.submit(request.kind, lambda progress: run(app, request, progress, stamp), owner=request.owner,
                           job_id=request.job_id)


def _without_images(params: GenerationParams) -> tuple[GenerationParams, dict[str, object]]:
    """(params without init images and mask, img2img's infotext keys read before they went)."""
    from modules.generation.img2img_infotext import img2img_infotext
    from modules.generation.params import Img2ImgParams

    if not isinstance(params, Img2ImgParams):
        return params, {}
    return replace(params, init_images=(), mask=None), img2img_infotext(params)
