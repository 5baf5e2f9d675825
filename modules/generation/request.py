"""GenerationRequest: one generation as every front door asks for it (web UI, REST API, command line).

A front door only translates its input into a GenerationRequest and the Outcome back into its answer;
the rules (infotext reuse, option defaults, styles, overrides, per-request checkpoint and VAE, the
size rule, validation) live in modules/generation/resolve.py and run inside the job, so the three
doors cannot disagree. resolve.check(app, request) runs the same rules before queueing, so a bad
request fails at once (API: 4xx; UI: a message; CLI: exit 2) and never waits in the queue.

Layers of a field's value, lowest first: the params class default < the option default (Settings:
CLIP skip, emphasis, default sampler; for fields neither `explicit` nor in `door_defaults`) < the
door's own default (A1111's API: Euler, 50 steps) < the `infotext` (fields not `explicit`) < the
caller's own value < an option-backed override in `options` (override_settings' CLIP_stop_at_last_layers).

`scripts` (modules/scripts): a selected script runs the whole generation itself in the job (drawing the
request without itself as often as it likes); always-on scripts add their hooks to `hooks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modules.generation.denoise import Hooks
    from modules.generation.params import GenerationParams
    from modules.generation.pipeline import GenerationResult
    from modules.model_manager.folders import CheckpointInfo
    from modules.scripts.base import ScriptRun

KINDS = ("txt2img", "img2img")


@dataclass
class GenerationRequest:
    kind: str  # one of KINDS
    params: GenerationParams  # Txt2ImgParams / Img2ImgParams: the caller's values over the door's defaults
    explicit: frozenset[str] = frozenset()  # fields the caller set itself (an infotext fills the others)
    door_defaults: frozenset[str] = frozenset()  # unset fields whose door default wins over the option default
    styles: tuple[str, ...] = ()  # names in styles.csv, merged into the prompts in this order
    infotext: str | None = None  # an A1111 infotext whose values fill the fields the caller did not set
    options: dict[str, Any] = field(default_factory=dict)  # override_settings for this run only
    checkpoint: str | None = None  # loaded for this job (not remembered as the app's checkpoint)
    restore_checkpoint: bool = True  # put the previous checkpoint back after the job (A1111's default)
    vae: str | None = None  # Automatic, None or a VAE file for this run; None here: the infotext's, else the app's
    size_from_model: bool = False  # no size named: the checkpoint's declared size (unless the infotext has one)
    save_images: bool = True
    save_grid: bool = True
    hooks: Hooks | None = None  # pass, step, UNet and image hooks this request carries (generation/hooks.py)
    scripts: ScriptRun | None = None  # the selected script and the always-on ones, with their checked args
    owner: str = ""  # the job owner (a browser session, an API caller)
    job_id: str | None = None  # a caller-chosen job id (the API's force_task_id)


@dataclass
class Outcome:
    """What a finished request hands back. params are the ones the images were drawn with (resolved and
    sized), without init images and mask, so nothing decoded outlives the answer."""

    result: GenerationResult
    params: GenerationParams
    model: CheckpointInfo | None  # the checkpoint that drew the images
    options: dict[str, Any] = field(default_factory=dict)  # the run options in effect (override_settings, infotext)
    task_infotext: dict[str, object] = field(default_factory=dict)  # img2img's keys, read while params had images
    job_timestamp: str = ""  # when the request was queued (A1111's job_timestamp)
