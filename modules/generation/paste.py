"""Reading an A1111 infotext back into what the UI needs: parameters, the VAE, LoRA names by hash."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.generation.infotext import params_from_infotext, parse_infotext
from modules.generation.override_settings import INFOTEXT_SETTINGS, Override, differing, overrides_in_infotext
from modules.generation.params import GenerationParams, Img2ImgParams

if TYPE_CHECKING:
    from modules.app import App
    from modules.samplers.specs import SamplerTable


@dataclass(frozen=True)
class PastedInfotext:
    params: GenerationParams  # of base's class: Img2ImgParams also get img2img's keys (Denoising strength, ...)
    vae: str | None  # local VAE choice matching the infotext's 'VAE'/'VAE hash', None when not recorded/not here
    notes: list[str]
    # settings it records that differ from those in effect (A1111's "Override settings")
    overrides: list[Override] = field(default_factory=list)


def read_infotext(app: App, text: str, base: GenerationParams | None = None) -> PastedInfotext:
    """Parameters from an infotext (unrecorded fields from base), with A1111's paste conveniences:
    <lora:name:…> tags pointed at the local file with the recorded hash, the recorded VAE looked up,
    and the settings it records that differ from the ones in effect as overrides."""
    from modules.messages import msg
    from modules.samplers.registry import sampler_table

    table = sampler_table(app.registry)
    if isinstance(base, Img2ImgParams):
        from modules.generation.img2img_infotext import img2img_params_from_infotext

        params: GenerationParams = img2img_params_from_infotext(text, base, table)
    else:
        params = params_from_infotext(text, base, table)
    info = parse_infotext(text)
    notes: list[str] = sampler_notes(info, params, table)
    if info.get("Lora hashes"):
        from modules.networks.lora import rename_by_hashes

        params = replace(params, prompt=rename_by_hashes(params.prompt, info["Lora hashes"], app.networks.loras))
    vae = None
    if info.get("VAE"):
        vae = app.networks.vaes.choice_from_infotext(text)
        if vae is None:
            notes.append(msg("paste_vae_missing", name=info["VAE"]))
    recorded, unknown = overrides_in_infotext(info)
    notes.extend(unknown)
    return PastedInfotext(params=params, vae=vae, notes=notes, overrides=differing(recorded, settings_in_effect(app)))


def sampler_notes(info: Mapping[str, str], params: GenerationParams, table: SamplerTable) -> list[str]:
    """Notices for a sampler or schedule type the parsed infotext names (Sampler, Schedule type, and the hires
    ones) that is not in table (a newer A1111's, an extension's): params, read from it, kept their own value
    there, and the notice says which one."""
    from modules.generation.params import SAME_SAMPLER, SAME_SCHEDULER

    notes: list[str] = []
    sampler = (info.get("Sampler") or "").strip()
    schedule = (info.get("Schedule type") or "").strip()
    if sampler:
        name, split_off = table.split_legacy_name(sampler, schedule or "Automatic")  # 'DPM++ 2M Karras'
        schedule = split_off if split_off != "Automatic" or schedule else ""
        if not table.knows_sampler(name):
            notes.append(_missing("paste_what_sampler", sampler, params.sampler_name))
    if schedule and not _knows_schedule(table, schedule):
        notes.append(_missing("paste_what_schedule", schedule, params.scheduler))
    hires_sampler = (info.get("Hires sampler") or "").strip()
    if hires_sampler and hires_sampler != SAME_SAMPLER and not table.knows_sampler(hires_sampler):
        notes.append(_missing("paste_what_hires_sampler", hires_sampler, getattr(params, "hr_sampler_name", "")))
    hires_schedule = (info.get("Hires schedule type") or "").strip()
    if hires_schedule and hires_schedule != SAME_SCHEDULER and not _knows_schedule(table, hires_schedule):
        notes.append(_missing("paste_what_hires_schedule", hires_schedule, getattr(params, "hr_scheduler", "")))
    return notes


def _knows_schedule(table: SamplerTable, name: str) -> bool:
    try:
        table.find_schedule(name)
    except InvalidParams:
        return False
    return True


def _missing(what: str, name: str, kept: str) -> str:
    from modules.messages import msg

    return msg("paste_sampler_missing", what=msg(what), name=name, kept=kept)


def settings_in_effect(app: App) -> dict[str, Any]:
    """Values of the overridable settings (INFOTEXT_SETTINGS) as the loaded model samples with them: a
    checkpoint whose file says it was trained on zero terminal SNR is sampled on it under "Default" too,
    so pasting its own infotext needs no override."""
    from modules.samplers.noise_schedule import ZERO_TERMINAL_SNR, noise_schedule_label

    values = {option: app.options.get(option) for option in INFOTEXT_SETTINGS.values()}
    model = app.models.current
    if model is not None and noise_schedule_label(model.scheduler_config) == ZERO_TERMINAL_SNR:
        values["sd_noise_schedule"] = ZERO_TERMINAL_SNR
    return values
