"""The prompt language end to end on the tiny checkpoints: weights, edits, long prompts, AND, BREAK."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from modules.generation.conditioning import ComposableConditioning, Conditioning, encode_texts
from modules.generation.denoise import HookPoint, Hooks
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img

SMALL = {"width": 64, "height": 64, "sampler_name": "Euler", "seed": 11}
LONG = ", ".join(["word"] * 100)  # 199 tokens: three chunks


def _recorder() -> tuple[Hooks, list[tuple[Conditioning | ComposableConditioning, Conditioning]]]:
    hooks, seen = Hooks(), []
    hooks.add(HookPoint.PRE_STEP, lambda state: seen.append((state.cond, state.uncond)))
    return hooks, seen


def _pixels(result) -> np.ndarray:  # noqa: ANN001
    return np.asarray(result.images[0], dtype=np.int16)


@pytest.mark.parametrize("arch", ["sd1", "sd2", "sdxl"])
def test_weighted_word_scales_its_token(make_app, arch: str) -> None:  # noqa: ANN001
    model = make_app((arch,)).models.current
    plain = encode_texts(model, ["a cat"]).embeds
    weights = torch.ones(1, 77, 1)
    weights[0, 2] = 1.5  # <start> a cat <end>...
    no_norm = encode_texts(model, ["a (cat:1.5)"], emphasis="No norm").embeds
    assert torch.allclose(no_norm, plain * weights, atol=1e-6)
    original = encode_texts(model, ["a (cat:1.5)"]).embeds
    widths = [encoder.config.hidden_size for encoder in model.text_encoders]
    starts = [sum(widths[:i]) for i in range(len(widths))]
    for part in (slice(start, start + width) for start, width in zip(starts, widths, strict=True)):
        # each encoder's output keeps its own mean (SDXL has two)
        expected = plain[..., part] * weights
        if expected.mean() != 0:  # an output whose mean is exactly 0 (untrained layer norm) is left unscaled
            expected = expected * (plain[..., part].mean() / expected.mean())
        assert torch.allclose(original[..., part], expected, atol=1e-6)
        assert torch.isclose(original[..., part].mean(), plain[..., part].mean(), atol=1e-6)
    assert torch.equal(encode_texts(model, ["a (cat:1.5)"], emphasis="Ignore").embeds, plain)
    assert not torch.allclose(encode_texts(model, ["a (cat:1.5)"], emphasis="None").embeds, plain)
    assert torch.equal(encode_texts(model, ["(a cat)"], emphasis="No norm").embeds[0, 1:3], plain[0, 1:3] * 1.1)


def test_edit_switches_conditioning_at_the_right_step(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    hooks, seen = _recorder()
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a [red:blue:0.5] ball", steps=6, **SMALL), hooks=hooks)
    red, blue = (encode_texts(model, [text]).embeds for text in ("a red ball", "a blue ball"))
    assert len(seen) == 6
    # [[3, red], [6, blue]]: 0-based steps 0..3 use red (A1111: step <= end_at_step), 4..5 blue
    used = ["red" if torch.equal(cond.embeds, red) else "blue" if torch.equal(cond.embeds, blue) else "?"
            for cond, _ in seen]
    assert used == ["red"] * 4 + ["blue"] * 2
    assert result.infotexts[0].startswith("a [red:blue:0.5] ball\n")


def test_each_distinct_text_is_encoded_once(sd1_app, monkeypatch) -> None:  # noqa: ANN001
    import modules.generation.conditioning as conditioning

    calls: list[list[str]] = []
    real = conditioning.encode_texts

    def counting(model, texts, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(list(texts))
        return real(model, texts, *args, **kwargs)

    monkeypatch.setattr(conditioning, "encode_texts", counting)
    params = Txt2ImgParams(prompt="[a|b] c", negative_prompt="[x:y:2]", steps=5, batch_count=2, batch_size=2, **SMALL)
    run_txt2img(sd1_app, params)
    assert sorted(texts[0] for texts in calls) == ["a c", "b c", "x", "y"]


def test_long_prompt_makes_three_chunks_and_generates(sd1_app) -> None:  # noqa: ANN001
    hooks, seen = _recorder()
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt=LONG, negative_prompt="blurry", steps=2, **SMALL), hooks=hooks)
    cond, uncond = seen[0]
    assert cond.embeds.shape == (1, 231, 64) and uncond.embeds.shape == (1, 77, 64)
    assert result.images and _pixels(result).std() > 0
    # the part past the first 75 tokens matters
    shorter = run_txt2img(sd1_app, Txt2ImgParams(prompt=", ".join(["word"] * 40), negative_prompt="blurry", steps=2,
                                                 **SMALL))
    assert not np.array_equal(_pixels(result), _pixels(shorter))


def test_long_negative_prompt_and_batches(sd1_app) -> None:  # noqa: ANN001
    hooks, seen = _recorder()
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a", negative_prompt=LONG, steps=2, batch_size=2, **SMALL),
                         hooks=hooks)
    cond, uncond = seen[0]
    assert cond.embeds.shape == (2, 77, 64) and uncond.embeds.shape == (2, 231, 64)
    assert len(result.images) == 2


def test_break_makes_a_new_chunk(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    joined = encode_texts(model, ["a cat BREAK a dog"]).embeds
    assert joined.shape[1] == 154
    assert torch.equal(joined[:, :77], encode_texts(model, ["a cat"]).embeds)
    assert torch.equal(joined[:, 77:], encode_texts(model, ["a dog"]).embeds)
    assert encode_texts(model, ["a cat BREAK a dog"], emphasis="None").embeds.shape[1] == 77


def test_and_with_negative_weight(sd1_app) -> None:  # noqa: ANN001
    base = Txt2ImgParams(prompt="a red ball", steps=3, **SMALL)
    hooks, seen = _recorder()
    composed = run_txt2img(sd1_app, replace(base, prompt="a red ball AND a long green snake:-0.5"), hooks=hooks)
    plain = run_txt2img(sd1_app, base)
    cond = seen[0][0]
    assert isinstance(cond, ComposableConditioning)
    assert [weight for _, weight in cond.parts] == [1.0, -0.5]
    assert composed.images and not np.array_equal(_pixels(composed), _pixels(plain))
    # an AND whose second part has weight 0 is the plain prompt
    zero = run_txt2img(sd1_app, replace(base, prompt="a red ball AND a long green snake:0"))
    assert np.abs(_pixels(zero) - _pixels(plain)).max() <= 1


def test_and_guidance_is_the_weighted_sum(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.denoise import _predict

    model = sd1_app.models.current
    cat, dog, empty = (encode_texts(model, [text]) for text in ("a cat", "a dog", ""))
    latents = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(0))
    t = torch.tensor(500)
    u, c1, c2 = _predict(model, latents, t, [empty, cat, dog], 64, 64)
    captured = {}
    hooks = Hooks()
    hooks.add(HookPoint.POST_CFG, lambda state: captured.setdefault("pred", state.noise_pred))

    class OneStep:  # a scheduler that only exposes what denoise() uses
        init_noise_sigma = 1.0
        timesteps = [t]

        def set_timesteps(self, *_args, **_kwargs) -> None: ...
        def scale_model_input(self, x, _t):  # noqa: ANN001, ANN202
            return x

        def step(self, pred, _t, x):  # noqa: ANN001, ANN202
            return type("Out", (), {"prev_sample": x})()

    from modules.generation.denoise import denoise

    cond = ComposableConditioning([(cat, 1.0), (dog, -0.5)])
    denoise(model, OneStep(), latents, lambda _i, _n: (cond, empty), 7.0, 1, 64, 64, None, hooks=hooks)
    assert torch.allclose(captured["pred"], u + 7.0 * (c1 - u) - 3.5 * (c2 - u), atol=1e-5)


@pytest.mark.parametrize("arch", ["sd2", "sdxl"])
def test_long_prompts_and_and_on_other_archs(make_app, arch: str) -> None:  # noqa: ANN001
    app = make_app((arch,))
    hooks, seen = _recorder()
    result = run_txt2img(app, Txt2ImgParams(prompt=f"{LONG} AND a cat:0.5", steps=2, **SMALL), hooks=hooks)
    cond = seen[0][0]
    assert isinstance(cond, ComposableConditioning)
    assert [part.embeds.shape[1] for part, _ in cond.parts] == [231, 231]  # short part padded with its last vector
    if arch == "sdxl":
        assert all(part.pooled is not None and part.pooled.shape == (1, 32) for part, _ in cond.parts)
    assert result.images


def test_network_tags_leave_clip_but_stay_in_infotext(sd1_app) -> None:  # noqa: ANN001
    hooks, seen = _recorder()
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a cat<lora:foxStyle:0.8>", steps=1, **SMALL), hooks=hooks)
    assert torch.equal(seen[0][0].embeds, encode_texts(sd1_app.models.current, ["a cat"]).embeds)
    assert result.infotexts[0].startswith("a cat<lora:foxStyle:0.8>\n")


def test_emphasis_mode_in_infotext(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.infotext import params_from_infotext

    base = Txt2ImgParams(prompt="a (cat:1.3)", steps=1, **SMALL)
    assert "Emphasis" not in run_txt2img(sd1_app, base).infotexts[0]
    text = run_txt2img(sd1_app, replace(base, emphasis="No norm")).infotexts[0]
    assert "Emphasis: No norm" in text and params_from_infotext(text).emphasis == "No norm"
    assert "Emphasis" not in run_txt2img(sd1_app, replace(base, prompt="a cat", emphasis="No norm")).infotexts[0]


def test_comments_are_removed_before_generation(sd1_app) -> None:  # noqa: ANN001
    hooks, seen = _recorder()
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a cat # a note", steps=1, **SMALL), hooks=hooks)
    assert torch.equal(seen[0][0].embeds, encode_texts(sd1_app.models.current, ["a cat"]).embeds)
    assert "note" not in result.infotexts[0]
