"""Infotext writing and parsing, checked against the A1111 rules and examples."""

from __future__ import annotations

import pytest

from modules.generation.infotext import (
    APP_VERSION,
    create_infotext,
    format_value,
    params_from_infotext,
    parse_infotext,
    quote,
    unquote,
)
from modules.generation.params import Txt2ImgParams

FOX = (
    "a red fox sitting in fresh snow, (golden hour:1.2), <lora:foxStyle:0.8>\n"
    "Negative prompt: blurry, lowres, watermark\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, "
    'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "foxStyle: 0123456789ab", Version: v1.10.1'
)
HIRES = (
    "masterpiece, 1girl, (smile:1.1), [blue|red] hair\n"
    "Negative prompt: EasyNegative, worst quality\n"
    "Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 6.5, Seed: 3713437183, Size: 512x768, "
    "Model hash: 0a1b2c3d4e, Model: someModel_v10, VAE hash: 735e4c3a44, "
    "VAE: vae-ft-mse-840000-ema-pruned.safetensors, Variation seed: 1122334455, Variation seed strength: 0.2, "
    "Denoising strength: 0.45, Clip skip: 2, Hires upscale: 2, Hires steps: 15, "
    'Hires upscaler: R-ESRGAN 4x+ Anime6B, TI hashes: "EasyNegative: c74b4e810b03", Version: v1.10.1'
)
INPAINT = (
    "a wooden park bench\n"
    "Negative prompt: people\n"
    "Steps: 30, Sampler: DPM++ 2M SDE, Schedule type: Exponential, CFG scale: 7, Seed: 42, Size: 768x512, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.75, Mask blur: 4, "
    "Inpaint area: Only masked, Masked area padding: 32, Version: v1.10.1"
)
LEGACY = (
    "a castle on a hill\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b"
)
PRE_19 = "a cat\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 8, Seed: 7, Size: 640x448"


def params(**kwargs: object) -> Txt2ImgParams:
    defaults: dict[str, object] = {"prompt": "a red fox", "seed": 1234, "scheduler": "Karras"}
    defaults.update(kwargs)
    return Txt2ImgParams(**defaults)  # type: ignore[arg-type]


def param_line(text: str) -> str:
    return text.split("\n")[-1]


def keys_in_order(text: str) -> list[str]:
    return [k for k in parse_infotext(text) if k not in ("Prompt", "Negative prompt") and k[-2:] not in ("-1", "-2")]


# --- create_infotext -------------------------------------------------------------------------


def test_layout_with_negative_prompt() -> None:
    p = params(negative_prompt="blurry, lowres")
    text = create_infotext(p, seed=1234, model_name="v1-5-pruned-emaonly", model_hash="6ce0161689")
    assert text == (
        "a red fox\n"
        "Negative prompt: blurry, lowres\n"
        "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x512, "
        f"Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: {APP_VERSION}"
    )


def test_no_negative_prompt_line_when_empty() -> None:
    text = create_infotext(params(), seed=1, model_name=None, model_hash=None)
    assert "Negative prompt" not in text
    assert text.split("\n") == ["a red fox", text.split("\n")[1]]
    assert param_line(text).startswith("Steps: 20, Sampler: DPM++ 2M")


def test_model_keys_omitted_when_none() -> None:
    text = create_infotext(params(), seed=1, model_name=None, model_hash=None)
    assert "Model" not in text


def test_key_order_fixed_then_extra_then_version() -> None:
    p = params(clip_skip=2, negative_prompt="bad")
    extra = {"Lora hashes": "foxStyle: 0123456789ab", "Emphasis": "Original", "Denoising strength": 0.5}
    text = create_infotext(p, seed=5, model_name="m", model_hash="0123456789", extra=extra)
    assert keys_in_order(text) == [
        "Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model",
        "Denoising strength", "Clip skip", "Lora hashes", "Emphasis", "Version",
    ]


def test_extra_version_overrides_and_stays_last() -> None:
    text = create_infotext(params(), seed=5, model_name=None, model_hash=None, extra={"Version": "v1.10.1", "X": 1})
    assert param_line(text).endswith("X: 1, Version: v1.10.1")


def test_extra_none_values_skipped_and_bare_key() -> None:
    text = create_infotext(params(), seed=5, model_name=None, model_hash=None, extra={"A": None, "Tiling": "Tiling"})
    line = param_line(text)
    assert "A:" not in line
    assert ", Tiling, Version:" in line


def test_clip_skip_only_when_above_one() -> None:
    one = create_infotext(params(clip_skip=1), seed=1, model_name=None, model_hash=None)
    two = create_infotext(params(clip_skip=2), seed=1, model_name=None, model_hash=None)
    assert "Clip skip" not in one
    assert "Clip skip: 2," in two


@pytest.mark.parametrize(
    ("sampler", "expected"),
    [("DPM++ 2M", "Karras"), ("DPM++ 2M SDE", "Exponential"), ("Euler a", "Automatic"), ("Euler", "Automatic")],
)
def test_automatic_schedule_written_as_sampler_default(sampler: str, expected: str) -> None:
    text = create_infotext(params(sampler_name=sampler, scheduler="Automatic"), seed=1, model_name=None, model_hash=None)
    assert f"Sampler: {sampler}, Schedule type: {expected}," in text


def test_explicit_schedule_kept() -> None:
    text = create_infotext(params(scheduler="Uniform"), seed=1, model_name=None, model_hash=None)
    assert "Schedule type: Uniform," in text


@pytest.mark.parametrize(("value", "expected"), [(7.0, "7"), (6.5, "6.5"), (20, "20"), (True, "True"), ("x", "x")])
def test_number_formatting(value: object, expected: str) -> None:
    assert format_value(value) == expected


def test_cfg_written_like_a1111() -> None:
    assert "CFG scale: 7," in create_infotext(params(cfg_scale=7.0), seed=1, model_name=None, model_hash=None)
    assert "CFG scale: 6.5," in create_infotext(params(cfg_scale=6.5), seed=1, model_name=None, model_hash=None)


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("plain", "plain"),
        ("a, b", '"a, b"'),
        ("name: 1a2b", '"name: 1a2b"'),
        ("two\nlines", '"two\\nlines"'),
        ('say "hi", ok', '"say \\"hi\\", ok"'),
        ("狐狸, 雪", '"狐狸, 雪"'),
    ],
)
def test_quoting(raw: str, written: str) -> None:
    assert quote(raw) == written
    assert unquote(written) == raw


def test_quoted_extra_in_line() -> None:
    extra = {"Lora hashes": "foxStyle: 0123456789ab", "X Values": "5, 7, 9"}
    text = create_infotext(params(), seed=1, model_name=None, model_hash=None, extra=extra)
    assert 'Lora hashes: "foxStyle: 0123456789ab", X Values: "5, 7, 9"' in text
    parsed = parse_infotext(text)
    assert parsed["Lora hashes"] == "foxStyle: 0123456789ab"
    assert parsed["X Values"] == "5, 7, 9"


def test_unquote_leaves_invalid_json() -> None:
    assert unquote('"broken\\"') == '"broken\\"'
    assert unquote("") == ""


def test_multiline_prompt_and_negative() -> None:
    p = params(prompt="line one\nline two", negative_prompt="neg one\nneg two")
    text = create_infotext(p, seed=1, model_name=None, model_hash=None)
    assert text.split("\n")[:4] == ["line one", "line two", "Negative prompt: neg one", "neg two"]
    parsed = parse_infotext(text)
    assert parsed["Prompt"] == "line one\nline two"
    assert parsed["Negative prompt"] == "neg one\nneg two"


def test_fox_example_reproduced_exactly() -> None:
    p = Txt2ImgParams(
        prompt="a red fox sitting in fresh snow, (golden hour:1.2), <lora:foxStyle:0.8>",
        negative_prompt="blurry, lowres, watermark",
        sampler_name="DPM++ 2M", scheduler="Automatic", steps=20, cfg_scale=7.0, seed=-1, width=512, height=768,
    )
    text = create_infotext(p, seed=1234567890, model_name="v1-5-pruned-emaonly", model_hash="6ce0161689",
                           extra={"Lora hashes": "foxStyle: 0123456789ab"}, version="v1.10.1")
    assert text == FOX


# --- parse_infotext --------------------------------------------------------------------------


def test_parse_fox_example() -> None:
    parsed = parse_infotext(FOX)
    assert parsed["Prompt"] == "a red fox sitting in fresh snow, (golden hour:1.2), <lora:foxStyle:0.8>"
    assert parsed["Negative prompt"] == "blurry, lowres, watermark"
    assert parsed["Steps"] == "20"
    assert parsed["Sampler"] == "DPM++ 2M"
    assert parsed["Schedule type"] == "Karras"
    assert parsed["CFG scale"] == "7"
    assert parsed["Seed"] == "1234567890"
    assert (parsed["Size"], parsed["Size-1"], parsed["Size-2"]) == ("512x768", "512", "768")
    assert parsed["Model hash"] == "6ce0161689"
    assert parsed["Model"] == "v1-5-pruned-emaonly"
    assert parsed["Lora hashes"] == "foxStyle: 0123456789ab"
    assert parsed["Version"] == "v1.10.1"


def test_parse_hires_example() -> None:
    parsed = parse_infotext(HIRES)
    assert parsed["Prompt"] == "masterpiece, 1girl, (smile:1.1), [blue|red] hair"
    assert parsed["Negative prompt"] == "EasyNegative, worst quality"
    assert parsed["Sampler"] == "Euler a"
    assert parsed["CFG scale"] == "6.5"
    assert parsed["Clip skip"] == "2"
    assert parsed["VAE"] == "vae-ft-mse-840000-ema-pruned.safetensors"
    assert parsed["Variation seed strength"] == "0.2"
    assert parsed["Hires upscaler"] == "R-ESRGAN 4x+ Anime6B"
    assert parsed["TI hashes"] == "EasyNegative: c74b4e810b03"
    p = params_from_infotext(HIRES)
    assert (p.sampler_name, p.scheduler, p.steps, p.cfg_scale, p.seed) == ("Euler a", "Automatic", 28, 6.5, 3713437183)
    assert (p.width, p.height, p.clip_skip) == (512, 768, 2)


def test_parse_inpaint_example() -> None:
    parsed = parse_infotext(INPAINT)
    assert parsed["Inpaint area"] == "Only masked"
    assert parsed["Masked area padding"] == "32"
    p = params_from_infotext(INPAINT)
    assert (p.sampler_name, p.scheduler, p.width, p.height, p.seed) == ("DPM++ 2M SDE", "Exponential", 768, 512, 42)


def test_parse_legacy_8_hex_hash() -> None:
    parsed = parse_infotext(LEGACY)
    assert parsed["Model hash"] == "45dee52b"
    assert "Schedule type" not in parsed and "Version" not in parsed
    p = params_from_infotext(LEGACY, base=params(scheduler="Karras", clip_skip=3))
    assert (p.prompt, p.sampler_name, p.scheduler, p.seed, p.clip_skip) == (
        "a castle on a hill", "Euler a", "Automatic", 965400086, 1)


def test_parse_pre_19_sampler_with_schedule() -> None:
    p = params_from_infotext(PRE_19)
    assert (p.sampler_name, p.scheduler, p.steps, p.cfg_scale, p.width, p.height) == (
        "DPM++ 2M", "Karras", 25, 8.0, 640, 448)


def test_legacy_sampler_alias_normalised() -> None:
    p = params_from_infotext("x\nSteps: 5, Sampler: k_euler_a, Seed: 3")
    assert p.sampler_name == "Euler a"


def test_last_line_with_fewer_than_three_pairs_is_prompt() -> None:
    text = "a portrait\nstyle: oil, mood: calm"
    parsed = parse_infotext(text)
    assert parsed["Prompt"] == "a portrait\nstyle: oil, mood: calm"
    assert "style" not in parsed and "mood" not in parsed
    p = params_from_infotext(text, base=params(steps=33))
    assert p.prompt == "a portrait\nstyle: oil, mood: calm"
    assert p.steps == 33


def test_three_pairs_make_a_parameter_line() -> None:
    parsed = parse_infotext("a portrait\nstyle: oil, mood: calm, light: soft")
    assert parsed["Prompt"] == "a portrait"
    assert parsed["light"] == "soft"


def test_parameters_only() -> None:
    parsed = parse_infotext("Steps: 20, Sampler: Euler, Seed: 1")
    assert parsed["Prompt"] == "" and parsed["Negative prompt"] == ""
    assert parsed["Sampler"] == "Euler"


def test_prompt_only_and_empty() -> None:
    assert parse_infotext("just a prompt") == {"Prompt": "just a prompt", "Negative prompt": ""}
    assert parse_infotext("") == {"Prompt": "", "Negative prompt": ""}


def test_negative_without_prompt() -> None:
    p = params(prompt="", negative_prompt="ugly")
    text = create_infotext(p, seed=1234, model_name=None, model_hash=None)
    assert text.startswith("Negative prompt: ugly\n")
    assert params_from_infotext(text) == p


def test_unknown_sampler_and_bad_numbers_keep_base() -> None:
    base = params(sampler_name="Euler", steps=11, cfg_scale=4.5)
    p = params_from_infotext("x\nSteps: many, Sampler: Euler Maruyama 9, CFG scale: high, Seed: 9", base=base)
    assert (p.sampler_name, p.steps, p.cfg_scale, p.seed) == ("Euler", 11, 4.5, 9)


def test_base_fields_not_in_infotext_kept() -> None:
    base = params(batch_count=4, batch_size=2)
    p = params_from_infotext(FOX, base=base)
    assert (p.batch_count, p.batch_size) == (4, 2)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p",
    [
        params(),
        params(prompt="a, b: c\nsecond line", negative_prompt="n1, n2\nn3", clip_skip=2),
        params(sampler_name="Euler a", scheduler="Automatic", cfg_scale=6.5, width=768, height=1024, seed=0),
        params(sampler_name="DPM++ 2M SDE", scheduler="Exponential", steps=150, seed=4294967295),
        params(sampler_name="DDIM", scheduler="Uniform", cfg_scale=12.25),
        params(prompt="一只红狐狸在雪中，金色时刻", negative_prompt="模糊, 低分辨率"),
        params(prompt='quote "this" and \\ that', negative_prompt=""),
    ],
)
def test_round_trip(p: Txt2ImgParams) -> None:
    text = create_infotext(p, seed=p.seed, model_name="model, v2", model_hash="0123456789")
    assert params_from_infotext(text) == p
    assert parse_infotext(text)["Model"] == "model, v2"


def test_round_trip_automatic_becomes_explicit_default() -> None:
    p = params(sampler_name="DPM++ 2M", scheduler="Automatic")
    back = params_from_infotext(create_infotext(p, seed=p.seed, model_name=None, model_hash=None))
    assert back == params(sampler_name="DPM++ 2M", scheduler="Karras")


def test_param_pairs_finds_what_a1111s_regex_finds_in_linear_time() -> None:
    import random

    from modules.generation.infotext import RE_PARAM, param_pairs

    rnd = random.Random(0)
    for alphabet in ('ab :,"\\-/x1 \t', 'a:, "-', 'ab c:d,e "f\\" g'):
        for _ in range(3000):
            line = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
            assert param_pairs(line) == RE_PARAM.findall(line), line
    # a long line without pairs (a pasted prompt, a PNG's parameters chunk): findall took minutes on 40,000
    # characters; this finishes at once
    assert parse_infotext("word " * 200_000)["Prompt"].startswith("word word")
    assert param_pairs("-a" * 100_000) == []
