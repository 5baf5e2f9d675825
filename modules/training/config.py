"""Training settings as frozen dataclasses: model sizes, the optimisation loop, and each stage's extras."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MixedPrecision = Literal["no", "fp16", "bf16"]
LrSchedule = Literal["constant", "linear", "cosine"]
Prediction = Literal["epsilon", "v_prediction"]

GROUP_NORM = 32  # diffusers' default norm_num_groups, which the checkpoint loader assumes
SD1_HEADS = 8  # SD1 UNets use 8 attention heads everywhere (the loader relies on it)
CLIP_HEAD_CHANNELS = 64  # CLIP text encoders: 64 channels per head (the loader relies on it)


@dataclass(frozen=True)
class SD1Sizes:
    """Sizes of an SD 1.x-architecture model, limited to what the checkpoint loader infers back from
    tensor shapes: 8 UNet heads, 64 channels per text-encoder head, cross-attention width = text width,
    channel counts divisible by 32 (group norm)."""

    unet_channels: tuple[int, ...] = (64, 128, 192)
    unet_attention: tuple[bool, ...] = (False, True, True)  # cross-attention at each UNet level
    unet_layers_per_block: int = 1
    text_hidden: int = 128
    text_layers: int = 4
    text_intermediate: int = 512
    vae_channels: tuple[int, ...] = (64, 64, 64)  # 3 levels: a 128x128 image has a 32x32 latent
    vae_layers_per_block: int = 1
    latent_channels: int = 4

    @property
    def text_heads(self) -> int:
        return max(1, self.text_hidden // CLIP_HEAD_CHANNELS)

    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae_channels) - 1)

    def validate(self) -> None:
        problems = []
        if len(self.unet_channels) != len(self.unet_attention):
            problems.append("unet_attention needs one entry per UNet level")
        for c in (*self.unet_channels, *self.vae_channels):
            if c % GROUP_NORM:
                problems.append(f"channel count {c} is not a multiple of {GROUP_NORM}")
        if self.text_hidden % self.text_heads:
            problems.append(f"text_hidden {self.text_hidden} does not split into {self.text_heads} heads")
        if problems:
            raise ValueError("; ".join(problems))


def demo_sizes() -> SD1Sizes:
    """The built-in demo model: 19.1 M parameters, 38.4 MB in fp16, 128x128 images from 32x32x4 latents.
    The VAE's top level has 64 channels: with 32, group norm (32 groups) would normalise each channel
    on its own and flat colour fields would lose their colour."""
    return SD1Sizes()


def cpu_demo_sizes() -> SD1Sizes:
    """The demo model as trained on a 2-core CPU: 64x64 images, a 3-level VAE (16x16x4 latents, so a
    UNet step costs a quarter of what 32x32 latents cost), attention at the UNet's two lower levels.
    None at the first level: at 128x128 that level has 1,024 positions and its self-attention (heads of
    8 channels) took 60% of a step's time on a 2-core CPU (a step: 0.19 s with it, 0.08 s without)."""
    return SD1Sizes(unet_channels=(64, 128, 128), unet_attention=(False, True, True), text_hidden=128,
                    text_layers=2, text_intermediate=512, vae_channels=(64, 64, 64))


def tiny_sizes() -> SD1Sizes:
    """For tests: trains a step in well under a second on a CPU (64x64 images, 32x32 latents)."""
    return SD1Sizes(unet_channels=(32, 64), unet_attention=(True, True), text_hidden=64, text_layers=1,
                    text_intermediate=64, vae_channels=(32, 32))


@dataclass(frozen=True)
class TrainConfig:
    """One optimisation run. steps counts optimizer steps; each takes gradient_accumulation micro-batches
    of batch_size. Checkpoints (weights, optimizer, scheduler, EMA, step) go to the work dir every
    checkpoint_every steps and at the end; the newest keep_checkpoints are kept.

    restarts: warm restarts of the learning-rate schedule, as (step, peak factor) pairs in step order.
    At each such step the schedule begins again (warm-up, then its decay until the next restart or the
    end) with its peak at factor x learning_rate; a restart at or after `steps` is ignored.

    fit_to_time: for a run given a deadline (a time limit), end the decay when the time is up instead
    of at `steps`: once the warm-up is done, the steps per second measured so far set where this cycle
    ends (see time_fit.py), so a linear or cosine decay reaches 0 within the time the run has. A later
    run of the same work dir begins a new cycle there (a warm restart at refit_peak x learning_rate)
    and fits it to its own time. `steps` stays the most steps there can be."""

    steps: int = 1000
    batch_size: int = 32
    learning_rate: float = 1e-4
    lr_schedule: LrSchedule = "constant"
    warmup_steps: int = 0
    restarts: tuple[tuple[int, float], ...] = ()
    weight_decay: float = 0.01
    adam_betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float | None = 1.0
    gradient_accumulation: int = 1
    mixed_precision: MixedPrecision = "no"
    ema_decay: float | None = None  # e.g. 0.999; the exported weights are then the EMA weights
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    log_every: int = 50
    seed: int = 0
    cpu: bool = False  # train on the CPU even when a GPU is there
    fit_to_time: bool = False
    refit_peak: float = 0.3

    def validate(self) -> None:
        checks = [
            (self.steps >= 1, "steps must be at least 1"),
            (self.batch_size >= 1, "batch_size must be at least 1"),
            (self.gradient_accumulation >= 1, "gradient_accumulation must be at least 1"),
            (self.checkpoint_every >= 1, "checkpoint_every must be at least 1"),
            (self.keep_checkpoints >= 1, "keep_checkpoints must be at least 1"),
            (self.ema_decay is None or 0.0 < self.ema_decay < 1.0, "ema_decay must be between 0 and 1"),
            (self.learning_rate > 0, "learning_rate must be positive"),
            (not self.fit_to_time or self.lr_schedule != "constant",
             "fit_to_time needs a decaying learning-rate schedule (linear or cosine)"),
            (self.refit_peak > 0, "refit_peak must be positive"),
            (all(at >= 1 and scale > 0 for at, scale in self.restarts),
             "each learning-rate restart needs a step of at least 1 and a positive peak factor"),
            (all(a[0] < b[0] for a, b in zip(self.restarts, self.restarts[1:], strict=False)),
             "learning-rate restarts must be in increasing step order"),
        ]
        for ok, text in checks:
            if not ok:
                raise ValueError(text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VAEStageConfig:
    """Autoencoder training: L1 + L2 reconstruction plus a small KL term (per latent element)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    l1_weight: float = 1.0
    l2_weight: float = 1.0
    kl_weight: float = 1e-5
    initial_log_variance: float | None = -6.0  # a fresh VAE's posterior starts nearly deterministic
    random_flip: bool = False
    crop: int | None = None  # train on random crops of this size (the VAE is convolutional): cheaper steps
    calibration_images: int = 2048  # images used to normalise the latents after training


@dataclass(frozen=True)
class DecoderStageConfig:
    """Fine-tuning only the decoder of a finished VAE (decoder and post_quant_conv): the encoder, and so
    the latent space a UNet is trained in, stays exactly as it is. The decoder learns to draw sharper
    pictures from the latents it is given: posterior samples by default, so it also copes with the
    slightly-off latents a UNet produces. Loss: L1 + L2 on whole images (or random crops)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    l1_weight: float = 1.0
    l2_weight: float = 1.0
    sample_latents: bool = True  # False: decode the posterior means
    crop: int | None = None  # train on random crops of this size (pixels); None: whole images


@dataclass(frozen=True)
class DiffusionStageConfig:
    """UNet (+ text encoder) training on latents: epsilon prediction under the SD noise schedule."""

    train: TrainConfig = field(default_factory=TrainConfig)
    train_text_encoder: bool = True
    prediction: Prediction = "epsilon"  # "v_prediction": the exported file says so in its metadata
    caption_dropout: float = 0.1  # share of captions replaced by "" (what classifier-free guidance needs)
    noise_offset: float = 0.0  # std of a per-image, per-channel constant added to the noise
    pyramid_noise_levels: int = 0  # add this many coarser noise levels (multi-resolution noise)
    pyramid_noise_discount: float = 0.6  # weight of level i is discount**i; the sum is renormalised
    min_snr_gamma: float | None = 5.0  # Min-SNR loss weighting; None for the plain MSE
    random_flip: bool = False  # off: the demo's captions say left and right
    # Zero terminal SNR (Lin et al. 2023): the schedule is rescaled so the last timestep is pure noise,
    # so the model cannot read layout or colour off the starting noise and must take them from the
    # prompt. Needs v-prediction; the exported file carries a `ztsnr` key that the loader honours.
    zero_terminal_snr: bool = False
    high_noise_share: float = 0.0  # share of timesteps drawn from [high_noise_from, 999] (where layout is decided)
    high_noise_from: int = 700

    def validate(self) -> None:
        if self.zero_terminal_snr and self.prediction != "v_prediction":
            raise ValueError("zero terminal SNR needs v-prediction: at the last timestep there is no noise "
                             "left to tell apart from the picture, so epsilon cannot be predicted")
        if not 0.0 <= self.high_noise_share <= 1.0:
            raise ValueError("high_noise_share must be between 0 and 1")
        if not 0 <= self.high_noise_from < 1000:
            raise ValueError("high_noise_from must be a timestep between 0 and 999")
