"""Fresh SD 1.x-architecture models of a chosen size, latent normalisation, and export to a single file.

Configs follow the rules the checkpoint loader uses to infer them back from tensor shapes (see
modules/model_manager/ldm_configs.py), so an exported file loads with exactly these modules.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.training.config import SD1_HEADS, SD1Sizes

if TYPE_CHECKING:
    import torch
    from diffusers import AutoencoderKL

    from modules.model_manager.loaded_model import LoadedModel, PredictionType

SD1_VAE_SCALING = 0.18215  # the loader gives every SD1 VAE this scaling factor
SD1_VAE_SAMPLE_SIZE = 512


def unet_config(sizes: SD1Sizes) -> dict[str, Any]:
    return {
        "sample_size": 64,  # what the loader sets for SD1 (only a default; any size works)
        "in_channels": sizes.latent_channels,
        "out_channels": sizes.latent_channels,
        "block_out_channels": list(sizes.unet_channels),
        "down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in sizes.unet_attention],
        "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(sizes.unet_attention)],
        "layers_per_block": sizes.unet_layers_per_block,
        "cross_attention_dim": sizes.text_hidden,
        "attention_head_dim": SD1_HEADS,  # diffusers' historical name: for SD1 this is the head count
        "use_linear_projection": False,
        "transformer_layers_per_block": 1,
    }


def vae_config(sizes: SD1Sizes) -> dict[str, Any]:
    n = len(sizes.vae_channels)
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["DownEncoderBlock2D"] * n,
        "up_block_types": ["UpDecoderBlock2D"] * n,
        "block_out_channels": list(sizes.vae_channels),
        "layers_per_block": sizes.vae_layers_per_block,
        "latent_channels": sizes.latent_channels,
        "sample_size": SD1_VAE_SAMPLE_SIZE,
        "scaling_factor": SD1_VAE_SCALING,
    }


def text_config(sizes: SD1Sizes) -> dict[str, Any]:
    """CLIP-L style (quick_gelu, 77 positions, the full CLIP vocabulary so the shipped tokenizer works)."""
    return {
        "vocab_size": 49408,
        "hidden_size": sizes.text_hidden,
        "intermediate_size": sizes.text_intermediate,
        "num_hidden_layers": sizes.text_layers,
        "num_attention_heads": sizes.text_heads,
        "max_position_embeddings": 77,
        "hidden_act": "quick_gelu",
        "projection_dim": sizes.text_hidden,
    }


def build_vae(sizes: SD1Sizes, seed: int = 0) -> AutoencoderKL:
    import torch
    from diffusers import AutoencoderKL

    sizes.validate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoencoderKL(**vae_config(sizes))


def build_sd1(sizes: SD1Sizes, seed: int = 0, vae: AutoencoderKL | None = None,
              prediction: PredictionType = "epsilon", zero_terminal_snr: bool = False,
              text_token_std: float | None = None) -> LoadedModel:
    """A randomly initialised (seeded) SD1-architecture model in float32 on the CPU, in train mode.
    vae: use this autoencoder instead of a fresh one; prediction: what the UNet is trained to predict
    (an export records it as modelspec.prediction_type, which the loader reads back); zero_terminal_snr:
    trained on the zero-terminal-SNR schedule (an export carries a `ztsnr` key); text_token_std: draw
    the text encoder's token embeddings with this std instead of CLIP's 0.02 (see cpu_recipe)."""
    import torch
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from modules.model_manager.checkpoints import scheduler_config, tokenizers_for
    from modules.model_manager.loaded_model import LoadedModel

    sizes.validate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**unet_config(sizes))
        text_encoder = CLIPTextModel(CLIPTextConfig(**text_config(sizes)))
        if text_token_std is not None:
            with torch.no_grad():
                text_encoder.get_input_embeddings().weight.normal_(0.0, text_token_std)
    return LoadedModel(
        arch="sd1",
        unet=unet,
        vae=vae if vae is not None else build_vae(sizes, seed + 1),
        text_encoders=[text_encoder],
        tokenizers=tokenizers_for("sd1"),
        prediction_type=prediction,
        scheduler_config=scheduler_config(prediction, zero_terminal_snr),
        device=torch.device("cpu"),
        dtype=torch.float32,
        extra={"format": "training", "sizes": sizes},
    )


class UnrelatedWeights(ValueError):
    """The model to start from shares too few weights with the one being trained."""


@dataclass(frozen=True)
class WeightTransfer:
    """What load_matching_weights took over: tensors copied, the target's tensors left as they were
    (no tensor of that name and shape in the source), and the source's tensors that had no place."""

    copied: int
    kept: tuple[str, ...]
    dropped: tuple[str, ...]


def load_matching_weights(target: torch.nn.Module, source: torch.nn.Module) -> WeightTransfer:
    """Copy every tensor of source's state dict into target's tensor of the same name and shape, so a
    model can start from a trained one of a slightly different architecture (say, without the
    attention blocks of one UNet level). Raises UnrelatedWeights when not even half of target's
    tensors find a match: then the two are not related architectures and starting from source means
    nothing."""
    import torch

    mine, theirs = target.state_dict(), source.state_dict()
    matching = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    if len(matching) * 2 < len(mine):
        raise UnrelatedWeights(f"only {len(matching)} of the {len(mine)} weights match the source model's "
                               "names and shapes: it is not a near relative of this architecture")
    with torch.no_grad():
        for k, v in matching.items():
            mine[k].copy_(v)
    return WeightTransfer(copied=len(matching), kept=tuple(sorted(set(mine) - set(matching))),
                          dropped=tuple(sorted(set(theirs) - set(matching))))


def normalise_latents(vae: AutoencoderKL, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Re-parametrise the VAE in place so its latents (posterior means), times its scaling factor, have
    mean 0 and std 1 per channel, given their current per-channel mean and std. Exact: quant_conv's
    mean outputs become (z - mean) * c with c = 1 / (std * scaling), its log-variance outputs shift by
    2 log c, and post_quant_conv undoes the change, so decode(encode(x)) is unchanged."""
    import torch

    n = int(vae.config.latent_channels)
    c = 1.0 / (std.double() * float(vae.config.scaling_factor))
    m = mean.double()
    with torch.no_grad():
        q, p = vae.quant_conv, vae.post_quant_conv
        w, b = q.weight.double(), q.bias.double()
        w[:n] *= c[:, None, None, None]
        b[:n] = (b[:n] - m) * c
        b[n:] += 2.0 * torch.log(c)
        q.weight.copy_(w)
        q.bias.copy_(b)
        pw, pb = p.weight.double(), p.bias.double()
        p.bias.copy_(pb + pw[:, :, 0, 0] @ m)
        p.weight.copy_(pw / c[None, :, None, None])


def latent_stats(vae: AutoencoderKL, pixels: torch.Tensor, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the posterior means of uint8 images [N, 3, H, W]."""
    import torch

    from modules.training.dataset import to_unit_range

    device = next(vae.parameters()).device
    total, total_sq, count = None, None, 0
    with torch.no_grad():
        for start in range(0, len(pixels), batch_size):
            x = to_unit_range(pixels[start : start + batch_size].to(device))
            z = vae.encode(x).latent_dist.mean.double()
            s, s2 = z.sum((0, 2, 3)), (z * z).sum((0, 2, 3))
            total = s if total is None else total + s
            total_sq = s2 if total_sq is None else total_sq + s2
            count += z.shape[0] * z.shape[2] * z.shape[3]
    assert total is not None and total_sq is not None
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().cpu(), std.float().cpu()


def export_checkpoint(model: LoadedModel, path: Path | str, dtype: torch.dtype | None = None,
                      metadata: dict[str, str] | None = None) -> Path:
    """Write the model as one LDM-layout .safetensors file (weights cast to dtype, default float16),
    atomically: a hidden partial file beside it is renamed into place when complete."""
    import torch

    from modules.model_manager.diffusers_to_ldm import save_ldm_checkpoint
    from modules.model_manager.loaded_model import LoadedModel

    path = Path(path)
    dtype = dtype or torch.float16

    def cast(module: torch.nn.Module) -> Any:
        clone = copy.deepcopy(module)
        torch.nn.Module.to(clone, device="cpu", dtype=dtype)  # plain move (ModelMixin.to only adds a warning)
        return clone

    export = LoadedModel(arch=model.arch, unet=cast(model.unet), vae=cast(model.vae),
                         text_encoders=[cast(e) for e in model.text_encoders], tokenizers=model.tokenizers,
                         prediction_type=model.prediction_type, scheduler_config=model.scheduler_config)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    save_ldm_checkpoint(export, partial, metadata)
    os.chmod(partial, 0o644)  # safetensors creates files readable by the owner only
    os.replace(partial, path)
    return path
