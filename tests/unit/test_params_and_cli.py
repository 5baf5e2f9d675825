from pathlib import Path

import pytest

from modules.cli import build_parser, parse_settings
from modules.errors import InvalidParams
from modules.generation.params import Txt2ImgParams


@pytest.mark.parametrize(("field", "value", "text"), [
    ("steps", 0, "Steps"), ("steps", 151, "Steps"), ("width", 100, "width"), ("height", 30, "height"),
    ("cfg_scale", -1.0, "CFG"), ("seed", -2, "Seed"), ("batch_size", 9, "Batch size"),
    ("batch_count", 0, "Batch count"), ("clip_skip", 0, "CLIP skip"), ("sampler_name", "nope", "sampler"),
    ("scheduler", "nope", "schedule"), ("prompt", "x" * 40_000, "prompt has 40,000 characters"),
    ("negative_prompt", "y" * 32_769, "negative prompt has 32,769"),
])
def test_validation_names_the_field(field: str, value: object, text: str) -> None:
    with pytest.raises(InvalidParams, match=text):
        Txt2ImgParams(**{field: value}).validate()


def test_defaults_are_valid() -> None:
    Txt2ImgParams().validate()


def test_flags_have_a1111_names() -> None:
    text = build_parser().format_help()
    for flag in ["--listen", "--port", "--api", "--nowebui", "--data-dir", "--ckpt-dir", "--vae-dir", "--lora-dir",
                 "--hypernetwork-dir", "--embeddings-dir", "--device", "--precision", "--no-half-vae", "--ckpt"]:
        assert flag in text


def test_settings_from_flags(tmp_path: Path) -> None:
    s = parse_settings(["--listen", "--port", "9000", "--data-dir", str(tmp_path), "--device", "cpu",
                        "--precision", "fp32", "--lora-dir", str(tmp_path / "L")])
    assert s.host == "0.0.0.0" and s.port == 9000
    assert s.checkpoint_dir == tmp_path / "models" / "Stable-diffusion"
    assert s.lora_path == tmp_path / "L"
    assert s.embeddings_path == tmp_path / "embeddings"
    assert parse_settings([]).host == "127.0.0.1"
    assert s.demo_checkpoint is not None and s.demo_checkpoint.name == "demo-shapes.safetensors"
    assert parse_settings(["--no-demo-model"]).demo_checkpoint is None


def test_generation_flags_share_the_model_flags_and_add_outdir(tmp_path: Path) -> None:
    from modules.cli import settings_from_args
    from modules.cli_generate import build_generate_parser

    args = build_generate_parser("txt2img").parse_args(
        ["a cat", "--data-dir", str(tmp_path), "--device", "cpu", "--outdir", str(tmp_path / "o"), "-n", "3"])
    s = settings_from_args(args)
    assert (args.prompt, args.batch_count, args.steps) == ("a cat", 3, None)  # unset: the defaults decide
    assert s.outputs_dir == tmp_path / "o" and s.device == "cpu" and s.port == 7860 and not s.listen
    assert parse_settings(["--data-dir", str(tmp_path)]).outputs_dir == tmp_path / "outputs"
    assert "--init-image" in build_generate_parser("img2img").format_help()
    assert "--init-image" not in build_generate_parser("txt2img").format_help()


@pytest.mark.parametrize(("value", "index"), [("1", 1), ("Crop and resize", 1), ("crop", 1), ("FILL", 2),
                                              ("just resize", 0), (None, None)])
def test_choices_by_number_name_or_unique_part(value: str | None, index: int | None) -> None:
    from modules.cli_generate import choice_index
    from modules.generation.params import RESIZE_MODES

    assert choice_index(value, RESIZE_MODES, "--resize-mode") == index


@pytest.mark.parametrize("value", ["4", "resize", "stretch", ""])
def test_an_unclear_choice_lists_the_choices(value: str) -> None:
    from modules.cli_generate import choice_index
    from modules.generation.params import RESIZE_MODES

    with pytest.raises(InvalidParams, match="0 Just resize, 1 Crop and resize"):
        choice_index(value, RESIZE_MODES, "--resize-mode")
