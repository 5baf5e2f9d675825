"""Generation as passes: the hook points a request carries fire in order with their data; an AROUND_UNET
hook changes the image; an ON_IMAGE hook adds an infotext key that is saved; IMAGE_SAVED sees the path."""

from __future__ import annotations

import numpy as np
import pytest

from modules.generation.hooks import HookPoint, Hooks, ImageState, PassState, UnetCall
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import submit

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler", "seed": 5}


def _run(app, hooks: Hooks | None, **params):  # noqa: ANN001, ANN202
    request = GenerationRequest("txt2img", Txt2ImgParams(prompt="a red fox", **{**SMALL, **params}), hooks=hooks)
    return submit(app, request).result().result


def test_every_hook_point_fires_in_order_with_its_data(sd1_app) -> None:  # noqa: ANN001
    seen: list[tuple] = []
    hooks = Hooks()
    hooks.add(HookPoint.BEFORE_PASS, lambda s: seen.append(("before", s.name, s.batch, list(s.seeds),
                                                             s.latents is not None, s.conditioning is not None)))
    hooks.add(HookPoint.AFTER_PASS, lambda s: seen.append(("after", s.name, s.batch, len(s.images),
                                                            s.latents is not None)))
    hooks.add(HookPoint.PRE_STEP, lambda s: seen.append(("pre_step", s.step, s.total_steps)))

    def around(call: UnetCall, call_next):  # noqa: ANN001, ANN202
        seen.append(("unet", call.state.step, len(call.conds), tuple(call.latents.shape)))
        return call_next(call)

    hooks.add(HookPoint.AROUND_UNET, around)
    hooks.add(HookPoint.POST_CFG, lambda s: seen.append(("post_cfg", s.step, s.noise_pred is not None)))
    hooks.add(HookPoint.POST_STEP, lambda s: seen.append(("post_step", s.step)))
    hooks.add(HookPoint.ON_IMAGE, lambda s: seen.append(("on_image", s.index, s.seed, s.image.size, s.path)))
    hooks.add(HookPoint.IMAGE_SAVED, lambda s: seen.append(("saved", s.index, s.path.name, "Seed: " in s.infotext)))
    result = _run(sd1_app, hooks, batch_count=2)
    assert result.seeds == [5, 6]
    side = 64 // sd1_app.models.current.vae_scale_factor
    shape = (1, 4, side, side)
    steps = [("pre_step", 0, 2), ("unet", 0, 2, shape), ("post_cfg", 0, True), ("post_step", 0),
             ("pre_step", 1, 2), ("unet", 1, 2, shape), ("post_cfg", 1, True), ("post_step", 1)]

    def batch(index: int, seed: int, name: str) -> list[tuple]:
        return [("before", "denoise", index, [seed], True, True), *steps, ("after", "denoise", index, 0, True),
                ("before", "decode", index, [seed], True, False), ("after", "decode", index, 1, True),
                ("on_image", index, seed, (64, 64), None), ("saved", index, name, True)]

    assert seen == [("before", "encode_prompt", -1, [], False, False), ("after", "encode_prompt", -1, 0, False),
                    *batch(0, 5, "00000-5.png"), *batch(1, 6, "00001-6.png")]


def test_an_around_unet_hook_changes_the_image_and_the_loop_stays_one(sd1_app) -> None:  # noqa: ANN001
    plain = _run(sd1_app, None)
    hooks = Hooks()
    calls: list[int] = []

    def stronger_guidance(call: UnetCall, call_next):  # noqa: ANN001, ANN202 - a guidance tweak
        calls.append(call.state.step)
        uncond, cond = call_next(call)
        return [uncond, cond + 0.5 * (cond - uncond)]

    hooks.add(HookPoint.AROUND_UNET, stronger_guidance)
    tweaked = _run(sd1_app, hooks)
    assert calls == [0, 1]
    a, b = (np.asarray(r.images[0], dtype=np.int16) for r in (plain, tweaked))
    assert np.abs(a - b).max() > 0, "the wrapped UNet call must change the image"
    # the same images without the hook: nothing was left behind
    again = _run(sd1_app, None)
    assert np.array_equal(a, np.asarray(again.images[0], dtype=np.int16))


def test_unet_kwargs_from_a_hook_reach_the_model(sd1_app, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    seen: list[dict] = []
    forward = model.unet.forward

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append({k: v for k, v in kwargs.items() if k == "cross_attention_kwargs"})
        return forward(*args, **kwargs)

    monkeypatch.setattr(model.unet, "forward", spy)  # this test's model instance only

    def extra(call: UnetCall, call_next):  # noqa: ANN001, ANN202 - as a ControlNet-like addition would
        call.unet_kwargs["cross_attention_kwargs"] = {"scale": 1.0}
        return call_next(call)

    _run(sd1_app, Hooks().add(HookPoint.AROUND_UNET, extra), steps=1)
    assert seen and all(s == {"cross_attention_kwargs": {"scale": 1.0}} for s in seen)


def test_an_on_image_hook_adds_an_infotext_key_that_is_saved(sd1_app) -> None:  # noqa: ANN001
    saved: list[object] = []

    def mark(state: ImageState) -> None:
        state.extra["My script"] = f"image {state.index}"

    hooks = Hooks().add(HookPoint.ON_IMAGE, mark).add(HookPoint.IMAGE_SAVED, lambda s: saved.append(s.path))
    result = _run(sd1_app, hooks, batch_size=2)
    assert saved == result.paths and len(saved) == 2
    for index, (path, text) in enumerate(zip(result.paths, result.infotexts, strict=True)):
        assert f"My script: image {index}" in text
        assert read_png_infotext(path) == text


def test_after_pass_hooks_may_change_latents_and_images(sd1_app) -> None:  # noqa: ANN001
    from PIL import Image

    def black(state: PassState) -> None:
        if state.name == "decode":
            state.images = [Image.new("RGB", im.size) for im in state.images]

    result = _run(sd1_app, Hooks().add(HookPoint.AFTER_PASS, black))
    assert np.asarray(result.images[0]).max() == 0
    with pytest.raises(TypeError, match="HookPoint"):
        Hooks().add("post_step", print)  # type: ignore[arg-type]
