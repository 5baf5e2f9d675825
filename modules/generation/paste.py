"""Reading an A1111 infotext back into what the UI needs: parameters, the VAE, LoRA names by hash."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from modules.generation.infotext import params_from_infotext, parse_infotext
from modules.generation.params import GenerationParams, Img2ImgParams

if TYPE_CHECKING:
    from modules.app import App


@dataclass(frozen=True)
class PastedInfotext:
    params: GenerationParams  # of base's class: Img2ImgParams also get img2img's keys (Denoising strength, ...)
    vae: str | None  # local VAE choice matching the infotext's 'VAE'/'VAE hash', None when not recorded/not here
    notes: list[str]


def read_infotext(app: App, text: str, base: GenerationParams | None = None) -> PastedInfotext:
    """Parameters from an infotext (unrecorded fields from base), with A1111's paste conveniences:
    <lora:name:…> tags pointed at the local file with the recorded hash, and the recorded VAE looked up."""
    from modules.messages import msg

    if isinstance(base, Img2ImgParams):
        from modules.generation.img2img_infotext import img2img_params_from_infotext

        params: GenerationParams = img2img_params_from_infotext(text, base)
    else:
        params = params_from_infotext(text, base)
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
    return PastedInfotext(params=params, vae=vae, notes=notes)
