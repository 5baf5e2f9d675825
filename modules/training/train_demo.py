"""Train the built-in demo model from scratch and export it as one .safetensors file.

    python -m modules.training.train_demo --out models/Stable-diffusion/demo-shapes.safetensors \\
        --work-dir cache/demo-shapes --steps 20000 --time-limit 540

`--preset cpu` is the recipe the shipped file was trained with on a 2-core CPU (64x64 images, 16x16
latents, v-prediction); the default `gpu` preset is the larger 128x128 recipe for a lent GPU.

1. writes the shapes dataset to <work-dir>/data (skipped when it is already complete);
2. trains the VAE (<work-dir>/vae), normalises its latents, saves vae-final.safetensors;
3. fine-tunes only the VAE's decoder (<work-dir>/decoder; the latents do not change);
4. trains UNet + text encoder on the latents (<work-dir>/diffusion);
5. exports the EMA weights in fp16 to --out (written to a hidden file, then renamed).

Every stage checkpoints and resumes, so running the same command again continues where the last run
stopped (after a crash, a kill, or --time-limit). With --time-limit the run stops in time to export
what it has; exit status 0 means all steps are done, 3 means "stopped early: run again to continue".
See docs/demo-model.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modules.training.config import (
    DecoderStageConfig,
    DiffusionStageConfig,
    MixedPrecision,
    SD1Sizes,
    TrainConfig,
    VAEStageConfig,
    cpu_demo_sizes,
    demo_sizes,
)

if TYPE_CHECKING:
    from diffusers import AutoencoderKL

    from modules.training.dataset import InMemoryImages

log = logging.getLogger("train_demo")

STOPPED_EARLY = 3
EXPORT_RESERVE_S = 20.0  # time kept back from --time-limit for exporting


@dataclass(frozen=True)
class DemoRecipe:
    images: int = 50_000
    dataset_seed: int = 0
    resolution: int = 128
    seed: int = 0
    sizes: SD1Sizes = field(default_factory=demo_sizes)
    vae: VAEStageConfig = field(default_factory=lambda: VAEStageConfig(train=TrainConfig(
        steps=3000, batch_size=64, learning_rate=1e-3, lr_schedule="cosine", warmup_steps=100,
        checkpoint_every=500, log_every=100, ema_decay=None, fit_to_time=True)))
    # what the CPU run taught (see cpu_recipe): v-prediction on the zero-terminal-SNR schedule, a frozen
    # random text encoder with strong token embeddings, lr 1e-3 decaying by cosine (the kind is learned
    # as the rate decays). A lent GPU gives one run of a few minutes: with --time-limit, every stage's
    # cosine is fitted to its time (fit_to_time), so it reaches 0 when the time is up; a further run
    # begins a new cycle at 0.3 x the peak (a warm restart, as in the CPU recipe)
    diffusion: DiffusionStageConfig = field(default_factory=lambda: DiffusionStageConfig(
        prediction="v_prediction", min_snr_gamma=None, noise_offset=0.1, pyramid_noise_levels=2,
        zero_terminal_snr=True, high_noise_share=0.3, train_text_encoder=False,
        train=TrainConfig(steps=20_000, batch_size=256, learning_rate=1e-3, lr_schedule="cosine", warmup_steps=500,
                          checkpoint_every=1000, log_every=100, ema_decay=0.999, fit_to_time=True)))
    # decoder-only fine-tune after the VAE stage (None: skip it)
    decoder: DecoderStageConfig | None = field(default_factory=lambda: DecoderStageConfig(train=TrainConfig(
        steps=1500, batch_size=64, learning_rate=5e-4, lr_schedule="cosine", warmup_steps=50,
        checkpoint_every=500, log_every=100, fit_to_time=True)))
    vae_time_share: float = 0.2  # with a time limit, the VAE stage ends after this share of it at most
    decoder_time_share: float = 0.1  # ... and the decoder stage after this share
    text_token_std: float | None = 1.0  # token embedding std of a fresh text encoder (None: CLIP's 0.02)


def cpu_recipe() -> DemoRecipe:
    """A 2-core CPU's recipe, which made the shipped demo file (about 6 hours; docs/demo-model.md has
    the measured runs): 64x64 images through a 3-level VAE (16x16x4 latents; trained on 32x32 crops, a
    quarter of the cost per step), UNet (64, 128, 128) with attention at its two lower levels (none at
    the first, which costs most at 128x128), a 2-layer text encoder, 27,000 UNet steps in three cosine
    cycles: 16,000 at lr 1e-3, then two warm restarts at 3e-4 for 5,000 and 6,000 steps. The kind is
    learned last: 51% after 7,000 steps, 61% after 13,263, 70% after 21,000 and 84% after 27,000 (a
    single cosine from nothing was slow on it; the restarts lifted it).

    - v-prediction on the zero-terminal-SNR schedule, with offset and pyramid noise: at the last
      timestep the UNet sees pure noise and must predict the picture from the prompt alone, so layout
      and colours cannot be read off the starting noise; 30% of the timesteps come from the
      high-noise end, where layout is decided.
    - The text encoder is random and frozen, with token embeddings of std 1: every word keeps its own,
      equally strong direction. Trained jointly, the encoder let colour and size words take over its
      layer-normed output and squeezed position and shape words to almost nothing (left/right differed
      by 0.3 against 15 for red/blue), so the UNet could not learn them.
    - After the VAE, its decoder alone is fine-tuned on whole images: the VAE trained on crops drew
      small shapes' corners so blurred that the analyzer read their kind right on 63% of reconstructions."""
    cpu = {"cpu": True, "mixed_precision": "no"}
    return DemoRecipe(
        images=20_000, resolution=64, sizes=cpu_demo_sizes(), vae_time_share=0.25, decoder_time_share=0.2,
        vae=VAEStageConfig(crop=32, train=TrainConfig(
            steps=1500, batch_size=16, learning_rate=2e-3, lr_schedule="cosine", warmup_steps=50,
            checkpoint_every=100, log_every=50, **cpu)),
        decoder=DecoderStageConfig(train=TrainConfig(
            steps=2100, batch_size=16, learning_rate=5e-4, lr_schedule="cosine", warmup_steps=50,
            checkpoint_every=100, log_every=50, **cpu)),
        diffusion=DiffusionStageConfig(
            prediction="v_prediction", min_snr_gamma=None, noise_offset=0.1, pyramid_noise_levels=2,
            zero_terminal_snr=True, high_noise_share=0.3, train_text_encoder=False,
            train=TrainConfig(steps=27000, batch_size=32, learning_rate=1e-3, lr_schedule="cosine",
                              warmup_steps=100, restarts=((16000, 0.3), (21000, 0.3)), checkpoint_every=100,
                              log_every=50, ema_decay=0.995, **cpu)))


PRESETS = {"gpu": DemoRecipe, "cpu": cpu_recipe}


@dataclass
class DemoOutcome:
    finished: bool
    vae_steps: int = 0
    decoder_steps: int = 0
    diffusion_steps: int = 0
    vae_check: dict[str, float] = field(default_factory=dict)  # analyzer agreement on VAE reconstructions
    exported: Path | None = None
    size_bytes: int = 0
    seconds: float = 0.0
    message: str = ""


def default_precision() -> MixedPrecision:
    import torch

    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _with_train(stage: VAEStageConfig | DiffusionStageConfig, **changes: object):  # noqa: ANN202
    return replace(stage, train=replace(stage.train, **changes))


def train_demo(out: Path, work_dir: Path, recipe: DemoRecipe, time_limit: float | None = None,
               workers: int = 0, init_from: Path | None = None, fresh_text_encoder: bool = False) -> DemoOutcome:
    """Run (or continue) the whole recipe; exports whenever the diffusion stage has trained any step.
    init_from: an exported demo checkpoint whose weights (VAE, UNet, text encoder) a work dir without
    diffusion checkpoints starts from, instead of training from scratch; fresh_text_encoder: take only
    its VAE and UNet, with the recipe's freshly built text encoder."""
    from modules.demo.shapes import write_dataset
    from modules.model_manager.checkpoints import load_checkpoint
    from modules.training.dataset import load_folder
    from modules.training.full_model import (
        FINAL_VAE,
        StageControl,
        finish_vae,
        load_vae,
        save_weights,
        train_diffusion,
        train_vae,
    )
    from modules.training.loop import checkpoints_in
    from modules.training.models import build_sd1, build_vae, export_checkpoint, load_matching_weights
    from modules.training.vae_check import vae_check

    started = time.monotonic()
    deadline = started + time_limit - EXPORT_RESERVE_S if time_limit else None
    outcome = DemoOutcome(finished=False)
    data = write_dataset(work_dir / "data", recipe.images, recipe.dataset_seed, recipe.resolution, workers)
    images = load_folder(data, recipe.resolution, workers)
    log.info("dataset: %d images in %s (%.1fs)", len(images), data, time.monotonic() - started)

    final_vae = work_dir / "vae" / FINAL_VAE
    start_from = None
    if init_from is not None and not checkpoints_in(work_dir / "diffusion" / "checkpoints"):
        start_from = load_checkpoint(init_from)
        log.info("starting from the weights of %s (fresh optimizer)", init_from)
        save_weights(start_from.vae, final_vae)  # the UNet was trained on this VAE's latents
    if final_vae.is_file():
        vae = load_vae(recipe.sizes, final_vae)
    else:
        vae = build_vae(recipe.sizes, recipe.seed + 1)
        vae_deadline = started + recipe.vae_time_share * time_limit if time_limit else None
        trainer, result = train_vae(images, vae, recipe.vae, work_dir / "vae", StageControl(deadline=vae_deadline))
        outcome.vae_steps = result.step
        if not result.finished:
            log.info("VAE stage ends early at step %d (its share of --time-limit is used up)", result.step)
        vae = finish_vae(trainer, vae, images, recipe.vae, final_vae)
        del trainer
        _free_memory()
        outcome.vae_check = vae_check(vae, recipe.resolution)
        log.info("analyzer on VAE reconstructions: %s", outcome.vae_check)
    if recipe.decoder is not None:
        vae = _tuned_decoder(vae, images, recipe, work_dir, outcome, time_limit)

    model = build_sd1(recipe.sizes, recipe.seed, vae=vae, prediction=recipe.diffusion.prediction,
                      zero_terminal_snr=recipe.diffusion.zero_terminal_snr, text_token_std=recipe.text_token_std)
    if start_from is not None:
        transfer = load_matching_weights(model.unet, start_from.unet)
        log.info("UNet: %d tensors taken from %s, %d left as built, %d of its tensors dropped",
                 transfer.copied, init_from.name, len(transfer.kept), len(transfer.dropped))
        if not fresh_text_encoder:
            model.text_encoders[0].load_state_dict(start_from.text_encoders[0].state_dict())
        del start_from
    trainer, result = train_diffusion(model, images, recipe.diffusion, work_dir / "diffusion",
                                      StageControl(deadline=deadline))
    outcome.diffusion_steps = result.step
    outcome.finished = result.finished
    if result.step == 0:
        outcome.message = "no diffusion step trained yet: run again with more time"
        return outcome
    metadata = {
        "modelspec.title": out.stem,
        "modelspec.architecture": "stable-diffusion-v1",
        "modelspec.resolution": f"{recipe.resolution}x{recipe.resolution}",
        "modelspec.description": "Demo model trained by sdwebui on procedural coloured shapes",
        "sdwebui.training": json.dumps({"diffusion_steps": result.step, "finished": result.finished,
                                        "recipe": asdict(recipe)}, default=str),
    }
    with trainer.ema_weights():
        outcome.exported = export_checkpoint(model, out, metadata=metadata)
    outcome.size_bytes = outcome.exported.stat().st_size
    outcome.seconds = time.monotonic() - started
    total = recipe.diffusion.train.steps
    outcome.message = (f"exported {out} ({outcome.size_bytes / 1e6:.1f} MB) after {result.step}/{total} steps"
                       + ("" if result.finished else "; stopped early: run the same command again to continue"))
    (work_dir / "summary.json").write_text(json.dumps(asdict(outcome), default=str, indent=1), encoding="utf-8")
    return outcome


def _tuned_decoder(vae: AutoencoderKL, images: InMemoryImages, recipe: DemoRecipe, work_dir: Path,
                   outcome: DemoOutcome, time_limit: float | None) -> AutoencoderKL:
    """The VAE with its decoder fine-tuned (stage 3), trained now unless an earlier run finished it."""
    from modules.training.decoder_stage import TUNED_VAE, finish_decoder, train_decoder
    from modules.training.full_model import StageControl, load_vae
    from modules.training.vae_check import vae_check

    assert recipe.decoder is not None
    tuned = work_dir / "decoder" / TUNED_VAE
    if tuned.is_file():
        return load_vae(recipe.sizes, tuned)
    deadline = time.monotonic() + recipe.decoder_time_share * time_limit if time_limit else None
    trainer, result = train_decoder(images, vae, recipe.decoder, work_dir / "decoder", StageControl(deadline=deadline))
    outcome.decoder_steps = result.step
    if not result.finished:
        log.info("decoder stage ends early at step %d (its share of --time-limit is used up)", result.step)
    vae = finish_decoder(trainer, vae, tuned)
    del trainer
    _free_memory()
    outcome.vae_check = vae_check(vae, recipe.resolution)
    log.info("analyzer on reconstructions with the tuned decoder: %s", outcome.vae_check)
    return vae


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def build_recipe(args: argparse.Namespace) -> DemoRecipe:
    """The preset's recipe, with the options given on the command line instead of its values."""
    recipe = PRESETS[args.preset]()

    def given(name: str, default: object) -> object:
        value = getattr(args, name)
        return default if value is None else value

    recipe = replace(recipe, images=given("images", recipe.images), seed=given("seed", recipe.seed),
                     dataset_seed=given("dataset_seed", recipe.dataset_seed),
                     resolution=given("resolution", recipe.resolution))
    common: dict[str, object] = {"seed": recipe.seed}
    if args.mixed_precision or args.preset == "gpu":
        common["mixed_precision"] = args.mixed_precision or default_precision()
    if args.cpu:
        common["cpu"] = True
    if args.fit_to_time is not None:
        common["fit_to_time"] = args.fit_to_time
    v, d = recipe.vae.train, recipe.diffusion.train
    vae = _with_train(recipe.vae, steps=given("vae_steps", v.steps), batch_size=given("vae_batch_size", v.batch_size),
                      **common)
    steps = int(given("steps", d.steps))
    restarts = given("restarts", d.restarts)
    diffusion = _with_train(recipe.diffusion, steps=steps, batch_size=given("batch_size", d.batch_size),
                            learning_rate=given("lr", d.learning_rate),
                            restarts=tuple(r for r in restarts if r[0] < steps),
                            checkpoint_every=given("checkpoint_every", d.checkpoint_every), **common)
    decoder = recipe.decoder
    if decoder is not None and args.decoder_steps != 0:
        decoder = _with_train(decoder, steps=given("decoder_steps", decoder.train.steps), **common)
        if decoder.train.steps < decoder.train.warmup_steps * 4:
            decoder = _with_train(decoder, warmup_steps=max(0, decoder.train.steps // 10))
    else:
        decoder = None
    diffusion = replace(diffusion, zero_terminal_snr=given("zero_terminal_snr", diffusion.zero_terminal_snr),
                        high_noise_share=given("high_noise_share", diffusion.high_noise_share))
    if diffusion.train.steps < diffusion.train.warmup_steps * 4:
        diffusion = _with_train(diffusion, warmup_steps=max(0, diffusion.train.steps // 10))
    if vae.train.steps < vae.train.warmup_steps * 4:
        vae = _with_train(vae, warmup_steps=max(0, vae.train.steps // 10))
    return replace(recipe, vae=vae, decoder=decoder, diffusion=diffusion)


def parse_restarts(text: str) -> tuple[tuple[int, float], ...]:
    """'16000:0.3,20000:0.1' -> ((16000, 0.3), (20000, 0.1)); 'none' or '' -> no restarts."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return ()
    restarts = []
    for item in text.split(","):
        step, sep, scale = item.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            restart = (int(step), float(scale))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item.strip()!r} is not STEP:FACTOR (say 16000:0.3: from step 16,000 the learning rate "
                f"starts again from 0.3 x --lr)") from None
        if restart[0] < 1 or restart[1] <= 0:
            raise argparse.ArgumentTypeError(f"{item.strip()!r}: the step must be at least 1 and the factor positive")
        restarts.append(restart)
    if any(a[0] >= b[0] for a, b in zip(restarts, restarts[1:], strict=False)):
        raise argparse.ArgumentTypeError(f"{text!r}: list the restarts in increasing step order")
    return tuple(restarts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m modules.training.train_demo", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    p.add_argument("--preset", choices=sorted(PRESETS), default="gpu",
                   help="gpu: 128x128 recipe for a GPU; cpu: the 64x64 recipe of the shipped file (default: gpu)")
    p.add_argument("--work-dir", type=Path, default=Path("cache/demo-shapes"), help="dataset and checkpoints")
    p.add_argument("--steps", type=int, default=None, help="UNet + text encoder steps (default: the preset's)")
    p.add_argument("--vae-steps", type=int, default=None)
    p.add_argument("--decoder-steps", type=int, default=None,
                   help="steps of the decoder-only fine-tune after the VAE stage; 0 skips it (default: the preset's)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--vae-batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--restarts", type=parse_restarts, default=None, metavar="STEP:FACTOR,...",
                   help="warm restarts of the UNet's learning-rate schedule: from each STEP it warms up again to "
                        "FACTOR x --lr and decays to the next restart or the end; 'none' for one cycle "
                        "(default: the preset's; restarts at or after --steps are dropped)")
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--fit-to-time", action=argparse.BooleanOptionalAction, default=None,
                   help="with --time-limit, end each stage's learning-rate decay when its time is up; a later run "
                        "begins a new cycle (default: the preset's: on for gpu, off for cpu)")
    p.add_argument("--zero-terminal-snr", action=argparse.BooleanOptionalAction, default=None,
                   help="train on the zero-terminal-SNR schedule (v-prediction only; default: the preset's)")
    p.add_argument("--high-noise-share", type=float, default=None,
                   help="share of timesteps drawn from 700-999, where layout is decided (default: the preset's)")
    p.add_argument("--images", type=int, default=None, help="size of the generated dataset")
    p.add_argument("--dataset-seed", type=int, default=None)
    p.add_argument("--resolution", type=int, default=None, help="image size (a multiple of 32)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], default=None,
                   help="default: bf16 on a GPU that has it, else fp16 on a GPU, no on the CPU")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is there")
    p.add_argument("--time-limit", type=float, default=None,
                   help="seconds this run may take; it checkpoints and exports in time (run again to continue)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="continue from an exported checkpoint's weights when the work dir has no checkpoints")
    p.add_argument("--fresh-text-encoder", action="store_true",
                   help="with --init-from: take the file's VAE and UNet but build the recipe's own text encoder")
    p.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1),
                   help="processes for writing/reading the dataset")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from modules.training.models import UnrelatedWeights

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("accelerate", "diffusers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = parse_args(argv)
    try:
        outcome = train_demo(args.out, args.work_dir, build_recipe(args), args.time_limit, args.workers,
                             args.init_from, args.fresh_text_encoder)
    except UnrelatedWeights as e:  # an --init-from file whose UNet is not a near relative of the recipe's
        print(f"cannot start from {args.init_from}: {e}", file=sys.stderr, flush=True)
        return 2
    print(outcome.message, flush=True)
    return 0 if outcome.finished else STOPPED_EARLY


if __name__ == "__main__":
    raise SystemExit(main())
