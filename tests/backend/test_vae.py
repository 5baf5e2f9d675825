"""VAE choice: Automatic (beside-file), None (baked-in, restored bit-exactly), files from models/VAE."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from modules.errors import UserError
from modules.generation.infotext import vae_from_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.model_manager.diffusers_to_ldm import vae_to_ldm
from modules.networks.vae import AUTOMATIC, NONE
from tests.tiny_models import tiny_vae_config

SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 5}


def other_vae(seed: int, **config: Any) -> Any:
    from diffusers import AutoencoderKL

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AutoencoderKL(**(tiny_vae_config("sd1") | config)).eval()


def write_vae(path: Path, seed: int = 11, prefixed: bool = False, **config: Any) -> Path:
    """A standalone VAE file as the LDM VAE releases ship it ('encoder.*', 'decoder.*', ... keys)."""
    sd = vae_to_ldm(other_vae(seed, **config))
    if not prefixed:
        sd = {k.removeprefix("first_stage_model."): v for k, v in sd.items()}
    if path.suffix == ".safetensors":
        save_file(sd, str(path))
    else:
        torch.save({"state_dict": sd | {"loss.logvar": torch.zeros(())}, "global_step": 840000}, path)
    return path


def pixels(result: Any) -> np.ndarray:
    return np.asarray(result.images[0], dtype=np.int16)


def vae_state(model: Any) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.vae.state_dict().items()}


def test_automatic_uses_the_file_beside_the_checkpoint(sd1_app) -> None:  # noqa: ANN001
    app = sd1_app
    model, info = app.models.require()
    baked = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
    assert "VAE" not in baked.infotexts[0]
    beside = write_vae(info.path.with_name(info.path.stem + ".vae.safetensors"))
    auto = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
    assert not np.array_equal(pixels(baked), pixels(auto))
    sha = hashlib.sha256(beside.read_bytes()).hexdigest()
    assert f"VAE hash: {sha[:10]}, VAE: {beside.name}," in auto.infotexts[0]
    assert vae_from_infotext(auto.infotexts[0]) == beside.name


def test_none_restores_baked_in_bit_exactly_and_file_changes_image(sd1_app) -> None:  # noqa: ANN001
    app = sd1_app
    model, info = app.models.require()
    original = vae_state(model)
    baked = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
    write_vae(app.settings.vae_path / "other.ckpt", prefixed=True)
    write_vae(app.settings.vae_path / "mse.safetensors", seed=12)
    assert app.networks.vaes.choices() == [AUTOMATIC, NONE, "mse.safetensors", "other.ckpt"]
    images = {}
    for choice in ("other.ckpt", "mse.safetensors"):
        app.networks.vaes.select(choice)
        images[choice] = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
        assert f"VAE: {choice}" in images[choice].infotexts[0]
    assert not np.array_equal(pixels(images["other.ckpt"]), pixels(images["mse.safetensors"]))
    assert not np.array_equal(pixels(images["other.ckpt"]), pixels(baked))
    app.networks.vaes.select(NONE)
    restored = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
    assert all(torch.equal(original[k], v) for k, v in model.vae.state_dict().items())
    assert np.array_equal(pixels(restored), pixels(baked)) and "VAE" not in restored.infotexts[0]
    assert app.networks.vaes.choice_from_infotext(images["mse.safetensors"].infotexts[0]) == "mse.safetensors"


def test_wrong_architecture_and_corrupt_files_keep_the_previous_vae(sd1_app) -> None:  # noqa: ANN001
    app = sd1_app
    model, info = app.models.require()
    vaes = app.networks.vaes
    write_vae(vaes.folder / "good.safetensors")
    write_vae(vaes.folder / "flux-like.safetensors", latent_channels=16)
    write_vae(vaes.folder / "wide.safetensors", block_out_channels=[32, 32])
    (vaes.folder / "broken.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    save_file({"model.diffusion_model.x": torch.zeros(1)}, str(vaes.folder / "not-a-vae.safetensors"))
    vaes.apply(model, info.path, "good.safetensors")
    good = vae_state(model)
    for name, words in (("flux-like.safetensors", "another architecture"), ("wide.safetensors", "another architecture"),
                        ("broken.safetensors", "damaged"), ("not-a-vae.safetensors", "not a VAE")):
        with pytest.raises(UserError, match=words):
            vaes.apply(model, info.path, name)
        assert all(torch.equal(good[k], v) for k, v in model.vae.state_dict().items())
        assert vaes.active(model).path.name == "good.safetensors"
    with pytest.raises(UserError, match="not found"):
        vaes.select("missing.safetensors")


def test_nan_in_half_precision_is_decoded_again_in_fp32(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.latents import decode_latents_checked

    app = sd1_app
    model = app.models.current
    with torch.no_grad():  # weights that overflow float16 (65504) but are fine in float32
        model.vae.post_quant_conv.weight.mul_(3e4)
    assert not decode_latents_checked(model, torch.randn(1, 4, 8, 8)).retried
    model.vae.to(torch.float16)
    result = run_txt2img(app, Txt2ImgParams(prompt="x", **SMALL))
    assert "decoded again in full precision" in result.message
    assert model.vae.dtype == torch.float16  # back to its own dtype
    assert np.asarray(result.images[0]).std() > 0
    decoded = decode_latents_checked(model, torch.randn(1, 4, 8, 8))
    assert decoded.retried and not decoded.broken and np.asarray(decoded.images[0]).std() > 0
