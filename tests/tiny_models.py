"""Tiny, randomly initialised SD1 / SD2 / SDXL models with the real architectures, for tests.

They load through the same code as real checkpoints (write_tiny_checkpoint saves the LDM single-file
layout) and run a 64x64, 2-step txt2img in well under a second on a CPU. The VAE has two blocks, so
its scale factor is 2 (a 64x64 image has a 32x32 latent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from modules.model_manager.loaded_model import LoadedModel, PredictionType

ARCHS = ("sd1", "sd2", "sdxl")


def tiny_unet_config(arch: str, prediction_type: PredictionType = "epsilon") -> dict[str, Any]:
    """UNet2DConditionModel kwargs: the arch's attention pattern and head rule, tiny sizes."""
    common: dict[str, Any] = {"in_channels": 4, "out_channels": 4, "layers_per_block": 1}
    if arch == "sd1":
        return common | {
            "sample_size": 64,
            "block_out_channels": [32, 64],
            "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
            "cross_attention_dim": 64,
            "attention_head_dim": 8,
            "use_linear_projection": False,
            "transformer_layers_per_block": 1,
        }
    if arch == "sd2":
        return common | {
            "sample_size": 96 if prediction_type == "v_prediction" else 64,
            "block_out_channels": [64, 128],
            "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
            "cross_attention_dim": 64,
            "attention_head_dim": [1, 2],
            "use_linear_projection": True,
            "transformer_layers_per_block": 1,
        }
    if arch == "sdxl":
        return common | {
            "sample_size": 128,
            "block_out_channels": [64, 128],
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
            "cross_attention_dim": 128,  # CLIP-L hidden 64 + bigG hidden 64
            "attention_head_dim": [1, 2],
            "use_linear_projection": True,
            "transformer_layers_per_block": [1, 2],
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "projection_class_embeddings_input_dim": 32 + 6 * 8,  # pooled (projection_dim 32) + 6 sizes
        }
    raise ValueError(f"unknown arch {arch!r}")


def tiny_vae_config(arch: str) -> dict[str, Any]:
    return {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["DownEncoderBlock2D"] * 2,
        "up_block_types": ["UpDecoderBlock2D"] * 2,
        "block_out_channels": [32, 64],
        "layers_per_block": 1,
        "latent_channels": 4,
        "sample_size": {"sd1": 512, "sd2": 768, "sdxl": 1024}[arch],
        "scaling_factor": 0.13025 if arch == "sdxl" else 0.18215,
    }


def tiny_text_configs(arch: str) -> list[dict[str, Any]]:
    """CLIPTextConfig kwargs (real vocabulary so the shipped tokenizer works; 64 wide, 2 layers)."""
    base = {
        "vocab_size": 49408,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 1,
        "max_position_embeddings": 77,
        "projection_dim": 64,
    }
    clip_l = base | {"hidden_act": "quick_gelu"}
    open_clip = base | {"hidden_act": "gelu"}
    if arch == "sd1":
        return [clip_l]
    if arch == "sd2":
        return [open_clip]
    return [clip_l, open_clip | {"projection_dim": 32}]


def build_tiny_model(arch: str, seed: int = 0, prediction_type: PredictionType = "epsilon",
                     unet_in_channels: int = 4) -> LoadedModel:
    """A LoadedModel with seeded random weights (float32, CPU, eval mode); unet_in_channels 9 makes an
    inpainting model (latents + mask + masked-image latents)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from modules.model_manager.checkpoints import scheduler_config, tokenizers_for

    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**(tiny_unet_config(arch, prediction_type) | {"in_channels": unet_in_channels}))
        vae = AutoencoderKL(**tiny_vae_config(arch))
        encoders: list[Any] = []
        for i, cfg in enumerate(tiny_text_configs(arch)):
            cls = CLIPTextModelWithProjection if arch == "sdxl" and i == 1 else CLIPTextModel
            encoders.append(cls(CLIPTextConfig(**cfg)))
    for module in (unet, vae, *encoders):
        module.eval()
        module.requires_grad_(False)
    return LoadedModel(
        arch=arch,  # type: ignore[arg-type]
        unet=unet,
        vae=vae,
        text_encoders=encoders,
        tokenizers=tokenizers_for(arch),  # type: ignore[arg-type]
        prediction_type=prediction_type,
        scheduler_config=scheduler_config(prediction_type),
        device=torch.device("cpu"),
        dtype=torch.float32,
        extra={"format": "tiny"},
    )


def write_tiny_checkpoint(
    folder: Path,
    arch: str,
    name: str | None = None,
    seed: int = 0,
    suffix: str = ".safetensors",
    prediction_type: PredictionType = "epsilon",
    unet_in_channels: int = 4,
) -> Path:
    """Save a tiny model as `<folder>/<name><suffix>` in the LDM single-file layout; returns the path.

    .safetensors files carry modelspec.prediction_type; a .ckpt has no metadata, so a v_prediction
    model saved as .ckpt also gets a `<name>.yaml` with parameterization "v" beside it.
    """
    from modules.model_manager.diffusers_to_ldm import save_ldm_checkpoint

    folder = Path(folder)
    path = folder / f"{name or 'tiny-' + arch}{suffix}"
    model = build_tiny_model(arch, seed=seed, prediction_type=prediction_type, unet_in_channels=unet_in_channels)
    save_ldm_checkpoint(model, path)
    if prediction_type == "v_prediction" and suffix != ".safetensors":
        path.with_suffix(".yaml").write_text('model:\n  params:\n    parameterization: "v"\n', encoding="utf-8")
    return path


def write_tiny_diffusers_folder(
    folder: Path, arch: str, seed: int = 0, prediction_type: PredictionType = "epsilon"
) -> Path:
    """Save a tiny model as a diffusers folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/…)."""
    model = build_tiny_model(arch, seed=seed, prediction_type=prediction_type)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.unet.save_pretrained(folder / "unet")
    model.vae.save_pretrained(folder / "vae")
    suffixes = ["", "_2"][: len(model.text_encoders)]
    for sfx, encoder, tokenizer in zip(suffixes, model.text_encoders, model.tokenizers, strict=True):
        encoder.save_pretrained(folder / f"text_encoder{sfx}")
        tokenizer.save_pretrained(folder / f"tokenizer{sfx}")
    (folder / "scheduler").mkdir(exist_ok=True)
    sched = {"_class_name": "EulerDiscreteScheduler", **model.scheduler_config}
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(sched), encoding="utf-8")
    pipeline = "StableDiffusionXLPipeline" if arch == "sdxl" else "StableDiffusionPipeline"
    index: dict[str, Any] = {
        "_class_name": pipeline,
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
    }
    if arch == "sdxl":
        index["text_encoder_2"] = ["transformers", "CLIPTextModelWithProjection"]
        index["tokenizer_2"] = ["transformers", "CLIPTokenizer"]
    (folder / "model_index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    return folder


def declare_size(path: Path, size: str) -> None:
    """Write 'modelspec.resolution' (e.g. '64x64') into a .safetensors checkpoint's metadata."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata() or {})
    save_file(load_file(str(path)), str(path), metadata={**metadata, "modelspec.resolution": size})


def spoil_weights(path: Path, key: str = "model.diffusion_model.out.2.weight") -> None:
    """Put NaN into one tensor of a .safetensors checkpoint (by default the UNet's output convolution, so
    every image comes out as NaN), the way a broken merge or a damaged download leaves a file."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), "pt") as f:
        metadata = dict(f.metadata() or {})
    tensors = load_file(str(path))
    tensors[key] = torch.full_like(tensors[key], float("nan"))
    save_file(tensors, str(path), metadata=metadata)
