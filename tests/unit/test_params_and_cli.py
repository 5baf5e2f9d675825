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
