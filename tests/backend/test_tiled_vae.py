"""Tiled VAE: decoding and encoding tile by tile matches the plain VAE within a stated tolerance and needs
far less memory (peak resident memory measured on the CPU, Linux's VmHWM reset through /proc/self/clear_refs).

Stated tolerance: mean |tiled - plain| under MEAN_LEVELS of 255 for the tiny random test VAE (about 3 measured
for a 96x96 image in 32/8 latent tiles); peak memory of a 192x192 decode about 56 MiB plain, under 1 MiB tiled.
The slow tests: a 2048x2048 tiled decode (about 196 MiB) and the demo model's trained VAE (the README figures)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from modules.generation.latents import decode_latents, encode_images, vae_decode
from modules.generation.tiled_vae import VaeTiling
from tests.tiny_models import tiny_vae_config

PLAIN = VaeTiling(auto_size=0)
TILED = VaeTiling(always=True, decode_tile=32, decode_overlap=8, encode_tile=64, encode_overlap=16)
MEAN_LEVELS = 8.0  # the stated tolerance: mean |tiled - plain| in 0..255 levels
CLEAR_REFS = Path("/proc/self/clear_refs")


class _Model:
    """What decode_latents/encode_images read of a LoadedModel: the VAE and the UNet's device and dtype."""

    def __init__(self, vae: Any) -> None:
        from types import SimpleNamespace

        self.vae = vae
        self.unet = SimpleNamespace(device=torch.device("cpu"), dtype=torch.float32)


def tiny_vae(**config: Any) -> Any:
    from diffusers import AutoencoderKL

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return AutoencoderKL(**(tiny_vae_config("sd1") | config)).eval()


def latents(side: int, channels: int = 4) -> torch.Tensor:
    return torch.randn(1, channels, side, side, generator=torch.Generator().manual_seed(3)) * 0.18215


def test_tiling_switches_on_above_the_size_or_with_the_option() -> None:
    assert VaeTiling().wanted(2048, 2048) and VaeTiling().wanted(1600, 512)
    assert not VaeTiling().wanted(1024, 1536) and not PLAIN.wanted(4096, 4096)
    assert VaeTiling(always=True).wanted(64, 64)

    from modules.options import Options
    from modules.registry import Registry
    from modules.upscalers.options import register_upscaling_options

    registry = Registry()
    register_upscaling_options(registry.options)
    options = Options(None, registry.options)
    assert VaeTiling.from_options(options) == VaeTiling()
    options.update({"tiled_vae": True, "tiled_vae_auto_size": 0})
    assert VaeTiling.from_options(options).always and VaeTiling.from_options(options).auto_size == 0


def test_tiled_decode_matches_plain_within_tolerance() -> None:
    model = _Model(tiny_vae())
    z = latents(48)
    plain = np.asarray(decode_latents(model, z, PLAIN)[0], dtype=np.float32)
    tiled = np.asarray(decode_latents(model, z, TILED)[0], dtype=np.float32)
    assert plain.shape == tiled.shape == (96, 96, 3)
    difference = np.abs(plain - tiled)
    assert difference.mean() < MEAN_LEVELS, difference.mean()
    assert np.median(difference) < MEAN_LEVELS / 2


def test_the_generations_choice_on_the_model_is_used() -> None:
    from modules.generation.latents import TILING_KEY

    model = _Model(tiny_vae())
    z = latents(40)
    tiled = np.asarray(decode_latents(model, z, TILED)[0])
    assert not np.array_equal(np.asarray(decode_latents(model, z)[0]), tiled)  # 80x80: plain by default
    model.extra = {TILING_KEY: TILED}  # what the generation sets from Settings (VaeTiling.from_options)
    assert np.array_equal(np.asarray(decode_latents(model, z)[0]), tiled)


def test_tiled_encode_matches_plain_within_tolerance() -> None:
    from PIL import Image

    model = _Model(tiny_vae())
    yy, xx = np.mgrid[0:128, 0:128]
    image = Image.fromarray(np.stack([xx * 2, yy * 2, (xx + yy)], -1).astype(np.uint8))
    plain, tiled = encode_images(model, [image], PLAIN), encode_images(model, [image], TILED)
    assert plain.shape == tiled.shape == (1, 4, 64, 64)
    # a gradient: each tile has its own colours; with the whole image's group-norm statistics shared by the
    # tiles the latents correlate 0.94 with the plain ones (0.76 with each tile's own statistics)
    assert np.corrcoef(plain.flatten().numpy(), tiled.flatten().numpy())[0, 1] > 0.9


def test_shared_group_norms_reproduce_the_recorded_pass() -> None:
    from modules.generation.tiled_vae import SharedGroupNorm

    vae = tiny_vae()
    z = latents(16) / 0.18215
    with torch.no_grad():
        plain = vae.decode(z).sample
        shared = SharedGroupNorm(vae.decoder)
        vae.decode(z)
        shared.apply()
        again = vae.decode(z).sample
        shared.remove()
    assert len(shared.recorded) == shared.calls > 0 and torch.allclose(plain, again, atol=1e-4)
    with torch.no_grad():
        assert torch.equal(vae.decode(z).sample, plain)  # the hooks are gone


def _peak_kib(run: Any) -> int:
    """Peak resident memory (KiB) above the resident size before run()."""
    def field(name: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
        raise AssertionError(name)

    CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident size
    before = field("VmRSS:")
    run()
    return field("VmHWM:") - before


def test_tiled_decode_peak_memory_is_lower() -> None:
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        pytest.skip("the peak resident size cannot be reset here (needs Linux /proc/self/clear_refs)")
    vae = tiny_vae()
    z = latents(96)
    with torch.no_grad():
        vae_decode(vae, z[:, :, :40, :40], TILED), vae_decode(vae, z[:, :, :16, :16], PLAIN)  # warm up
        tiled = _peak_kib(lambda: vae_decode(vae, z, TILED))  # first: what it leaves behind counts for plain
        plain = _peak_kib(lambda: vae_decode(vae, z, PLAIN))
    print(f"peak above baseline, 192x192 image: tiled {tiled / 1024:.1f} MiB, plain {plain / 1024:.1f} MiB")
    assert tiled * 4 < plain


@pytest.mark.slow
def test_a_2048_image_decodes_in_tiles_in_little_memory() -> None:
    """A 2048x2048 decode through an 8x VAE (four small blocks): tiled, its peak stays under 400 MiB; the plain
    decode would attend over 65,536 latent pixels at once (a 16 GiB matrix) and is not attempted."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        pytest.skip("the peak resident size cannot be reset here (needs Linux /proc/self/clear_refs)")
    blocks = {"down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
              "block_out_channels": [8, 8, 16, 16], "norm_num_groups": 8}
    vae = tiny_vae(**blocks)
    out: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        peak = _peak_kib(lambda: out.setdefault("x", vae_decode(vae, latents(256), VaeTiling())))
    assert out["x"].shape == (1, 3, 2048, 2048) and bool(torch.isfinite(out["x"]).all())
    print(f"2048x2048 tiled decode: peak {peak / 1024:.1f} MiB above baseline")
    assert peak < 400 * 1024


@pytest.mark.slow
def test_on_the_demo_models_trained_vae(tmp_path: Path) -> None:
    """The figures of the README and of tiled_vae.py, on a trained VAE (the demo model's, 4x): a 256x256
    picture of shapes, tiles a third of its side. Prints the mean differences to the plain VAE."""
    from PIL import Image, ImageDraw

    from modules.app import build_app
    from modules.settings import SHIPPED_DEMO_CHECKPOINT, Settings
    from modules.upscalers.tiled import tiled_apply

    if not SHIPPED_DEMO_CHECKPOINT.is_file() and os.environ.get("CI") != "true":  # CI must have it: never skip there
        pytest.skip("the demo model is not in this checkout")
    app = build_app(Settings(data_dir=tmp_path, device="cpu", precision="fp32"))
    app.load_default_model()
    vae, factor = app.models.current.vae, app.models.current.vae_scale_factor
    rng = np.random.default_rng(0)
    image = Image.new("RGB", (256, 256), (40, 90, 200))
    draw = ImageDraw.Draw(image)
    for i in range(25):
        x, y = (int(v) for v in rng.integers(0, 230, 2))
        r = int(rng.integers(8, 30))
        (draw.ellipse if i % 2 else draw.rectangle)([x, y, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    tile = 256 // factor // 3
    tiling = VaeTiling(encode_tile=96, encode_overlap=32, decode_tile=tile, decode_overlap=tile // 4)

    def levels(x: torch.Tensor) -> torch.Tensor:
        return (x.clamp(-1, 1) + 1) * 127.5

    from modules.generation.tiled_vae import tiled_decode, tiled_encode_mean

    with torch.no_grad():
        mean = vae.encode(pixels).latent_dist.mean
        shared = (tiled_encode_mean(vae, pixels, tiling) - mean).abs().mean().item()
        own = (tiled_apply(lambda p: vae.encode(p).latent_dist.mean, pixels, 1 / factor, 96, 32, align=factor)
               - mean).abs().mean().item()
        decoded = (levels(vae.decode(mean).sample) - levels(tiled_decode(vae, mean, tiling))).abs().mean().item()
    print(f"encode: shared statistics {shared:.2f}, own {own:.2f} (latents {mean.abs().mean().item():.1f}); "
          f"decode: {decoded:.1f} of 255 levels")
    assert shared < 0.75 * own and decoded < 6
