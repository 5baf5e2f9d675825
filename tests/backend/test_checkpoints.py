"""Single-file and diffusers-folder checkpoint loading, offline, with tiny models of the real architectures."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from modules.errors import CheckpointLoadError
from modules.model_manager.arch_detect import NOT_SD, detect_arch
from modules.model_manager.checkpoint_files import read_safetensors_metadata, read_state_dict
from modules.model_manager.checkpoints import load_checkpoint
from modules.model_manager.diffusers_to_ldm import (
    clip_l_to_ldm,
    model_to_ldm_state_dict,
    open_clip_to_ldm,
    save_ldm_checkpoint,
    unet_to_ldm,
    vae_to_ldm,
)
from modules.model_manager.ldm_configs import infer_text_configs, infer_unet_config, infer_vae_config
from modules.model_manager.loaded_model import LoadedModel
from tests.tiny_models import (
    ARCHS,
    build_tiny_model,
    tiny_text_configs,
    tiny_unet_config,
    tiny_vae_config,
    write_tiny_checkpoint,
    write_tiny_diffusers_folder,
)


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def assert_config_subset(expected: dict[str, Any], actual: Any) -> None:
    diff = {k: (v, actual[k]) for k, v in expected.items() if _norm(v) != _norm(actual[k])}
    assert not diff, diff


def assert_same_weights(a: LoadedModel, b: LoadedModel) -> None:
    pairs = [(a.unet, b.unet), (a.vae, b.vae), *zip(a.text_encoders, b.text_encoders, strict=True)]
    for left, right in pairs:
        sa, sb = left.state_dict(), right.state_dict()
        assert sa.keys() == sb.keys()
        unequal = [k for k in sa if not torch.equal(sa[k], sb[k])]
        assert not unequal, unequal[:5]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedModel]:
    return {arch: build_tiny_model(arch) for arch in ARCHS}


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("ckpts")
    return {
        (arch, suffix): write_tiny_checkpoint(folder, arch, suffix=suffix)
        for arch in ARCHS
        for suffix in (".safetensors", ".ckpt")
    }


@pytest.mark.parametrize("suffix", [".safetensors", ".ckpt"])
@pytest.mark.parametrize("arch", ARCHS)
def test_single_file_round_trip(arch: str, suffix: str, tiny: dict, tiny_files: dict) -> None:
    path = tiny_files[(arch, suffix)]
    model = load_checkpoint(path)
    assert model.arch == arch
    assert model.prediction_type == "epsilon"
    assert model.scheduler_config["prediction_type"] == "epsilon"
    assert model.path == path and model.extra["format"] == "single_file"
    assert_same_weights(tiny[arch], model)
    assert_config_subset(tiny_unet_config(arch), model.unet.config)
    assert_config_subset(tiny_vae_config(arch), model.vae.config)
    for cfg, encoder in zip(tiny_text_configs(arch), model.text_encoders, strict=True):
        assert_config_subset(cfg, encoder.config.to_dict())
    assert [type(e).__name__ for e in model.text_encoders] == [type(e).__name__ for e in tiny[arch].text_encoders]
    pads = {"sd1": ["<|endoftext|>"], "sd2": ["!"], "sdxl": ["<|endoftext|>", "!"]}[arch]
    assert [t.pad_token for t in model.tokenizers] == pads
    assert all(t.model_max_length == 77 for t in model.tokenizers)
    for module in (model.unet, model.vae, *model.text_encoders):
        assert not module.training
        assert not any(p.requires_grad for p in module.parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_ldm_state_dict_round_trip_in_memory(arch: str, tiny: dict) -> None:
    sd = model_to_ldm_state_dict(tiny[arch])
    assert detect_arch(sd.keys()) == arch
    text = infer_text_configs(sd, arch)
    pooled = text[-1]["projection_dim"] if arch == "sdxl" else None
    assert_config_subset(infer_unet_config(sd, arch, pooled_dim=pooled), tiny[arch].unet.config)
    assert_config_subset(infer_vae_config(sd, arch), tiny[arch].vae.config)
    assert [c["hidden_act"] for c in text] == [c["hidden_act"] for c in tiny_text_configs(arch)]


@pytest.mark.parametrize("arch", ARCHS)
def test_diffusers_folder_loads(arch: str, tiny: dict, tmp_path: Path) -> None:
    folder = write_tiny_diffusers_folder(tmp_path / f"tiny-{arch}", arch)
    model = load_checkpoint(folder)
    assert model.arch == arch
    assert model.extra["format"] == "diffusers"
    assert model.prediction_type == "epsilon"
    assert_same_weights(tiny[arch], model)
    assert len(model.tokenizers) == len(model.text_encoders)
    assert model.tokenizers[0]("a cat").input_ids[:3] == [49406, 320, 2368]


def test_fp16_with_fp32_vae(tiny_files: dict) -> None:
    model = load_checkpoint(tiny_files[("sd1", ".safetensors")], dtype=torch.float16, vae_dtype=torch.float32)
    assert next(model.unet.parameters()).dtype == torch.float16
    assert next(model.text_encoders[0].parameters()).dtype == torch.float16
    assert next(model.vae.parameters()).dtype == torch.float32
    assert model.dtype == torch.float16


def test_v_prediction_from_yaml_beside(tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path, "sd2", name="v-model")  # metadata says epsilon; the yaml wins
    path.with_suffix(".yaml").write_text('model:\n  params:\n    parameterization: "v"\n', encoding="utf-8")
    model = load_checkpoint(path)
    assert model.prediction_type == "v_prediction"
    assert model.scheduler_config["prediction_type"] == "v_prediction"
    assert model.unet.config.sample_size == 96


def test_v_prediction_from_metadata(tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path, "sd2", prediction_type="v_prediction")
    assert read_safetensors_metadata(path)["modelspec.prediction_type"] == "v"
    assert load_checkpoint(path).prediction_type == "v_prediction"


def test_v_prediction_numeric_test_for_sd2(tmp_path: Path) -> None:
    # no yaml, no metadata (.ckpt): the UNet is run once; a strongly negative output mean means v
    model = build_tiny_model("sd2")
    model.unet.conv_out.bias.fill_(-3.0)
    path = save_ldm_checkpoint(model, tmp_path / "numeric-v.ckpt")
    loaded = load_checkpoint(path)
    assert loaded.prediction_type == "v_prediction"
    assert loaded.unet.config.sample_size == 96
    assert load_checkpoint(write_tiny_checkpoint(tmp_path, "sd2", suffix=".ckpt")).prediction_type == "epsilon"


def test_safetensors_metadata_kept(tmp_path: Path, tiny: dict) -> None:
    path = save_ldm_checkpoint(tiny["sd1"], tmp_path / "meta.safetensors", {"ss_note": "hello"})
    meta = read_safetensors_metadata(path)
    assert meta["ss_note"] == "hello" and meta["modelspec.prediction_type"] == "epsilon"
    assert load_checkpoint(path).extra["metadata"]["ss_note"] == "hello"


def _expect_load_error(path: Path, *words: str) -> str:
    with pytest.raises(CheckpointLoadError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert path.name in message
    for word in words:
        assert word in message
    return message


def test_truncated_and_random_files_are_refused(tmp_path: Path, tiny_files: dict) -> None:
    for suffix in (".safetensors", ".ckpt"):
        data = tiny_files[("sd1", suffix)].read_bytes()
        truncated = tmp_path / f"truncated{suffix}"
        truncated.write_bytes(data[: len(data) // 2])
        _expect_load_error(truncated, "damaged or incomplete")
        garbage = tmp_path / f"garbage{suffix}"
        garbage.write_bytes(random.Random(suffix).randbytes(4096))  # seeded: same bytes every run
        _expect_load_error(garbage, "damaged or incomplete")
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    _expect_load_error(empty, "damaged or incomplete")
    _expect_load_error(tmp_path / "missing.safetensors", "does not exist")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch '{self.marker}'",))


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _Exploit(marker)}, path)
    message = _expect_load_error(path, "not allowed", "pickle refused")
    assert "system" in message
    with pytest.raises(CheckpointLoadError):
        read_state_dict(path)
    assert not marker.exists()


def test_legacy_training_leftovers_are_tolerated(tmp_path: Path, tiny_files: dict) -> None:
    import numpy as np

    sd = load_file(tiny_files[("sd1", ".safetensors")])
    path = tmp_path / "legacy.ckpt"
    torch.save({"state_dict": sd, "global_step": np.int64(470000), "epoch": 6}, path)
    assert load_checkpoint(path).arch == "sd1"


def test_old_clip_layout_without_text_model_level(tmp_path: Path, tiny: dict, tiny_files: dict) -> None:
    sd = load_file(tiny_files[("sd1", ".safetensors")])
    old = {
        k.replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."): v for k, v in sd.items()
    }
    path = tmp_path / "old-clip.safetensors"
    save_file(old, path)
    assert_same_weights(tiny["sd1"], load_checkpoint(path))


def test_missing_or_unknown_weight_is_reported(tmp_path: Path, tiny_files: dict) -> None:
    sd = load_file(tiny_files[("sd1", ".safetensors")])
    missing = dict(sd)
    missing.pop("model.diffusion_model.out.2.weight")
    save_file(missing, tmp_path / "missing-key.safetensors")
    _expect_load_error(tmp_path / "missing-key.safetensors", "missing")
    extra = dict(sd)
    extra["model.diffusion_model.input_blocks.1.7.weight"] = torch.zeros(1)
    save_file(extra, tmp_path / "extra-key.safetensors")
    _expect_load_error(tmp_path / "extra-key.safetensors", "does not know")


def test_not_a_stable_diffusion_checkpoint(tmp_path: Path, tiny_files: dict) -> None:
    sd = load_file(tiny_files[("sd1", ".safetensors")])
    vae_only = {k: v for k, v in sd.items() if k.startswith("first_stage_model.")}
    save_file(vae_only, tmp_path / "a-vae.safetensors")
    _expect_load_error(tmp_path / "a-vae.safetensors", NOT_SD, "VAE")
    lora = {"lora_unet_down_blocks_0.lora_down.weight": torch.zeros(2, 2)}
    save_file(lora, tmp_path / "a-lora.safetensors")
    _expect_load_error(tmp_path / "a-lora.safetensors", NOT_SD, "LoRA")
    for keys in ([], ["model.diffusion_model.x_embedder.proj.weight"], ["model.diffusion_model.out.2.weight"]):
        with pytest.raises(CheckpointLoadError, match="not a Stable Diffusion"):
            detect_arch(keys)


def test_loading_never_touches_the_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "DIFFUSERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    calls: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        calls.append(address)
        raise OSError("network access attempted during checkpoint loading")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    single = write_tiny_checkpoint(tmp_path, "sdxl", seed=3)
    assert load_checkpoint(single).arch == "sdxl"
    folder = write_tiny_diffusers_folder(tmp_path / "folder", "sd2", seed=3)
    assert load_checkpoint(folder).arch == "sd2"
    assert calls == []


SD15 = {
    "sample_size": 64,
    "block_out_channels": [320, 640, 1280, 1280],
    "layers_per_block": 2,
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "use_linear_projection": False,
    "in_channels": 4,
    "out_channels": 4,
    "transformer_layers_per_block": 1,
}
SD21_V = SD15 | {
    "sample_size": 96,
    "cross_attention_dim": 1024,
    "attention_head_dim": [5, 10, 20, 20],
    "use_linear_projection": True,
}
SDXL = {
    "sample_size": 128,
    "block_out_channels": [320, 640, 1280],
    "layers_per_block": 2,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "cross_attention_dim": 2048,
    "attention_head_dim": [5, 10, 20],
    "use_linear_projection": True,
    "transformer_layers_per_block": [1, 2, 10],
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "in_channels": 4,
    "out_channels": 4,
}
CLIP_L = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
}
OPEN_CLIP_H = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "hidden_act": "gelu",
    "projection_dim": 1024,
}
OPEN_CLIP_BIG_G = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "hidden_act": "gelu",
    "projection_dim": 1280,
}


@pytest.mark.parametrize(
    ("arch", "unet_cfg", "prediction", "text_cfgs", "vae_scale"),
    [
        ("sd1", SD15, "epsilon", [CLIP_L], 0.18215),
        ("sd2", SD21_V, "v_prediction", [OPEN_CLIP_H], 0.18215),
        ("sdxl", SDXL, "epsilon", [CLIP_L, OPEN_CLIP_BIG_G], 0.13025),
    ],
)
def test_standard_configs_inferred_from_full_size_shapes(
    arch: str, unet_cfg: dict, prediction: str, text_cfgs: list[dict], vae_scale: float
) -> None:
    """Full-size architectures built on the meta device (no weights), written out as LDM keys."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    vae_cfg = {
        "block_out_channels": [128, 256, 512, 512],
        "layers_per_block": 2,
        "latent_channels": 4,
        "down_block_types": ["DownEncoderBlock2D"] * 4,
        "up_block_types": ["UpDecoderBlock2D"] * 4,
    }
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_cfg)
        vae = AutoencoderKL(**vae_cfg)
        encoders = [
            (CLIPTextModelWithProjection if i == 1 else CLIPTextModel)(CLIPTextConfig(**cfg))
            for i, cfg in enumerate(text_cfgs)
        ]
    sd = unet_to_ldm(unet) | vae_to_ldm(vae)
    if arch == "sd1":
        sd |= clip_l_to_ldm(encoders[0], "cond_stage_model.transformer.text_model.")
    elif arch == "sd2":
        sd |= open_clip_to_ldm(encoders[0], "cond_stage_model.model.")
    else:
        sd |= clip_l_to_ldm(encoders[0], "conditioner.embedders.0.transformer.text_model.")
        sd |= open_clip_to_ldm(encoders[1], "conditioner.embedders.1.model.")
    assert detect_arch(sd.keys()) == arch
    expected_unet_keys = {"sd1": 686, "sd2": 686, "sdxl": 1680}[arch]
    assert sum(k.startswith("model.diffusion_model.") for k in sd) == expected_unet_keys
    text = infer_text_configs(sd, arch)
    for inferred, cfg in zip(text, text_cfgs, strict=True):
        assert_config_subset(cfg, inferred)
    pooled = text[-1]["projection_dim"] if arch == "sdxl" else None
    inferred_unet = infer_unet_config(sd, arch, prediction, pooled_dim=pooled)  # type: ignore[arg-type]
    assert_config_subset(unet_cfg, inferred_unet)
    assert_config_subset(inferred_unet, unet.config)
    inferred_vae = infer_vae_config(sd, arch)  # type: ignore[arg-type]
    assert_config_subset(vae_cfg, inferred_vae)
    assert inferred_vae["scaling_factor"] == vae_scale
