"""Reading an A1111 infotext back into what the UI needs: parameters, the VAE, LoRA names by hash."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from modules.generation.infotext import params_from_infotext, parse_infotext
from modules.generation.override_settings import INFOTEXT_SETTINGS, Override, differing, overrides_in_infotext
from modules.generation.params import GenerationParams, Img2ImgParams

if TYPE_CHECKING:
    from modules.app import App


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

    if isinstance(base, Img2ImgParams):
        from modules.generation.img2img_infotext import img2img_params_from_infotext

        params: GenerationParams = img2img_params_from_infotext(text, base, sampler_table(app.registry))
    else:
        params = params_from_infotext(text, base, sampler_table(app.registry))
    info = parse_infotext(text)
    notes: list[str] = []
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
