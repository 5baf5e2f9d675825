"""Full-model training of an SD 1.x-architecture model, in two stages that each resume on their own:

1. `train_vae`: the autoencoder on images (L1 + L2 reconstruction, small KL), then `finish_vae`
   normalises its latents so that latents x 0.18215 (the scaling factor the loader gives every SD1 VAE)
   have mean 0 and std 1 per channel.
2. `train_diffusion`: UNet and text encoder on the frozen VAE's latents, epsilon (or v) prediction under the
   SD noise schedule of modules/model_manager/checkpoints.py (DDPM, scaled_linear, 1000 steps), text
   encoded the way txt2img encodes it (CLIP last hidden state), with caption dropout for CFG.

Both keep the whole dataset in memory on the training device (images as uint8, latents as fp16), which
suits small datasets; each batch is picked by a seeded order, so resumed runs repeat exactly.
The modules are called unwrapped (single device: accelerate does not wrap them in DDP there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modules.training.config import DiffusionStageConfig, SD1Sizes, VAEStageConfig
from modules.training.dataset import BatchOrder, InMemoryImages, to_unit_range
from modules.training.loop import StepContext, Trainer, TrainResult, checkpoints_in

if TYPE_CHECKING:
    import torch
    from diffusers import AutoencoderKL

    from modules.model_manager.loaded_model import LoadedModel

log = logging.getLogger(__name__)

FINAL_VAE = "vae-final.safetensors"
FROZEN_TEXT_ENCODER = "text-encoder-frozen.safetensors"  # in the diffusion stage's work dir, when not trained


@dataclass
class StageControl:
    """When to stop early: stop() returning True, or time.monotonic() passing deadline."""

    stop: Callable[[], bool] | None = None
    deadline: float | None = None
    on_log: Callable[[int, dict[str, float]], None] | None = None


def _maybe_flip(x: torch.Tensor, ctx: StepContext, enabled: bool) -> torch.Tensor:
    import torch

    if not enabled:
        return x
    flip = torch.rand(x.shape[0], generator=ctx.generator, device=ctx.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_crop(x: torch.Tensor, ctx: StepContext, size: int | None) -> torch.Tensor:
    """One random size x size window per batch (seeded by the step), or x itself."""
    import torch

    h, w = x.shape[-2:]
    if not size or (size >= h and size >= w):
        return x
    top = int(torch.randint(0, h - size + 1, (1,), generator=ctx.generator, device=ctx.device))
    left = int(torch.randint(0, w - size + 1, (1,), generator=ctx.generator, device=ctx.device))
    return x[..., top : top + size, left : left + size]


# --- stage 1: the autoencoder ----------------------------------------------------------------------
def train_vae(images: InMemoryImages, vae: AutoencoderKL, config: VAEStageConfig, work_dir: Path,
              control: StageControl | None = None) -> tuple[Trainer, TrainResult]:
    """Train vae (in place) on the images; checkpoints in work_dir, resuming from the newest."""
    control = control or StageControl()
    if config.initial_log_variance is not None:
        set_log_variance(vae, config.initial_log_variance)
    vae.train()
    vae.requires_grad_(True)
    trainer = Trainer(work_dir, {"vae": vae}, config.train)
    trainer.resume()
    pixels = images.pixels.to(trainer.device)
    order = BatchOrder(len(images), config.train.batch_size, config.train.seed)

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        batch = random_crop(pixels[order.indices(ctx.micro_step).to(ctx.device)], ctx, config.crop)
        x = _maybe_flip(to_unit_range(batch), ctx, config.random_flip)
        posterior = vae.encode(x).latent_dist
        z = posterior.sample(generator=ctx.generator)
        rec = vae.decode(z).sample.float()
        loss = config.l1_weight * (rec - x).abs().mean() + config.l2_weight * ((rec - x) ** 2).mean()
        if config.kl_weight:
            loss = loss + config.kl_weight * posterior.kl().mean() / z[0].numel()
        return loss

    result = trainer.run(loss_fn, control.stop, control.deadline, control.on_log)
    vae.eval()
    return trainer, result


def set_log_variance(vae: AutoencoderKL, value: float) -> None:
    """Make the encoder's log-variance outputs start at value (quant_conv's second half: zero weights,
    bias = value). With the default init they start near 0, i.e. the sampled latents are mostly noise,
    and Adam needs thousands of steps to shrink the noise before reconstructions get sharp."""
    import torch

    n = int(vae.config.latent_channels)
    with torch.no_grad():
        vae.quant_conv.weight[n:].zero_()
        vae.quant_conv.bias[n:].fill_(value)


def finish_vae(trainer: Trainer, vae: AutoencoderKL, images: InMemoryImages, config: VAEStageConfig,
               path: Path) -> AutoencoderKL:
    """Take the EMA weights (if any), normalise the latents, and save the VAE's weights to path."""
    from modules.training.models import latent_stats, normalise_latents

    settle_weights(trainer, vae)
    mean, std = latent_stats(vae, images.pixels[: config.calibration_images])
    log.info("VAE latent mean %s std %s before normalising", mean.tolist(), std.tolist())
    normalise_latents(vae, mean, std)
    save_weights(vae, path)
    return vae


def settle_weights(trainer: Trainer, module: torch.nn.Module) -> None:
    """Put the trainer's final weights (its EMA weights, if it keeps an EMA) into module for good, in
    eval mode and frozen."""
    with trainer.ema_weights():
        state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    module.load_state_dict(state)
    module.eval()
    module.requires_grad_(False)


def save_weights(module: torch.nn.Module, path: Path) -> None:
    """A module's state dict as .safetensors, written to a hidden partial file and renamed into place."""
    import os

    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    save_file({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, str(partial))
    os.replace(partial, path)


def load_vae(sizes: SD1Sizes, path: Path) -> AutoencoderKL:
    from safetensors.torch import load_file

    from modules.training.models import build_vae

    vae = build_vae(sizes)
    vae.load_state_dict(load_file(str(path)))
    vae.eval()
    vae.requires_grad_(False)
    return vae


# --- stage 2: UNet + text encoder on latents -------------------------------------------------------
def encode_latents(vae: AutoencoderKL, pixels: torch.Tensor, device: torch.device,
                   batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and std (fp16, on device) of uint8 images [N, 3, H, W], in raw latent units."""
    import torch

    vae.to(device)
    means, stds = [], []
    with torch.no_grad():
        for start in range(0, len(pixels), batch_size):
            dist = vae.encode(to_unit_range(pixels[start : start + batch_size].to(device))).latent_dist
            means.append(dist.mean.half())
            stds.append(dist.std.half())
    return torch.cat(means), torch.cat(stds)


def tokenize(model: LoadedModel, captions: list[str]) -> torch.Tensor:
    """Token ids [N, 77] as txt2img makes them (padded to the full window, truncated)."""
    tokenizer = model.tokenizers[0]
    return tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                     return_tensors="pt").input_ids


def train_diffusion(model: LoadedModel, images: InMemoryImages, config: DiffusionStageConfig, work_dir: Path,
                    control: StageControl | None = None) -> tuple[Trainer, TrainResult]:
    """Train model.unet (and model.text_encoders[0] unless frozen) in place on the images' latents under
    model.vae (frozen); checkpoints in work_dir, resuming from the newest."""
    import torch

    config.validate()
    if config.zero_terminal_snr != bool(model.scheduler_config.get("rescale_betas_zero_snr")):
        raise ValueError("the model's noise schedule does not match the stage's zero_terminal_snr setting")
    control = control or StageControl()
    unet, text_encoder, vae = model.unet, model.text_encoders[0], model.vae
    vae.eval()
    vae.requires_grad_(False)
    unet.train()
    unet.requires_grad_(True)
    text_encoder.train(config.train_text_encoder)
    text_encoder.requires_grad_(config.train_text_encoder)
    modules: dict[str, torch.nn.Module] = {"unet": unet}
    if config.train_text_encoder:
        modules["text_encoder"] = text_encoder
    else:
        keep_frozen_text_encoder(text_encoder, work_dir / FROZEN_TEXT_ENCODER)
    trainer = Trainer(work_dir, modules, config.train)
    if trainer.resume() >= config.train.steps:  # finished by an earlier run: no latents to encode
        unet.eval()
        text_encoder.eval()
        found = checkpoints_in(trainer.checkpoint_dir)
        return trainer, TrainResult(trainer.step, True, None, found[-1][1] if found else None)
    device = trainer.device
    text_encoder.to(device)

    mean, std = encode_latents(vae, images.pixels, device)
    ids = tokenize(model, images.captions).to(device)
    empty = tokenize(model, [""]).to(device)
    scaling = float(vae.config.scaling_factor)
    alphas = alphas_cumprod(model).to(device)
    steps = len(alphas)
    order = BatchOrder(len(images), config.train.batch_size, config.train.seed)

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        g, dev = ctx.generator, ctx.device
        index = order.indices(ctx.micro_step).to(dev)
        m, s = mean[index].float(), std[index].float()
        latents = (m + s * torch.randn(m.shape, generator=g, device=dev)) * scaling
        latents = _maybe_flip(latents, ctx, config.random_flip)
        n = latents.shape[0]
        tokens = ids[index]
        if config.caption_dropout:
            drop = torch.rand(n, generator=g, device=dev) < config.caption_dropout
            tokens = torch.where(drop[:, None], empty, tokens)
        noise = training_noise(latents.shape, config, g, dev)
        t = training_timesteps(n, steps, config, g, dev)
        return epsilon_loss(model, latents, tokens, noise, t, alphas, config)

    result = trainer.run(loss_fn, control.stop, control.deadline, control.on_log)
    unet.eval()
    text_encoder.eval()
    return trainer, result


def keep_frozen_text_encoder(text_encoder: torch.nn.Module, path: Path) -> None:
    """A frozen text encoder is not in the checkpoints, yet the UNet is trained against exactly its
    outputs: the first run saves it to path, and every later run of the same work dir (a resume, an
    export) loads it back, whatever encoder the caller built (a fresh one is seeded, but its weights
    depend on what was drawn before it, such as the UNet's architecture)."""
    from safetensors.torch import load_file

    if path.is_file():
        text_encoder.load_state_dict(load_file(str(path)))
    else:
        save_weights(text_encoder, path)


def training_timesteps(n: int, steps: int, config: DiffusionStageConfig, g: torch.Generator,
                       device: torch.device) -> torch.Tensor:
    """Uniform timesteps; with config.high_noise_share, that share of them comes from
    [high_noise_from, steps): the noise levels where layout (where a shape goes, which shape it is) is
    decided, and so where the prompt's words for it have to be learned."""
    import torch

    t = torch.randint(0, steps, (n,), generator=g, device=device)
    if config.high_noise_share:
        high = torch.randint(min(config.high_noise_from, steps - 1), steps, (n,), generator=g, device=device)
        pick = torch.rand(n, generator=g, device=device) < config.high_noise_share
        t = torch.where(pick, high, t)
    return t


def training_noise(shape: torch.Size, config: DiffusionStageConfig, g: torch.Generator,
                   device: torch.device) -> torch.Tensor:
    """Gaussian noise, optionally with coarser levels mixed in (pyramid / multi-resolution noise,
    renormalised to unit std) and a per-image, per-channel offset. Both put noise into the low
    frequencies, where an image's layout and overall colour live: otherwise the SD schedule leaves
    those visible even at the last timestep, the model learns to read them off the noise instead of
    the prompt, and at sampling time takes them from the random starting noise."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = shape
    noise = torch.randn(shape, generator=g, device=device)
    if config.pyramid_noise_levels:
        for level in range(1, config.pyramid_noise_levels + 1):
            size = (max(1, h >> level), max(1, w >> level))
            coarse = torch.randn((n, c, *size), generator=g, device=device)
            noise = noise + config.pyramid_noise_discount**level * F.interpolate(coarse, size=(h, w), mode="bilinear")
        noise = noise / noise.std(dim=(1, 2, 3), keepdim=True)
    if config.noise_offset:
        noise = noise + config.noise_offset * torch.randn((n, c, 1, 1), generator=g, device=device)
    return noise


def epsilon_loss(model: LoadedModel, latents: torch.Tensor, tokens: torch.Tensor, noise: torch.Tensor,
                 t: torch.Tensor, alphas: torch.Tensor, config: DiffusionStageConfig) -> torch.Tensor:
    """Prediction loss of model.unet on latents (already scaled) noised to timesteps t, conditioned on
    token ids: the target is the noise (epsilon) or, with config.prediction "v_prediction",
    v = sqrt(a) noise - sqrt(1 - a) latents; Min-SNR weighted when configured (min(snr, gamma) / snr for
    epsilon, min(snr, gamma) / (snr + 1) for v: the same weighting of the implied x0 error)."""
    import torch

    a = alphas[t][:, None, None, None]
    noisy = a.sqrt() * latents + (1 - a).sqrt() * noise
    with torch.set_grad_enabled(config.train_text_encoder and torch.is_grad_enabled()):
        hidden = model.text_encoders[0](tokens).last_hidden_state
    pred = model.unet(noisy, t, encoder_hidden_states=hidden).sample
    v = config.prediction == "v_prediction"
    target = a.sqrt() * noise - (1 - a).sqrt() * latents if v else noise
    loss = ((pred.float() - target.float()) ** 2).mean(dim=(1, 2, 3))
    if config.min_snr_gamma:
        snr = alphas[t] / (1 - alphas[t])
        loss = loss * snr.clamp(max=config.min_snr_gamma) / (snr + 1 if v else snr)
    return loss.mean()


def alphas_cumprod(model: LoadedModel) -> torch.Tensor:
    """The training schedule's cumulative alphas (1000 values) as float32."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(**model.scheduler_config).alphas_cumprod.float()
