"""Stage 1b: fine-tune only a finished VAE's decoder, so it draws sharper pictures from the same latents.

The encoder and quant_conv are frozen, so every latent (and the UNet trained on them) stays valid: a
decoder tuned after the UNet was trained can be swapped into the exported file as it is. On the demo
model this is what small shapes need: a small shape is only a few latent pixels wide, and a VAE trained
with its encoder spends little of its capacity on drawing their corners.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modules.training.config import DecoderStageConfig
from modules.training.dataset import BatchOrder, InMemoryImages, to_unit_range
from modules.training.full_model import StageControl, random_crop, save_weights, settle_weights
from modules.training.loop import StepContext, Trainer, TrainResult

if TYPE_CHECKING:
    import torch
    from diffusers import AutoencoderKL

TUNED_VAE = "vae-decoder-tuned.safetensors"


def freeze_encoder(vae: AutoencoderKL) -> None:
    """Decoder and post_quant_conv trainable, everything that makes latents frozen and in eval mode."""
    vae.requires_grad_(False)
    vae.eval()
    for part in (vae.decoder, vae.post_quant_conv):
        part.requires_grad_(True)
        part.train()


def train_decoder(images: InMemoryImages, vae: AutoencoderKL, config: DecoderStageConfig, work_dir: Path,
                  control: StageControl | None = None) -> tuple[Trainer, TrainResult]:
    """Train vae's decoder (in place) to reconstruct the images from the frozen encoder's latents;
    checkpoints in work_dir, resuming from the newest."""
    import torch

    control = control or StageControl()
    freeze_encoder(vae)
    trainer = Trainer(work_dir, {"decoder": vae.decoder, "post_quant_conv": vae.post_quant_conv}, config.train)
    trainer.resume()
    vae.to(trainer.device)
    pixels = images.pixels.to(trainer.device)
    order = BatchOrder(len(images), config.train.batch_size, config.train.seed)

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        batch = random_crop(pixels[order.indices(ctx.micro_step).to(ctx.device)], ctx, config.crop)
        x = to_unit_range(batch)
        with torch.no_grad():
            posterior = vae.encode(x).latent_dist
            z = posterior.sample(generator=ctx.generator) if config.sample_latents else posterior.mean
        rec = vae.decode(z).sample.float()
        return config.l1_weight * (rec - x).abs().mean() + config.l2_weight * ((rec - x) ** 2).mean()

    result = trainer.run(loss_fn, control.stop, control.deadline, control.on_log)
    return trainer, result


def finish_decoder(trainer: Trainer, vae: AutoencoderKL, path: Path) -> AutoencoderKL:
    """Take the EMA weights (if any), freeze the whole VAE, and save its weights to path."""
    settle_weights(trainer, vae)
    save_weights(vae, path)
    return vae
