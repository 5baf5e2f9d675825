"""Which architecture a checkpoint is (from its key names) and what its UNet predicts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError

if TYPE_CHECKING:
    from modules.model_manager.loaded_model import Arch, PredictionType

NOT_SD = "this is not a Stable Diffusion 1.x, 2.x or SDXL checkpoint"
# empty marker tensors some checkpoints carry (ComfyUI reads them too)
V_PRED_KEY = "v_pred"  # the UNet predicts v
ZTSNR_KEY = "ztsnr"  # trained on the zero-terminal-SNR noise schedule


def detect_arch(keys: Iterable[str]) -> Arch:
    """The architecture ("sd1", "sd2" or "sdxl") from LDM key names; CheckpointLoadError otherwise."""
    keys = list(keys)
    has = set()
    for key in keys:
        for marker in (
            "model.diffusion_model.",
            "conditioner.embedders.0.model.",
            "conditioner.embedders.1.model.",
            "cond_stage_model.model.",
            "cond_stage_model.transformer.",
            "cond_stage_model.roberta.",
            "first_stage_model.",
        ):
            if key.startswith(marker):
                has.add(marker)
    if "model.diffusion_model." not in has:
        raise CheckpointLoadError(f"{NOT_SD}: {_what_is_it(keys)}")
    if "model.diffusion_model.x_embedder.proj.weight" in keys:
        raise CheckpointLoadError(f"{NOT_SD} (it looks like Stable Diffusion 3, which is not supported)")
    if "conditioner.embedders.1.model." in has:
        return "sdxl"
    if "conditioner.embedders.0.model." in has:
        raise CheckpointLoadError(f"{NOT_SD} (it looks like the SDXL refiner, which is not supported)")
    if "cond_stage_model.model." in has:
        return "sd2"
    if "cond_stage_model.transformer." in has:
        return "sd1"
    raise CheckpointLoadError(f"{NOT_SD}: it has a UNet but no text encoder this program knows")


def _what_is_it(keys: list[str]) -> str:
    if not keys:
        return "the file holds no weights"
    if any("lora_" in k or ".alpha" in k for k in keys[:200]):
        return "it looks like a LoRA; put it into the Lora folder instead"
    if any(k.startswith(("encoder.", "decoder.", "first_stage_model.")) for k in keys):
        return "it looks like a VAE; put it into the VAE folder instead"
    return "it has no UNet (model.diffusion_model) weights"


_YAML_V = re.compile(r"""^\s*parameterization\s*:\s*["']?v["']?\s*(#.*)?$""", re.MULTILINE)


def prediction_type_from_yaml(checkpoint: Path) -> PredictionType | None:
    """From a `<checkpoint stem>.yaml` beside the file: v when it sets parameterization "v"
    (or the SDXL-style VScaling denoiser), epsilon otherwise; None when there is no such file."""
    yaml_path = checkpoint.with_suffix(".yaml")
    if checkpoint.suffix == "" or not yaml_path.is_file():
        return None
    try:
        text = yaml_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return "v_prediction" if _YAML_V.search(text) or "VScaling" in text else "epsilon"


def prediction_type_from_metadata(metadata: Mapping[str, str] | None) -> PredictionType | None:
    """From safetensors metadata `modelspec.prediction_type` ("v", "v_prediction" or "epsilon")."""
    value = str((metadata or {}).get("modelspec.prediction_type", "")).strip().lower()
    if value in ("v", "v_prediction", "v-prediction", "vpred"):
        return "v_prediction"
    if value in ("epsilon", "eps"):
        return "epsilon"
    return None


def prediction_type_from_keys(keys: Iterable[str]) -> PredictionType | None:
    """v_prediction when the state dict carries the empty `v_pred` marker tensor, else None."""
    return "v_prediction" if V_PRED_KEY in set(keys) else None


def zero_terminal_snr_from_keys(keys: Iterable[str], metadata: Mapping[str, str] | None = None) -> bool:
    """Whether the checkpoint says it was trained with a zero-terminal-SNR schedule: the `ztsnr` marker
    tensor, or safetensors metadata `modelspec.zero_terminal_snr` / `ztsnr` set to true."""
    if ZTSNR_KEY in set(keys):
        return True
    meta = metadata or {}
    value = str(meta.get("modelspec.zero_terminal_snr", meta.get("ztsnr", ""))).strip().lower()
    return value in ("1", "true", "yes")


def unet_predicts_v(unet: Any) -> bool:
    """A1111's numeric test for SD2: on a constant latent at t=999 with a constant context, an
    epsilon model's output stays near the input, while a v model (which predicts about -x0 there)
    gives an output whose mean lies far below the input's."""
    import torch

    param = next(unet.parameters())
    device, dtype = param.device, param.dtype
    channels = int(unet.config.in_channels)
    x = torch.full((1, channels, 8, 8), 0.5, device=device, dtype=dtype)
    context = torch.full((1, 2, int(unet.config.cross_attention_dim)), 0.5, device=device, dtype=dtype)
    t = torch.tensor([999], device=device)
    with torch.no_grad():
        out = unet(x, t, encoder_hidden_states=context).sample
    diff = (out.float() - x[:, : out.shape[1]].float()).mean().item()
    return diff < -1.0


def detect_prediction_type(
    checkpoint: Path | None,
    arch: Arch,
    metadata: Mapping[str, str] | None = None,
    unet: Any = None,
) -> PredictionType:
    """yaml beside the file, then safetensors metadata, then (SD2 only, when a UNet is given) the
    numeric test; epsilon otherwise."""
    if checkpoint is not None:
        found = prediction_type_from_yaml(checkpoint)
        if found:
            return found
    found = prediction_type_from_metadata(metadata)
    if found:
        return found
    if arch == "sd2" and unet is not None:
        return "v_prediction" if unet_predicts_v(unet) else "epsilon"
    return "epsilon"
