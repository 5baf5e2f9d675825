"""diffusers/transformers modules -> one LDM-layout ("single file") state dict, and saving it.

Uses the same rule tables as ldm_to_diffusers, so loading what this writes gives back identical tensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.model_manager.arch_detect import V_PRED_KEY, ZTSNR_KEY
from modules.model_manager.ldm_to_diffusers import (
    SD1_CLIP_PREFIX,
    SD2_OPENCLIP_PREFIX,
    SDXL_CLIP_PREFIX,
    SDXL_OPENCLIP_PREFIX,
    UNET_PREFIX,
    VAE_PREFIX,
    Rule,
    is_vae_attention_weight,
    openclip_rules,
    rename_key,
    unet_rules,
    vae_rules,
)

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel


def _module_state(module: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach() for k, v in module.state_dict().items()}


def _strip_text_model(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k.removeprefix("text_model."): v for k, v in sd.items() if not k.endswith("position_ids")}


def _rename_all(sd: Mapping[str, torch.Tensor], rules: list[Rule], prefix: str, what: str) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        new = rename_key(key, rules, to_diffusers=False)
        if new is None:
            raise ValueError(f"no LDM name for {what} weight '{key}'")
        out[prefix + new] = value
    return out


def unet_to_ldm(unet: Any) -> dict[str, torch.Tensor]:
    return _rename_all(_module_state(unet), unet_rules(unet.config), UNET_PREFIX, "UNet")


def vae_to_ldm(vae: Any) -> dict[str, torch.Tensor]:
    sd = _module_state(vae)
    for key, value in sd.items():
        if is_vae_attention_weight(key) and value.ndim == 2:
            sd[key] = value[:, :, None, None]
    return _rename_all(sd, vae_rules(vae.config), VAE_PREFIX, "VAE")


def clip_l_to_ldm(text_encoder: Any, prefix: str) -> dict[str, torch.Tensor]:
    """CLIPTextModel -> keys under prefix (which ends with "text_model.")."""
    return {prefix + k: v for k, v in _strip_text_model(_module_state(text_encoder)).items()}


def open_clip_to_ldm(text_encoder: Any, prefix: str) -> dict[str, torch.Tensor]:
    """CLIPTextModel(WithProjection) with OpenCLIP weights -> OpenCLIP keys under prefix."""
    import torch

    sd = _strip_text_model(_module_state(text_encoder))
    out: dict[str, torch.Tensor] = {}
    if "text_projection.weight" in sd:
        out[prefix + "text_projection"] = sd.pop("text_projection.weight").T.contiguous()
    layers = int(text_encoder.config.num_hidden_layers)
    for i in range(layers):
        base = f"encoder.layers.{i}.self_attn."
        for kind in ("weight", "bias"):
            parts = [sd.pop(f"{base}{name}.{kind}") for name in ("q_proj", "k_proj", "v_proj")]
            out[f"{prefix}transformer.resblocks.{i}.attn.in_proj_{kind}"] = torch.cat(parts, dim=0)
    out.update(_rename_all(sd, openclip_rules(layers), prefix, "OpenCLIP text encoder"))
    return out


def model_to_ldm_state_dict(model: LoadedModel) -> dict[str, torch.Tensor]:
    """All weights of a LoadedModel in the LDM layout its architecture uses (CPU, contiguous)."""
    sd = unet_to_ldm(model.unet)
    sd.update(vae_to_ldm(model.vae))
    if model.arch == "sd1":
        sd.update(clip_l_to_ldm(model.text_encoders[0], SD1_CLIP_PREFIX))
    elif model.arch == "sd2":
        sd.update(open_clip_to_ldm(model.text_encoders[0], SD2_OPENCLIP_PREFIX))
    elif model.arch == "sdxl":
        sd.update(clip_l_to_ldm(model.text_encoders[0], SDXL_CLIP_PREFIX))
        sd.update(open_clip_to_ldm(model.text_encoders[1], SDXL_OPENCLIP_PREFIX))
    else:
        raise ValueError(f"unknown architecture {model.arch!r}")
    sd.update(schedule_marker_keys(model))
    return {k: v.cpu().contiguous() for k, v in sd.items()}


def schedule_marker_keys(model: LoadedModel) -> dict[str, torch.Tensor]:
    """Empty marker tensors that say how the model was trained, under the names other UIs read too:
    `v_pred` (v-prediction) and `ztsnr` (zero-terminal-SNR noise schedule)."""
    import torch

    keys = {}
    if model.prediction_type == "v_prediction":
        keys[V_PRED_KEY] = torch.zeros(0)
    if model.scheduler_config.get("rescale_betas_zero_snr"):
        keys[ZTSNR_KEY] = torch.zeros(0)
    return keys


def save_ldm_checkpoint(model: LoadedModel, path: Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the model as one LDM-layout file: .safetensors (with metadata, including
    modelspec.prediction_type) or, for .ckpt/.pt, torch.save({"state_dict": …}) (metadata is not kept)."""
    import torch

    path = Path(path)
    sd = model_to_ldm_state_dict(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".ckpt", ".pt", ".pth"):
        torch.save({"state_dict": sd}, path)
        return path
    from safetensors.torch import save_file

    meta = {"modelspec.prediction_type": "v" if model.prediction_type == "v_prediction" else "epsilon"}
    meta.update({str(k): str(v) for k, v in (metadata or {}).items()})
    # separate storage for every tensor (safetensors refuses shared memory)
    save_file({k: v.clone() if v.untyped_storage().nbytes() != v.nbytes else v for k, v in sd.items()}, str(path), meta)
    return path
