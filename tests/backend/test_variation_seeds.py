"""Variation seeds, "resize seed from" and tiling on the tiny SD1 checkpoint (64x64, 2 steps)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.txt2img import run_txt2img

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler"}  # a sampler without step noise


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_strength_0_is_the_seed_and_1_the_variation_seed(sd1_app) -> None:  # noqa: ANN001
    base = Txt2ImgParams(prompt="a red circle", seed=10, subseed=20, **SMALL)
    plain = run_txt2img(sd1_app, replace(base, subseed=-1)).images[0]
    other = run_txt2img(sd1_app, replace(base, seed=20)).images[0]
    at_0_result = run_txt2img(sd1_app, base)
    at_0 = at_0_result.images[0]
    at_1 = run_txt2img(sd1_app, replace(base, subseed_strength=1.0)).images[0]
    half = run_txt2img(sd1_app, replace(base, subseed_strength=0.5))
    assert np.array_equal(_pixels(at_0), _pixels(plain))
    assert np.abs(_pixels(at_1) - _pixels(other)).max() <= 2  # slerp at 1 is the other noise (float rounding)
    assert np.abs(_pixels(half.images[0]) - _pixels(plain)).max() > 2
    assert np.abs(_pixels(half.images[0]) - _pixels(other)).max() > 2
    info = parse_infotext(half.infotexts[0])
    assert (info["Variation seed"], info["Variation seed strength"]) == ("20", "0.5")
    assert "Variation seed" not in at_0_result.infotexts[0]  # strength 0: not written


def test_image_i_of_a_batch_gets_subseed_plus_i_and_the_same_seed(sd1_app) -> None:  # noqa: ANN001
    """A1111: with a variation strength the seed stays for the whole batch (variations of one picture)."""
    base = Txt2ImgParams(prompt="x", seed=3, subseed=7, subseed_strength=0.6, batch_size=2, **SMALL)
    batch = run_txt2img(sd1_app, base)
    alone = run_txt2img(sd1_app, replace(base, subseed=8, batch_size=1))
    assert [parse_infotext(t)["Variation seed"] for t in batch.infotexts] == ["7", "8"]
    assert [parse_infotext(t)["Seed"] for t in batch.infotexts] == ["3", "3"] and batch.seeds == [3, 3]
    assert batch.subseeds == [7, 8]
    assert np.abs(_pixels(batch.images[1]) - _pixels(alone.images[0])).max() <= 2


def test_random_variation_seed_is_resolved_once_and_written(sd1_app) -> None:  # noqa: ANN001
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=1, subseed_strength=0.2, batch_size=2, **SMALL))
    first = result.subseeds[0]
    assert 0 <= first < 2**32 and result.subseeds == [first, first + 1]
    assert f"Variation seed: {first}," in result.infotexts[0]


def test_seed_resize_puts_the_noise_of_the_other_size_in_the_centre(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.latents import cpu_generators, initial_noise
    from modules.generation.variation_noise import variation_noise

    model, _ = sd1_app.models.require()
    params = Txt2ImgParams(seed=5, seed_resize_from_w=64, seed_resize_from_h=64)
    noise = variation_noise(model, params, [5], 0, 96, 96, cpu_generators([5]))  # the tiny VAE halves: 48x48
    small = initial_noise(model, [5], 64, 64, cpu_generators([5]))  # 32x32
    assert noise.shape[-2:] == (48, 48) and bool((noise[..., 8:40, 8:40] == small).all())
    cut = variation_noise(model, replace(params, seed_resize_from_w=128, seed_resize_from_h=128), [5], 0, 64, 64,
                          cpu_generators([5]))
    large = initial_noise(model, [5], 128, 128, cpu_generators([5]))
    assert bool((cut == large[..., 16:48, 16:48]).all())
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=5, seed_resize_from_w=128, seed_resize_from_h=96,
                                                **SMALL))
    assert "Seed resize from: 128x96" in result.infotexts[0]


def test_variation_seeds_move_img2img_start_noise(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.img2img import run_img2img

    init = Image.new("RGB", (64, 64), (200, 40, 40))
    base = Img2ImgParams(prompt="x", seed=1, subseed=2, init_images=(init,), denoising_strength=0.8, **SMALL)
    other = run_img2img(sd1_app, replace(base, seed=2)).images[0]
    at_1 = run_img2img(sd1_app, replace(base, subseed_strength=1.0))
    assert np.abs(_pixels(at_1.images[0]) - _pixels(other)).max() <= 2
    assert "Variation seed: 2" in at_1.infotexts[0]


def test_tiling_wraps_the_convolutions_for_the_run_only(sd1_app) -> None:  # noqa: ANN001
    import torch

    from modules.generation.tiling import tiled

    model, _ = sd1_app.models.require()
    convs = [m for part in (model.unet, model.vae) for m in part.modules() if isinstance(m, torch.nn.Conv2d)]
    with pytest.raises(RuntimeError), tiled(model):
        assert all(conv.padding_mode == "circular" for conv in convs)
        raise RuntimeError("a failing run")
    assert all(conv.padding_mode == "zeros" for conv in convs)
    base = Txt2ImgParams(prompt="x", seed=1, **SMALL)
    plain, tiles = run_txt2img(sd1_app, base), run_txt2img(sd1_app, replace(base, tiling=True))
    assert not np.array_equal(_pixels(plain.images[0]), _pixels(tiles.images[0]))
    assert "Tiling: True" in tiles.infotexts[0] and "Tiling" not in plain.infotexts[0]
    assert all(conv.padding_mode == "zeros" for conv in convs)
    # a seamless run never decodes in VAE tiles (they would wrap around on themselves), even when Settings say so
    from modules.generation.latents import TILING_KEY

    sd1_app.options.update({"tiled_vae": True})
    try:
        run_txt2img(sd1_app, replace(base, tiling=True))
        assert model.extra[TILING_KEY].wanted(4096, 4096) is False
        run_txt2img(sd1_app, base)
        assert model.extra[TILING_KEY].wanted(64, 64) is True
    finally:
        sd1_app.options.update({"tiled_vae": False})


@pytest.mark.parametrize(("field", "value", "text"), [("subseed_strength", 1.5, "Variation strength"),
                                                     ("subseed", -2, "Variation seed"),
                                                     ("seed_resize_from_w", 4, "Resize seed from width")])
def test_bad_variation_values_are_refused(field: str, value: object, text: str) -> None:
    with pytest.raises(InvalidParams, match=text):
        replace(Txt2ImgParams(), **{field: value}).validate()
