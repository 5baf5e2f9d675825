"""Infer diffusers/transformers configs from the tensor shapes of an LDM-layout state dict.

Works for full-size checkpoints and for tiny test models of the same architectures. What shapes cannot
show follows the architecture's rules: SD1 uses 8 attention heads everywhere, SD2 and SDXL 64 channels per
head; CLIP text encoders use 64 channels per head.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError
from modules.model_manager.ldm_to_diffusers import (
    SD1_CLIP_PREFIX,
    SD2_OPENCLIP_PREFIX,
    SDXL_CLIP_PREFIX,
    SDXL_OPENCLIP_PREFIX,
    UNET_PREFIX,
    VAE_PREFIX,
)

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import Arch, PredictionType

VAE_SCALING = MappingProxyType({"sd1": 0.18215, "sd2": 0.18215, "sdxl": 0.13025})
VAE_SAMPLE_SIZE = MappingProxyType({"sd1": 512, "sd2": 768, "sdxl": 1024})
HEAD_CHANNELS = 64


def _shape(sd: Mapping[str, torch.Tensor], key: str) -> tuple[int, ...]:
    if key not in sd:
        raise CheckpointLoadError(f"the checkpoint is missing the weight '{key}'")
    return tuple(int(s) for s in sd[key].shape)


def _indices(sd: Mapping[str, Any], prefix: str) -> list[int]:
    """Sorted distinct integers that follow prefix in the keys ("…input_blocks." -> [0, 1, …])."""
    found = set()
    for key in sd:
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def infer_unet_config(
    sd: Mapping[str, torch.Tensor],
    arch: Arch,
    prediction_type: PredictionType = "epsilon",
    pooled_dim: int | None = None,
) -> dict[str, Any]:
    """UNet2DConditionModel kwargs. pooled_dim: SDXL's pooled text embedding width (from text_projection)."""
    p = UNET_PREFIX
    n_input = len(_indices(sd, p + "input_blocks."))
    n_levels = 1 + sum(1 for i in range(n_input) if p + f"input_blocks.{i}.0.op.weight" in sd)
    layers, remainder = divmod(n_input - 1 - (n_levels - 1), n_levels)
    if n_input < 2 or remainder or layers < 1:
        raise CheckpointLoadError("the UNet has an unexpected block layout")

    channels: list[int] = []
    attention: list[bool] = []
    depths: list[int] = []
    for level in range(n_levels):
        first = p + f"input_blocks.{level * (layers + 1) + 1}."
        channels.append(_shape(sd, first + "0.out_layers.3.weight")[0])
        has_attn = any(k.startswith(first + "1.") for k in sd)
        attention.append(has_attn)
        depths.append(len(_indices(sd, first + "1.transformer_blocks.")) if has_attn else 1)
    mid_depth = len(_indices(sd, p + "middle_block.1.transformer_blocks."))
    if not attention[-1]:
        depths[-1] = mid_depth

    attn_key = next((k for k in sd if k.startswith(p + "middle_block.1.") and k.endswith("attn2.to_k.weight")), None)
    proj_in = p + "middle_block.1.proj_in.weight"
    if attn_key is None or proj_in not in sd:
        raise CheckpointLoadError("the UNet has no cross-attention in its middle block")

    config: dict[str, Any] = {
        "sample_size": 128 if arch == "sdxl" else (96 if arch == "sd2" and prediction_type == "v_prediction" else 64),
        "in_channels": _shape(sd, p + "input_blocks.0.0.weight")[1],
        "out_channels": _shape(sd, p + "out.2.weight")[0],
        "down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attention],
        "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attention)],
        "block_out_channels": channels,
        "layers_per_block": layers,
        "cross_attention_dim": _shape(sd, attn_key)[1],
        "attention_head_dim": 8 if arch == "sd1" else [max(1, c // HEAD_CHANNELS) for c in channels],
        "use_linear_projection": len(_shape(sd, proj_in)) == 2,
        "transformer_layers_per_block": 1 if all(d == 1 for d in depths) else depths,
    }
    time_dim = _shape(sd, p + "time_embed.0.weight")[0]
    if time_dim != channels[0] * 4:
        config["time_embedding_dim"] = time_dim
    label = p + "label_emb.0.0.weight"
    if label in sd:
        in_dim = _shape(sd, label)[1]
        if pooled_dim is None:
            raise CheckpointLoadError("the SDXL text encoder has no text projection")
        time_embed_dim, rem = divmod(in_dim - pooled_dim, 6)
        if rem or time_embed_dim <= 0:
            raise CheckpointLoadError("the SDXL size conditioning has an unexpected shape")
        config.update(
            addition_embed_type="text_time",
            addition_time_embed_dim=time_embed_dim,
            projection_class_embeddings_input_dim=in_dim,
        )
    return config


def infer_vae_config(sd: Mapping[str, torch.Tensor], arch: Arch, prefix: str = VAE_PREFIX) -> dict[str, Any]:
    """AutoencoderKL kwargs."""
    levels = _indices(sd, prefix + "encoder.down.")
    if not levels:
        raise CheckpointLoadError("the checkpoint contains no VAE (first_stage_model) weights")
    n = len(levels)
    return {
        "in_channels": _shape(sd, prefix + "encoder.conv_in.weight")[1],
        "out_channels": _shape(sd, prefix + "decoder.conv_out.weight")[0],
        "down_block_types": ["DownEncoderBlock2D"] * n,
        "up_block_types": ["UpDecoderBlock2D"] * n,
        "block_out_channels": [_shape(sd, prefix + f"encoder.down.{i}.block.0.conv1.weight")[0] for i in range(n)],
        "layers_per_block": len(_indices(sd, prefix + "encoder.down.0.block.")),
        "latent_channels": _shape(sd, prefix + "decoder.conv_in.weight")[1],
        "sample_size": VAE_SAMPLE_SIZE[arch],
        "scaling_factor": VAE_SCALING[arch],
    }


def _clip_l_config(sd: Mapping[str, torch.Tensor], prefix: str) -> dict[str, Any]:
    base = prefix.removesuffix("text_model.")
    if base + "text_model.embeddings.token_embedding.weight" not in sd:
        prefix = base  # old layout without "text_model."
    vocab, hidden = _shape(sd, prefix + "embeddings.token_embedding.weight")
    return {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": _shape(sd, prefix + "encoder.layers.0.mlp.fc1.weight")[0],
        "num_hidden_layers": len(_indices(sd, prefix + "encoder.layers.")),
        "num_attention_heads": max(1, hidden // HEAD_CHANNELS),
        "max_position_embeddings": _shape(sd, prefix + "embeddings.position_embedding.weight")[0],
        "hidden_act": "quick_gelu",
        "projection_dim": hidden,
    }


def _open_clip_config(sd: Mapping[str, torch.Tensor], prefix: str) -> dict[str, Any]:
    vocab, hidden = _shape(sd, prefix + "token_embedding.weight")
    proj = prefix + "text_projection"
    return {
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": _shape(sd, prefix + "transformer.resblocks.0.mlp.c_fc.weight")[0],
        "num_hidden_layers": len(_indices(sd, prefix + "transformer.resblocks.")),
        "num_attention_heads": max(1, hidden // HEAD_CHANNELS),
        "max_position_embeddings": _shape(sd, prefix + "positional_embedding")[0],
        "hidden_act": "gelu",
        "projection_dim": _shape(sd, proj)[1] if proj in sd else hidden,
    }


def infer_text_configs(sd: Mapping[str, torch.Tensor], arch: Arch) -> list[dict[str, Any]]:
    """CLIPTextConfig kwargs, one per text encoder (SDXL: CLIP-L, then OpenCLIP bigG with projection)."""
    if arch == "sd1":
        return [_clip_l_config(sd, SD1_CLIP_PREFIX)]
    if arch == "sd2":
        return [_open_clip_config(sd, SD2_OPENCLIP_PREFIX)]
    return [_clip_l_config(sd, SDXL_CLIP_PREFIX), _open_clip_config(sd, SDXL_OPENCLIP_PREFIX)]


def infer_configs(
    sd: Mapping[str, torch.Tensor], arch: Arch, prediction_type: PredictionType = "epsilon"
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(unet config, vae config, text encoder configs) for an LDM state dict."""
    text = infer_text_configs(sd, arch)
    pooled = int(text[-1]["projection_dim"]) if arch == "sdxl" else None
    return infer_unet_config(sd, arch, prediction_type, pooled), infer_vae_config(sd, arch), text
