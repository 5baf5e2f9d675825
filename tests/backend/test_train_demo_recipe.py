"""The demo model's recipe (modules/training/train_demo.py) on tiny models, on the CPU: it runs, continues a
work dir, starts from an exported file, its presets and flags, its training noise and timesteps, and the
benchmark on a checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from modules.training.config import DecoderStageConfig, DiffusionStageConfig, TrainConfig, VAEStageConfig, tiny_sizes
from modules.training.models import build_sd1

RES = 32
SIZES = tiny_sizes()


def _train(steps: int, **changes: object) -> TrainConfig:
    base = TrainConfig(steps=steps, batch_size=4, learning_rate=1e-3, checkpoint_every=1000, log_every=1000,
                       cpu=True, max_grad_norm=1.0)
    return replace(base, **changes)


def _diffusion_config(steps: int, **changes: object) -> DiffusionStageConfig:
    return DiffusionStageConfig(train=_train(steps, **changes), caption_dropout=0.1)


def test_train_demo_recipe_runs_and_continues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.training.train_demo import DemoRecipe, train_demo

    recipe = DemoRecipe(images=12, resolution=RES, sizes=SIZES, vae=VAEStageConfig(train=_train(2)),
                        decoder=DecoderStageConfig(train=_train(2)), diffusion=_diffusion_config(2, ema_decay=0.9))
    out = tmp_path / "models" / "demo.safetensors"
    first = train_demo(out, tmp_path / "work", recipe)
    assert first.finished and first.vae_steps == 2 and first.decoder_steps == 2 and first.diffusion_steps == 2
    assert out.is_file() and (tmp_path / "work" / "decoder" / "vae-decoder-tuned.safetensors").is_file()
    assert {"kind small", "kind large"} <= set(first.vae_check)
    assert (tmp_path / "work" / "data" / "000011.txt").is_file()
    longer = replace(recipe, diffusion=_diffusion_config(3, ema_decay=0.9))
    second = train_demo(out, tmp_path / "work", longer)
    assert second.finished and second.vae_steps == 0 and second.decoder_steps == 0  # VAE and decoder kept
    assert second.diffusion_steps == 3  # UNet resumed
    summary = json.loads((tmp_path / "work" / "summary.json").read_text(encoding="utf-8"))
    assert summary["diffusion_steps"] == 3 and summary["size_bytes"] == out.stat().st_size
    # a finished work dir only exports again: its latents are not encoded a second time
    import modules.training.full_model as full_model

    def no_encoding(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a finished diffusion stage encoded the dataset again")

    monkeypatch.setattr(full_model, "encode_latents", no_encoding)
    again = train_demo(out, tmp_path / "work", longer)
    assert again.finished and again.diffusion_steps == 3 and again.decoder_steps == 0
    monkeypatch.undo()
    # a fresh work dir can start from the exported file (VAE, UNet and text encoder weights)
    onward = train_demo(tmp_path / "onward.safetensors", tmp_path / "work2", replace(recipe, images=8),
                        init_from=out)
    assert onward.finished and onward.vae_steps == 0 and onward.diffusion_steps == 2
    # ... or take only its VAE and UNet, with a fresh, frozen text encoder of the recipe's own
    frozen = replace(recipe, images=8, text_token_std=1.0,
                     diffusion=replace(recipe.diffusion, train_text_encoder=False))
    fresh = train_demo(tmp_path / "fresh.safetensors", tmp_path / "work3", frozen, init_from=out,
                       fresh_text_encoder=True)
    assert fresh.finished and fresh.diffusion_steps == 2
    from modules.model_manager.checkpoints import load_checkpoint

    rebuilt = build_sd1(SIZES, seed=recipe.seed, text_token_std=1.0).text_encoders[0]
    exported = load_checkpoint(tmp_path / "fresh.safetensors").text_encoders[0].state_dict()
    for key, value in exported.items():  # frozen: exactly the seeded fresh encoder (in fp16)
        torch.testing.assert_close(value, rebuilt.state_dict()[key].half().float(), msg=key)
    assert 0.95 < float(rebuilt.get_input_embeddings().weight.detach().std()) < 1.05


def test_benchmark_runs_on_a_checkpoint(tmp_path: Path) -> None:
    from modules.demo.benchmark import BenchmarkSettings, run_benchmark
    from tests.tiny_models import write_tiny_checkpoint

    ckpt = write_tiny_checkpoint(tmp_path / "ckpt", "sd1")
    settings = BenchmarkSettings(prompts=2, seeds=2, steps=2, size=64, device="cpu", precision="fp32")
    report = run_benchmark(ckpt, settings, tmp_path / "data")
    assert report.images == 4
    assert set(report.accuracy) == {"background", "colour", "position", "kind", "size"}
    assert all(0.0 <= v <= 1.0 for v in report.accuracy.values())
    assert 0 < report.fastest_seconds <= report.median_seconds
    assert report.cpu_stolen is None or 0.0 <= report.cpu_stolen <= 1.0
    assert len(report.lines()) == 7 + (report.cpu_stolen is not None)


def test_train_demo_presets_and_overrides() -> None:
    from modules.training.train_demo import build_recipe, parse_args

    cpu = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu"]))
    assert cpu.resolution // cpu.sizes.vae_scale_factor == 16  # 64x64 images, 16x16 latents
    assert cpu.diffusion.prediction == "v_prediction" and cpu.diffusion.train.cpu and cpu.vae.crop
    assert cpu.diffusion.train.mixed_precision == "no"
    short = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--steps", "7", "--lr", "0.01"]))
    assert short.diffusion.train.steps == 7 and short.diffusion.train.learning_rate == 0.01
    assert short.diffusion.train.warmup_steps == 0 and short.vae == cpu.vae
    gpu = build_recipe(parse_args(["--out", "x.safetensors"]))
    assert gpu.resolution == 128 and gpu.diffusion.prediction == "v_prediction" and not gpu.diffusion.train.cpu
    assert gpu.diffusion.zero_terminal_snr and not gpu.diffusion.train_text_encoder and gpu.text_token_std == 1.0
    assert cpu.diffusion.zero_terminal_snr and cpu.diffusion.high_noise_share == 0.3
    assert not cpu.diffusion.train_text_encoder and cpu.text_token_std == 1.0
    assert cpu.decoder is not None and cpu.decoder.train.steps == 2100 and cpu.decoder.train.cpu
    assert build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--decoder-steps", "0"])).decoder is None
    few = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--decoder-steps", "40"])).decoder
    assert few is not None and few.train.steps == 40 and few.train.warmup_steps == 4
    assert gpu.decoder is not None and not gpu.decoder.train.cpu
    old_recipe = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--no-zero-terminal-snr",
                                          "--high-noise-share", "0"]))
    assert not old_recipe.diffusion.zero_terminal_snr and old_recipe.diffusion.high_noise_share == 0
    assert cpu.diffusion.train.steps == 27000 and cpu.diffusion.train.restarts == ((16000, 0.3), (21000, 0.3))
    assert short.diffusion.train.restarts == ()  # a restart past --steps is dropped from the recipe
    one_cycle = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--restarts", "none"]))
    assert one_cycle.diffusion.train.restarts == () and one_cycle.diffusion.train.steps == 27000
    two = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--restarts", "100:0.5, 200:0.25"]))
    assert two.diffusion.train.restarts == ((100, 0.5), (200, 0.25))
    # a lent GPU gives one timed run: each stage's decay is fitted to its time there, not on the CPU preset
    assert gpu.diffusion.train.fit_to_time and gpu.vae.train.fit_to_time and gpu.decoder.train.fit_to_time
    assert gpu.diffusion.train.lr_schedule == "cosine" and gpu.diffusion.train.learning_rate == 1e-3
    assert not (cpu.diffusion.train.fit_to_time or cpu.vae.train.fit_to_time or cpu.decoder.train.fit_to_time)
    fitted = build_recipe(parse_args(["--out", "x.safetensors", "--preset", "cpu", "--fit-to-time"]))
    assert fitted.diffusion.train.fit_to_time and fitted.vae.train.fit_to_time and fitted.decoder.train.fit_to_time
    assert not build_recipe(parse_args(["--out", "x.safetensors", "--no-fit-to-time"])).diffusion.train.fit_to_time


@pytest.mark.parametrize("text", ["16000", "a:0.3", "16000:x", "0:0.3", "100:-1", "200:0.5,100:0.5"])
def test_train_demo_refuses_bad_restarts(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from modules.training.train_demo import parse_args

    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--out", "x.safetensors", "--restarts", text])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--restarts" in err and ("STEP:FACTOR" in err or "at least 1" in err or "increasing" in err)


def test_training_noise_adds_low_frequencies() -> None:
    from modules.training.full_model import training_noise

    shape = torch.Size((64, 4, 32, 32))
    plain = training_noise(shape, DiffusionStageConfig(), torch.Generator().manual_seed(0), torch.device("cpu"))
    pyramid = training_noise(shape, DiffusionStageConfig(pyramid_noise_levels=3, noise_offset=0.3),
                             torch.Generator().manual_seed(0), torch.device("cpu"))
    again = training_noise(shape, DiffusionStageConfig(pyramid_noise_levels=3, noise_offset=0.3),
                           torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(pyramid, again)
    assert abs(float(plain.std()) - 1.0) < 0.02
    low = torch.nn.functional.avg_pool2d  # energy left after averaging 8x8 blocks: the low frequencies
    assert float(low(pyramid, 8).std()) > 3 * float(low(plain, 8).std())


def test_high_noise_share_draws_late_timesteps() -> None:
    from modules.training.full_model import training_timesteps

    g = torch.Generator().manual_seed(0)
    plain = training_timesteps(4000, 1000, DiffusionStageConfig(), g, torch.device("cpu"))
    skewed = training_timesteps(4000, 1000, DiffusionStageConfig(high_noise_share=0.5, high_noise_from=700), g,
                                torch.device("cpu"))
    assert 0.25 < (plain >= 700).float().mean() < 0.35
    assert 0.6 < (skewed >= 700).float().mean() < 0.7 and skewed.min() >= 0 and skewed.max() <= 999
