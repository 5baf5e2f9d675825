"""The training core on tiny SD1-architecture models, on the CPU: loss goes down, checkpoints, resume,
export that the app loads and generates from (the demo recipe and the benchmark: test_train_demo_recipe.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from PIL import Image

from modules.training.config import (
    DecoderStageConfig,
    DiffusionStageConfig,
    TrainConfig,
    VAEStageConfig,
    tiny_sizes,
)
from modules.training.dataset import BatchOrder, InMemoryImages, load_folder, load_image, to_unit_range
from modules.training.full_model import (
    alphas_cumprod,
    epsilon_loss,
    finish_vae,
    tokenize,
    train_diffusion,
    train_vae,
)
from modules.training.loop import StepContext, Trainer, checkpoints_in, lr_lambda
from modules.training.models import build_sd1, build_vae, export_checkpoint, latent_stats, normalise_latents

RES = 32
SIZES = tiny_sizes()


def _train(steps: int, **changes: object) -> TrainConfig:
    base = TrainConfig(steps=steps, batch_size=4, learning_rate=1e-3, checkpoint_every=1000, log_every=1000,
                       cpu=True, max_grad_norm=1.0)
    return replace(base, **changes)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> InMemoryImages:
    from modules.demo.shapes import write_dataset

    folder = write_dataset(tmp_path_factory.mktemp("shapes"), count=16, seed=1, size=RES)
    return load_folder(folder, RES)


@pytest.fixture(scope="module")
def vae_file(images: InMemoryImages, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A briefly trained, normalised tiny VAE (shared by the diffusion tests)."""
    work = tmp_path_factory.mktemp("vae")
    vae = build_vae(SIZES, seed=1)
    config = VAEStageConfig(train=_train(3))
    trainer, _ = train_vae(images, vae, config, work)
    finish_vae(trainer, vae, images, config, work / "vae.safetensors")
    return work / "vae.safetensors"


def _model(vae_file: Path, seed: int = 0):  # noqa: ANN202
    from modules.training.full_model import load_vae

    return build_sd1(SIZES, seed=seed, vae=load_vae(SIZES, vae_file))


def _diffusion_config(steps: int, **changes: object) -> DiffusionStageConfig:
    return DiffusionStageConfig(train=_train(steps, **changes), caption_dropout=0.1)


def test_dataset_loading_and_batch_order(tmp_path: Path) -> None:
    Image.new("RGB", (60, 40), (255, 0, 0)).save(tmp_path / "a.png")
    (tmp_path / "a.txt").write_text("a red thing\n", encoding="utf-8")
    Image.new("RGB", (32, 32), (0, 0, 255)).save(tmp_path / "b.jpg")
    data = load_folder(tmp_path, 32)
    assert data.pixels.shape == (2, 3, 32, 32) and data.pixels.dtype == torch.uint8
    assert data.captions == ["a red thing", ""]
    assert load_image(tmp_path / "a.png", 16).shape == (3, 16, 16)
    assert to_unit_range(data.pixels).min() == -1.0
    order = BatchOrder(10, 4, seed=3)
    again = BatchOrder(10, 4, seed=3)
    batches = [order.indices(m).tolist() for m in range(4)]
    assert batches == [again.indices(m).tolist() for m in reversed(range(4))][::-1]
    assert sorted(batches[0] + batches[1]) == sorted(set(batches[0] + batches[1]))  # no repeat within an epoch


def test_lr_schedule() -> None:
    f = lr_lambda(TrainConfig(steps=110, warmup_steps=10, lr_schedule="cosine"))
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.5) and f(110) == pytest.approx(0.0, abs=1e-9)
    assert lr_lambda(TrainConfig(steps=100, lr_schedule="constant"))(99) == 1.0


def test_lr_schedule_warm_restarts() -> None:
    """Before the first restart the schedule is the plain one over the restart's step; at the restart it
    warms up again to the restart's peak and decays to the end; restarts at or after the end are ignored."""
    plain = lr_lambda(TrainConfig(steps=100, warmup_steps=10, lr_schedule="cosine"))
    f = lr_lambda(TrainConfig(steps=200, warmup_steps=10, lr_schedule="cosine", restarts=((100, 0.5),)))
    assert [f(i) for i in range(100)] == [plain(i) for i in range(100)]
    assert f(99) == pytest.approx(0.0, abs=1e-3) and f(100) == pytest.approx(0.05) and f(109) == pytest.approx(0.5)
    assert f(155) == pytest.approx(0.25) and f(200) == pytest.approx(0.0, abs=1e-9)
    three = lr_lambda(TrainConfig(steps=30, lr_schedule="linear", restarts=((10, 0.5), (20, 0.25))))
    assert [three(i) for i in (0, 5, 10, 15, 20, 25)] == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25, 0.125])
    late = lr_lambda(TrainConfig(steps=100, warmup_steps=10, lr_schedule="cosine", restarts=((100, 0.5),)))
    assert [late(i) for i in range(101)] == [plain(i) for i in range(101)]
    for bad in (((0, 0.5),), ((10, 0.0),), ((20, 0.5), (10, 0.5))):
        with pytest.raises(ValueError, match="restart"):
            TrainConfig(steps=100, restarts=bad).validate()


def test_lengthening_a_run_with_a_restart_resumes_on_the_new_schedule(tmp_path: Path) -> None:
    """A finished run given more steps and a restart at its old end goes on from its last checkpoint and
    warms up again, which is how a recipe with a restart continues a work dir trained without one."""
    layer = torch.nn.Linear(3, 1)

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        x = torch.randn(4, 3, generator=ctx.generator)
        return (layer(x) - x.sum(1, keepdim=True)).pow(2).mean()

    first = _train(6, lr_schedule="cosine", warmup_steps=2, log_every=1)
    assert Trainer(tmp_path, {"layer": layer}, first).run(loss_fn).finished
    longer = replace(first, steps=12, restarts=((6, 0.5),))
    trainer = Trainer(tmp_path, {"layer": layer}, longer)
    assert trainer.resume() == 6
    schedule = lr_lambda(longer)
    resumed_lr = trainer.optimizer.param_groups[0]["lr"]
    assert resumed_lr > 0 and resumed_lr == pytest.approx(1e-3 * schedule(6))  # not the old run's last lr, 0
    result = trainer.run(loss_fn)
    assert result.finished and result.step == 12
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    lrs = {entry["step"]: entry["lr"] for entry in logged}  # the lr set for the step after the logged one
    assert [lrs[s] for s in range(1, 6)] == pytest.approx([1e-3 * lr_lambda(first)(s) for s in range(1, 6)])
    assert [lrs[s] for s in range(7, 13)] == pytest.approx([1e-3 * schedule(s) for s in range(7, 13)])
    assert lrs[7] == pytest.approx(0.5e-3)  # warmed up again to half the peak


def test_latent_normalisation_is_exact(images: InMemoryImages) -> None:
    vae = build_vae(SIZES, seed=2).eval()
    x = to_unit_range(images.pixels[:4])
    with torch.no_grad():
        before = vae.decode(vae.encode(x).latent_dist.mean).sample
        mean, std = latent_stats(vae, images.pixels)
        normalise_latents(vae, mean, std)
        after = vae.decode(vae.encode(x).latent_dist.mean).sample
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)
    mean2, std2 = latent_stats(vae, images.pixels)
    assert mean2.abs().max() < 1e-4
    torch.testing.assert_close(std2 * vae.config.scaling_factor, torch.ones(4), atol=1e-3, rtol=1e-3)


def test_vae_stage_reduces_reconstruction_error(images: InMemoryImages, tmp_path: Path) -> None:
    vae = build_vae(SIZES, seed=3)
    x = to_unit_range(images.pixels[:8])

    def error() -> float:
        with torch.no_grad():
            return float((vae.decode(vae.encode(x).latent_dist.mean).sample - x).abs().mean())

    start = error()
    _, result = train_vae(images, vae, VAEStageConfig(train=_train(12, learning_rate=2e-3)), tmp_path)
    assert result.finished and result.step == 12
    assert error() < 0.9 * start


def test_diffusion_stage_reduces_loss_on_a_fixed_batch(images: InMemoryImages, vae_file: Path,
                                                       tmp_path: Path) -> None:
    model = _model(vae_file)
    config = _diffusion_config(15, learning_rate=2e-3)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        latents = model.vae.encode(to_unit_range(images.pixels[:8])).latent_dist.mean * model.vae.config.scaling_factor
    tokens = tokenize(model, images.captions[:8])
    noise = torch.randn(latents.shape, generator=g)
    t = torch.randint(100, 900, (8,), generator=g)
    alphas = alphas_cumprod(model)

    def loss() -> float:
        with torch.no_grad():
            return float(epsilon_loss(model, latents, tokens, noise, t, alphas, config))

    start = loss()
    _, result = train_diffusion(model, images, config, tmp_path)
    assert result.finished
    assert loss() < 0.8 * start


def test_checkpoints_every_n_steps(tmp_path: Path) -> None:
    layer = torch.nn.Linear(3, 1)
    trainer = Trainer(tmp_path, {"layer": layer}, _train(7, checkpoint_every=2, keep_checkpoints=2, log_every=1))

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        x = torch.randn(4, 3, generator=ctx.generator)
        return (layer(x) - x.sum(1, keepdim=True)).pow(2).mean()

    saved: list[int] = []
    result = trainer.run(loss_fn, on_log=lambda step, _m: saved.append(len(checkpoints_in(tmp_path / "checkpoints"))))
    assert result.finished and result.step == 7
    found = checkpoints_in(tmp_path / "checkpoints")
    assert [step for step, _ in found] == [6, 7]  # every 2 steps and at the end, newest 2 kept
    assert saved[:4] == [0, 1, 1, 2]  # a step's checkpoint is on disk before the next step is reported
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))
    progress = json.loads((found[-1][1] / "progress.json").read_text(encoding="utf-8"))
    assert progress["step"] == 7 and progress["config"]["steps"] == 7
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7 and "loss" in json.loads(lines[0])


def test_gradient_accumulation_and_mixed_precision(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    for precision in ("bf16", "no"):  # switching precision in one process resets accelerate's shared state
        layer = torch.nn.Linear(3, 1)
        trainer = Trainer(tmp_path / precision, {"layer": layer},
                          _train(3, gradient_accumulation=2, mixed_precision=precision))

        def loss_fn(ctx: StepContext, layer: torch.nn.Module = layer) -> torch.Tensor:
            calls.append((ctx.step, ctx.micro_step))
            return layer(torch.randn(4, 3, generator=ctx.generator)).pow(2).mean()

        result = trainer.run(loss_fn)
        assert result.finished and result.step == 3 and trainer.accelerator.mixed_precision == precision
    assert calls[:6] == [(0, 0), (0, 1), (1, 2), (1, 3), (2, 4), (2, 5)] and calls[6:] == calls[:6]


def test_resume_continues_like_an_uninterrupted_run(images: InMemoryImages, vae_file: Path, tmp_path: Path) -> None:
    config = _diffusion_config(6, checkpoint_every=100, ema_decay=0.9)
    straight = _model(vae_file, seed=0)
    train_diffusion(straight, images, config, tmp_path / "straight")

    first = _model(vae_file, seed=0)
    trainer, result = train_diffusion(first, images, config, tmp_path / "crash",
                                      control=_stop_at(3))
    assert not result.finished and result.step == 3
    assert [s for s, _ in checkpoints_in(tmp_path / "crash" / "checkpoints")] == [3]

    resumed = _model(vae_file, seed=123)  # different fresh weights: everything must come from the checkpoint
    trainer2, result2 = train_diffusion(resumed, images, config, tmp_path / "crash")
    assert result2.finished and result2.step == 6
    for a, b in [(straight.unet, resumed.unet), (straight.text_encoders[0], resumed.text_encoders[0])]:
        for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)
    assert trainer2.ema is not None and trainer2.ema.updates == 6


def _stop_at(step: int):  # noqa: ANN202
    from modules.training.full_model import StageControl

    state = {"n": 0}

    def stop() -> bool:
        state["n"] += 1
        return state["n"] >= step

    return StageControl(stop=stop)


def test_export_loads_and_generates(images: InMemoryImages, vae_file: Path, tmp_path: Path) -> None:
    from modules.app import build_app
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import run_txt2img
    from modules.model_manager.checkpoints import load_checkpoint
    from modules.settings import Settings

    model = _model(vae_file)
    trainer, _ = train_diffusion(model, images, _diffusion_config(2, ema_decay=0.5), tmp_path / "work")
    settings = Settings(data_dir=tmp_path / "data", device="cpu", precision="fp32")
    settings.ensure_folders()
    with trainer.ema_weights():
        path = export_checkpoint(model, settings.checkpoint_dir / "trained.safetensors",
                                 metadata={"modelspec.resolution": "32x32"})
        expected = {k: v.clone() for k, v in model.unet.state_dict().items()}
    assert not list(settings.checkpoint_dir.glob(".*"))
    loaded = load_checkpoint(path)
    assert loaded.arch == "sd1" and loaded.prediction_type == "epsilon"
    assert list(loaded.unet.config.block_out_channels) == list(SIZES.unet_channels)
    assert loaded.text_encoders[0].config.hidden_size == SIZES.text_hidden
    for key, value in loaded.unet.state_dict().items():
        torch.testing.assert_close(value, expected[key].half().float(), msg=key)
    assert loaded.extra["metadata"]["modelspec.resolution"] == "32x32"

    app = build_app(settings)
    app.load_default_model()
    result = run_txt2img(app, Txt2ImgParams(prompt="a red circle on a blue background", seed=1, steps=3,
                                            width=64, height=64))
    assert result.images[0].size == (64, 64) and result.paths[0].is_file()
    assert app.models.current_info.name == "trained.safetensors", "the exported file, not the demo model"
    assert "Model: trained," in result.infotexts[0]


def test_v_prediction_loss_and_export(images: InMemoryImages, vae_file: Path, tmp_path: Path) -> None:
    from modules.model_manager.checkpoints import load_checkpoint

    model = build_sd1(SIZES, vae=_model(vae_file).vae, prediction="v_prediction")
    assert model.prediction_type == "v_prediction" and model.scheduler_config["prediction_type"] == "v_prediction"
    g = torch.Generator().manual_seed(0)
    latents, noise = torch.randn((2, 4, 16, 16), generator=g), torch.randn((2, 4, 16, 16), generator=g)
    tokens, t, alphas = tokenize(model, ["a", "b"]), torch.tensor([10, 990]), alphas_cumprod(model)
    a = alphas[t][:, None, None, None]
    with torch.no_grad():
        pred = model.unet(a.sqrt() * latents + (1 - a).sqrt() * noise, t,
                          encoder_hidden_states=model.text_encoders[0](tokens).last_hidden_state).sample
        config = DiffusionStageConfig(prediction="v_prediction", min_snr_gamma=None)
        got = epsilon_loss(model, latents, tokens, noise, t, alphas, config)
    torch.testing.assert_close(got, ((pred - (a.sqrt() * noise - (1 - a).sqrt() * latents)) ** 2).mean())
    trainer, _ = train_diffusion(model, images, replace(_diffusion_config(1), prediction="v_prediction"),
                                 tmp_path / "work")
    path = export_checkpoint(model, tmp_path / "v.safetensors")
    assert load_checkpoint(path).prediction_type == "v_prediction"


def test_vae_stage_onrandom_crops(images: InMemoryImages, tmp_path: Path) -> None:
    from modules.training.full_model import random_crop

    ctx = StepContext(0, 0, torch.Generator().manual_seed(0), torch.device("cpu"))
    crop = random_crop(images.pixels[:3], ctx, 16)
    assert crop.shape == (3, 3, 16, 16)
    assert any(torch.equal(crop, images.pixels[:3, :, y : y + 16, x : x + 16]) for y in range(17) for x in range(17))
    assert torch.equal(random_crop(images.pixels[:3], ctx, None), images.pixels[:3])
    _, result = train_vae(images, build_vae(SIZES, seed=3), VAEStageConfig(crop=16, train=_train(2)), tmp_path)
    assert result.finished


def test_zero_terminal_snr_training_export_and_sampling(images: InMemoryImages, vae_file: Path,
                                                        tmp_path: Path) -> None:
    """A zero-terminal-SNR model is trained with pure noise at the last timestep (target -x0), is
    exported with the `v_pred` and `ztsnr` marker keys, and loads back with the rescaled schedule that
    every sampler then uses (first sigma about 4519, as in A1111 and ComfyUI)."""
    from safetensors import safe_open

    from modules.model_manager.checkpoints import load_checkpoint
    from modules.samplers.registry import build_scheduler

    with pytest.raises(ValueError, match="needs v-prediction"):
        DiffusionStageConfig(zero_terminal_snr=True).validate()
    model = build_sd1(SIZES, vae=_model(vae_file).vae, prediction="v_prediction", zero_terminal_snr=True)
    alphas = alphas_cumprod(model)
    assert alphas[-1] == 0 and alphas[0] == pytest.approx(0.99915, abs=1e-5)
    g = torch.Generator().manual_seed(0)
    latents, noise = torch.randn((1, 4, 16, 16), generator=g), torch.randn((1, 4, 16, 16), generator=g)
    tokens, t = tokenize(model, ["a red circle"]), torch.tensor([999])
    config = DiffusionStageConfig(prediction="v_prediction", min_snr_gamma=None, zero_terminal_snr=True)
    with torch.no_grad():
        pred = model.unet(noise, t, encoder_hidden_states=model.text_encoders[0](tokens).last_hidden_state).sample
        got = epsilon_loss(model, latents, tokens, noise, t, alphas, config)
    torch.testing.assert_close(got, ((pred + latents) ** 2).mean())  # input is pure noise, target is -x0

    plain = replace(_diffusion_config(1), prediction="v_prediction")
    with pytest.raises(ValueError, match="noise schedule"):
        train_diffusion(model, images, plain, tmp_path / "mismatch")
    trainer, _ = train_diffusion(model, images, replace(plain, zero_terminal_snr=True, high_noise_share=0.5),
                                 tmp_path / "work")
    path = export_checkpoint(model, tmp_path / "ztsnr.safetensors")
    with safe_open(str(path), "pt") as f:
        assert {"v_pred", "ztsnr"} <= set(f.keys())
    loaded = load_checkpoint(path)
    assert loaded.prediction_type == "v_prediction" and loaded.scheduler_config["rescale_betas_zero_snr"]
    for sampler in ("DPM++ 2M", "Euler a", "DDIM", "LMS"):
        scheduler = build_scheduler(sampler, "Automatic", loaded.scheduler_config)
        assert float(scheduler.alphas_cumprod[-1]) == pytest.approx(4.8973e-08, rel=1e-3), sampler
        assert float(scheduler.alphas_cumprod[0]) == pytest.approx(0.99915, abs=1e-5), sampler
    # an older file without the markers keeps the ordinary schedule
    plain_model = build_sd1(SIZES, vae=model.vae, prediction="v_prediction")
    old = load_checkpoint(export_checkpoint(plain_model, tmp_path / "plain.safetensors"))
    assert "rescale_betas_zero_snr" not in old.scheduler_config


def test_decoder_stage_keeps_the_latents_and_sharpens(images: InMemoryImages, vae_file: Path, tmp_path: Path) -> None:
    """Only the decoder learns: every encoder weight (so every latent a UNet was trained on) stays
    bit-identical, reconstructions get better, and the tuned VAE is saved whole."""
    from modules.training.decoder_stage import finish_decoder, train_decoder
    from modules.training.full_model import load_vae

    vae = load_vae(SIZES, vae_file)
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    x = to_unit_range(images.pixels[:8])

    def error() -> float:
        with torch.no_grad():
            return float((vae.decode(vae.encode(x).latent_dist.mean).sample - x).abs().mean())

    start = error()
    config = DecoderStageConfig(train=_train(24, learning_rate=3e-3))
    trainer, result = train_decoder(images, vae, config, tmp_path / "work")
    assert result.finished and result.step == 24
    tuned = finish_decoder(trainer, vae, tmp_path / "tuned.safetensors")
    after = tuned.state_dict()
    frozen = [k for k in before if k.startswith(("encoder.", "quant_conv."))]
    assert frozen and all(torch.equal(after[k], before[k]) for k in frozen)
    assert any(not torch.equal(after[k], before[k]) for k in before if k.startswith("decoder."))
    assert error() < 0.95 * start
    assert not any(p.requires_grad for p in tuned.parameters())
    reloaded = load_vae(SIZES, tmp_path / "tuned.safetensors").state_dict()
    assert all(torch.equal(reloaded[k], after[k]) for k in after)
