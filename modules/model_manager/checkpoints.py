"""Loading a checkpoint (single LDM-layout file or diffusers folder) into a LoadedModel, offline.

Nothing here downloads: module configs are inferred from tensor shapes, tokenizers come from the files
shipped in configs/clip_tokenizer, and diffusers folders are read with local_files_only=True.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from modules.errors import CheckpointLoadError
from modules.model_manager.arch_detect import (
    detect_arch,
    prediction_type_from_keys,
    prediction_type_from_metadata,
    prediction_type_from_yaml,
    unet_predicts_v,
    zero_terminal_snr_from_keys,
)
from modules.model_manager.loaded_model import Arch, LoadedModel, PredictionType

TOKENIZER_DIR = Path(__file__).parent / "configs" / "clip_tokenizer"
CLIP_L_PAD = "<|endoftext|>"
OPEN_CLIP_PAD = "!"


def scheduler_config(prediction_type: PredictionType, zero_terminal_snr: bool = False) -> dict[str, Any]:
    """The SD training noise schedule as diffusers scheduler kwargs; zero_terminal_snr: the model was
    trained on the schedule rescaled so its last timestep is pure noise (diffusers' rescale_betas_zero_snr)."""
    config: dict[str, Any] = {
        "num_train_timesteps": 1000,
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "scaled_linear",
        "prediction_type": prediction_type,
    }
    if zero_terminal_snr:
        config["rescale_betas_zero_snr"] = True
    return config


def shipped_tokenizer(pad_token: str) -> Any:
    """CLIP BPE tokenizer from the bundled vocab.json/merges.txt (max length 77)."""
    from transformers import CLIPTokenizer

    return CLIPTokenizer(
        vocab=str(TOKENIZER_DIR / "vocab.json"),
        merges=str(TOKENIZER_DIR / "merges.txt"),
        pad_token=pad_token,
        model_max_length=77,
    )


def tokenizers_for(arch: Arch) -> list[Any]:
    if arch == "sd1":
        return [shipped_tokenizer(CLIP_L_PAD)]
    if arch == "sd2":
        return [shipped_tokenizer(OPEN_CLIP_PAD)]
    return [shipped_tokenizer(CLIP_L_PAD), shipped_tokenizer(OPEN_CLIP_PAD)]


def _fill_position_ids(module: torch.nn.Module) -> None:
    """Give the non-persistent `position_ids` buffers (CLIP's 0, 1, 2, ... token positions; in no file, so
    still on the meta device after loading) their values, as the model's constructor computes them."""
    for name, buffer in list(module.named_buffers()):
        owner_name, _, leaf = name.rpartition(".")
        if buffer.is_meta and leaf == "position_ids":
            values = torch.arange(buffer.shape[-1], dtype=buffer.dtype).expand(buffer.shape)
            setattr(module.get_submodule(owner_name), leaf, values)


def _build(factory: Callable[[], Any], state: Mapping[str, torch.Tensor], what: str) -> Any:
    """Instantiate without allocating weights, then take the given tensors as parameters (strict).

    The module is built under `torch.device("meta")`, a torch function mode: it holds for this thread
    only, so a model another thread builds meanwhile gets real tensors (accelerate's init_empty_weights
    swaps a torch function for the whole process, and gave such a model meta tensors)."""
    with torch.device("meta"):
        module = factory()
    expected = set(module.state_dict().keys())
    missing = sorted(expected - state.keys())
    unexpected = sorted(state.keys() - expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} {what} weights are missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} {what} weights are not expected (e.g. {', '.join(unexpected[:3])})")
        raise CheckpointLoadError("; ".join(parts))
    try:
        module.load_state_dict(dict(state), strict=True, assign=True)
    except RuntimeError as exc:
        detail = str(exc).split("\n", 2)[-1].strip()[:300]
        raise CheckpointLoadError(f"the {what} weights have unexpected shapes ({detail})") from exc
    _fill_position_ids(module)
    leftover = [n for n, t in [*module.named_parameters(), *module.named_buffers()] if t.is_meta]
    if leftover:
        raise CheckpointLoadError(f"the {what} has weights without values ({', '.join(leftover[:3])})")
    return module


def _finish(module: Any, device: torch.device, dtype: torch.dtype) -> Any:
    torch.nn.Module.to(module, device=device, dtype=dtype)  # plain move; ModelMixin.to only adds a warning
    module.eval()
    module.requires_grad_(False)
    return module


def _text_encoder(config: dict[str, Any], state: dict[str, torch.Tensor], with_projection: bool) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from modules.model_manager.ldm_to_diffusers import adapt_clip_keys

    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    cfg = CLIPTextConfig(**config)
    with torch.device("meta"):
        probe = cls(cfg)
    state = adapt_clip_keys(state, probe)
    del probe
    return _build(lambda: cls(cfg), state, "text encoder")


def _load_single_file(path: Path, device: torch.device, dtype: torch.dtype, vae_dtype: torch.dtype) -> LoadedModel:
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from modules.model_manager import ldm_to_diffusers as conv
    from modules.model_manager.checkpoint_files import read_safetensors_metadata, read_state_dict
    from modules.model_manager.ldm_configs import infer_configs

    sd = read_state_dict(path)
    metadata = read_safetensors_metadata(path) if path.suffix.lower() == ".safetensors" else {}
    arch = detect_arch(sd.keys())
    prediction = (prediction_type_from_yaml(path) or prediction_type_from_metadata(metadata)
                  or prediction_type_from_keys(sd.keys()))
    zero_terminal_snr = zero_terminal_snr_from_keys(sd.keys(), metadata)
    unet_cfg, vae_cfg, text_cfgs = infer_configs(sd, arch, prediction or "epsilon")

    unet = _build(lambda: UNet2DConditionModel(**unet_cfg), conv.convert_unet(sd, unet_cfg), "UNet")
    vae = _build(lambda: AutoencoderKL(**vae_cfg), conv.convert_vae(sd, vae_cfg), "VAE")
    if arch == "sd1":
        encoders = [_text_encoder(text_cfgs[0], conv.convert_clip_l(sd, conv.SD1_CLIP_PREFIX), False)]
    elif arch == "sd2":
        state = conv.convert_open_clip(sd, conv.SD2_OPENCLIP_PREFIX, with_projection=False)
        encoders = [_text_encoder(text_cfgs[0], state, False)]
    else:
        encoders = [
            _text_encoder(text_cfgs[0], conv.convert_clip_l(sd, conv.SDXL_CLIP_PREFIX), False),
            _text_encoder(text_cfgs[1], conv.convert_open_clip(sd, conv.SDXL_OPENCLIP_PREFIX, True), True),
        ]
    del sd

    unet = _finish(unet, device, dtype)
    vae = _finish(vae, device, vae_dtype)
    encoders = [_finish(e, device, dtype) for e in encoders]
    if prediction is None:
        prediction = "epsilon"
        if arch == "sd2" and unet_predicts_v(unet):
            prediction = "v_prediction"
            unet.register_to_config(sample_size=96)
    return LoadedModel(
        arch=arch,
        unet=unet,
        vae=vae,
        text_encoders=encoders,
        tokenizers=tokenizers_for(arch),
        prediction_type=prediction,
        scheduler_config=scheduler_config(prediction, zero_terminal_snr),
        path=path,
        device=device,
        dtype=dtype,
        extra={"format": "single_file", "metadata": metadata},
    )


def _folder_tokenizer(folder: Path, pad_token: str) -> Any:
    from transformers import CLIPTokenizer

    if folder.is_dir():
        try:
            tokenizer = CLIPTokenizer.from_pretrained(str(folder), local_files_only=True)
            tokenizer.model_max_length = 77
            return tokenizer
        except Exception:  # incomplete tokenizer folder: the shipped files are the same vocabulary
            pass
    return shipped_tokenizer(pad_token)


def _variant(folder: Path) -> dict[str, Any]:
    """{"variant": "fp16"} for a component folder that only has *.fp16.* weight files."""
    names = [p.name for p in folder.iterdir()]
    weights = [n for n in names if n.endswith((".safetensors", ".bin", ".index.json"))]
    if weights and all(".fp16." in n for n in weights):
        return {"variant": "fp16"}
    return {}


def _load_diffusers_folder(path: Path, device: torch.device, dtype: torch.dtype, vae_dtype: torch.dtype) -> LoadedModel:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    if not (path / "model_index.json").is_file():
        raise CheckpointLoadError("the folder is not a diffusers model (it has no model_index.json)")
    for part in ("unet", "vae", "text_encoder"):
        if not (path / part).is_dir():
            raise CheckpointLoadError(f"the diffusers folder has no '{part}' subfolder")

    unet = UNet2DConditionModel.from_pretrained(str(path / "unet"), local_files_only=True, **_variant(path / "unet"))
    vae = AutoencoderKL.from_pretrained(str(path / "vae"), local_files_only=True, **_variant(path / "vae"))
    encoders = [
        CLIPTextModel.from_pretrained(
            str(path / "text_encoder"), local_files_only=True, **_variant(path / "text_encoder")
        )
    ]
    if (path / "text_encoder_2").is_dir():
        arch: Arch = "sdxl"
        encoders.append(
            CLIPTextModelWithProjection.from_pretrained(
                str(path / "text_encoder_2"), local_files_only=True, **_variant(path / "text_encoder_2")
            )
        )
        tokenizers = [
            _folder_tokenizer(path / "tokenizer", CLIP_L_PAD),
            _folder_tokenizer(path / "tokenizer_2", OPEN_CLIP_PAD),
        ]
    else:
        arch = "sd2" if encoders[0].config.hidden_act == "gelu" else "sd1"
        tokenizers = [_folder_tokenizer(path / "tokenizer", OPEN_CLIP_PAD if arch == "sd2" else CLIP_L_PAD)]

    unet = _finish(unet, device, dtype)
    vae = _finish(vae, device, vae_dtype)
    encoders = [_finish(e, device, dtype) for e in encoders]
    sched_file = path / "scheduler" / "scheduler_config.json"
    sched = json.loads(sched_file.read_text(encoding="utf-8")) if sched_file.is_file() else {}
    prediction: PredictionType
    if sched.get("prediction_type") in ("epsilon", "v_prediction"):
        prediction = sched["prediction_type"]
    else:
        prediction = "v_prediction" if arch == "sd2" and unet_predicts_v(unet) else "epsilon"
    return LoadedModel(
        arch=arch,
        unet=unet,
        vae=vae,
        text_encoders=encoders,
        tokenizers=tokenizers,
        prediction_type=prediction,
        scheduler_config=scheduler_config(prediction, bool(sched.get("rescale_betas_zero_snr"))),
        path=path,
        device=device,
        dtype=dtype,
        extra={"format": "diffusers", "metadata": {}},
    )


def load_checkpoint(
    path: Path,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    vae_dtype: torch.dtype | None = None,
) -> LoadedModel:
    """A .safetensors/.ckpt file in LDM layout, or a diffusers folder, as a LoadedModel in eval mode on
    device/dtype (the VAE in vae_dtype, default dtype). Every failure is a CheckpointLoadError that names
    the file and says why."""
    path = Path(path)
    device = torch.device(device)
    try:
        if path.is_dir():
            return _load_diffusers_folder(path, device, dtype, vae_dtype or dtype)
        return _load_single_file(path, device, dtype, vae_dtype or dtype)
    except CheckpointLoadError as exc:
        if path.name in str(exc):
            raise
        raise CheckpointLoadError(f"Cannot load '{path.name}': {exc}") from exc
    except MemoryError as exc:
        raise CheckpointLoadError(f"Cannot load '{path.name}': there is not enough memory") from exc
    except Exception as exc:
        if "out of memory" in str(exc).lower():
            reason = "there is not enough GPU memory for it"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise CheckpointLoadError(f"Cannot load '{path.name}': {reason}") from exc
