"""LoRA / LyCORIS: tiny files in the real key layouts (kohya, diffusers/PEFT, LoCon, LoHa, LoKr) merged
into the tiny models; checked against the math, restored bit-exactly, wrong files refused cleanly."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from modules.extra_network_tags import parse_extra_network_tags
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.networks.lora import LoraLibrary, applied_loras

SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 7}
ATTN = "down_blocks.0.attentions.0.transformer_blocks.0"
KOHYA_META = {"ss_network_module": "networks.lora", "ss_network_dim": "4", "ss_network_alpha": "2",
              "ss_base_model_version": "sd_v1", "ss_output_name": "foxStyle"}


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _lora_pair(out_f: int, in_f: int, rank: int, seed: int, kernel: int | None = None,
               dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(lora_down, lora_up) as kohya writes them: Linear (r, in)/(out, r); Conv (r, in, k, k)/(out, r, 1, 1)."""
    g = _gen(seed)
    if kernel is None:
        down, up = torch.randn(rank, in_f, generator=g), torch.randn(out_f, rank, generator=g)
    else:
        down = torch.randn(rank, in_f, kernel, kernel, generator=g)
        up = torch.randn(out_f, rank, 1, 1, generator=g)
    return (down * 0.1).to(dtype), (up * 0.1).to(dtype)


def _kohya(prefix: str, down: torch.Tensor, up: torch.Tensor, alpha: float) -> dict[str, torch.Tensor]:
    return {f"{prefix}.lora_down.weight": down, f"{prefix}.lora_up.weight": up,
            f"{prefix}.alpha": torch.tensor(alpha, dtype=down.dtype)}


def _write(folder: Path, name: str, tensors: dict[str, torch.Tensor], meta: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
    return path


def _layer(root: torch.nn.Module, name: str) -> torch.Tensor:
    return root.get_submodule(name).weight


def _state(model) -> dict[str, torch.Tensor]:  # noqa: ANN001
    parts = {"unet": model.unet, **{f"te{i}": te for i, te in enumerate(model.text_encoders)}}
    return {f"{p}.{k}": v.clone() for p, module in parts.items() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _tags(prompt: str):  # noqa: ANN202
    return parse_extra_network_tags(prompt)[1]


def _sd1_kohya(folder: Path, name: str = "fox", seed: int = 0) -> dict[str, torch.Tensor]:
    """kohya sd-scripts SD1 LoRA (fp16): attention Linear, proj_in 1x1 conv, LoCon 3x3 resnet conv, text encoder."""
    tensors: dict[str, torch.Tensor] = {}
    tensors |= _kohya(f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_k", *_lora_pair(32, 64, 4, seed, dtype=torch.float16), 2.0)
    tensors |= _kohya("lora_unet_down_blocks_0_attentions_0_proj_in", *_lora_pair(32, 32, 4, seed + 1, 1, torch.float16), 2.0)
    tensors |= _kohya("lora_unet_down_blocks_0_resnets_0_conv1", *_lora_pair(32, 32, 4, seed + 2, 3, torch.float16), 1.0)
    tensors |= _kohya("lora_te_text_model_encoder_layers_0_self_attn_q_proj",
                      *_lora_pair(64, 64, 4, seed + 3, dtype=torch.float16), 4.0)
    _write(folder, name, tensors, KOHYA_META)
    return tensors


def _expected_linear(weight: torch.Tensor, t: dict[str, torch.Tensor], prefix: str, mult: float) -> torch.Tensor:
    down, up = t[f"{prefix}.lora_down.weight"].float(), t[f"{prefix}.lora_up.weight"].float()
    scale = float(t[f"{prefix}.alpha"]) / down.shape[0]
    return weight + (up.flatten(1) @ down.flatten(1)).reshape(weight.shape) * scale * mult


def test_kohya_sd1_merges_by_the_formula_and_restores_exactly(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    lib = LoraLibrary(sd1_app.settings.lora_path)
    t = _sd1_kohya(sd1_app.settings.lora_path / "sub")
    before = _state(model)
    to_k = _layer(model.unet, f"{ATTN}.attn2.to_k").clone()
    conv = _layer(model.unet, "down_blocks.0.resnets.0.conv1").clone()
    with applied_loras(model, lib, _tags("<lora:fox:0.5>")) as report:
        assert report.applied == ["fox"] and not report.notices
        prefix = f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_k"
        assert torch.allclose(_layer(model.unet, f"{ATTN}.attn2.to_k"), _expected_linear(to_k, t, prefix, 0.5), atol=1e-6)
        assert torch.allclose(_layer(model.unet, "down_blocks.0.resnets.0.conv1"),
                              _expected_linear(conv, t, "lora_unet_down_blocks_0_resnets_0_conv1", 0.5), atol=1e-6)
        assert not _same(_state(model), before)
    assert _same(_state(model), before)


def test_ldm_style_names_and_library_alias_metadata(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    root = sd1_app.settings.lora_path
    # the same layer in CompVis naming: down_blocks.0.attentions.0 == input_blocks.1.1
    t = _kohya("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k", *_lora_pair(32, 64, 2, 5), 1.0)
    _write(root / "a" / "b", "ldmStyle", t, KOHYA_META | {"ss_output_name": "ldmAlias"})
    lib = LoraLibrary(root)
    entry = lib.find("ldmAlias")
    assert entry is not None and entry.name == "ldmStyle" and entry.alias == "ldmAlias"
    assert entry.metadata["ss_network_dim"] == "4" and entry.sd_version == "SD1"
    old = _layer(model.unet, f"{ATTN}.attn2.to_k").clone()
    with applied_loras(model, lib, _tags("<lora:ldmAlias:1>")):
        new = _layer(model.unet, f"{ATTN}.attn2.to_k")
        prefix = "lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k"
        assert torch.allclose(new, _expected_linear(old, t, prefix, 1.0), atol=1e-6)


def test_txt2img_changes_weight_zero_is_exact_restored_and_hash_in_infotext(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    path = sd1_app.settings.lora_path
    _sd1_kohya(path)
    before = _state(model)
    plain = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox", **SMALL))
    zero = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox <lora:fox:0>", **SMALL))
    used = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox <lora:fox:1>", **SMALL))
    assert np.array_equal(np.asarray(plain.images[0]), np.asarray(zero.images[0]))
    assert not np.array_equal(np.asarray(plain.images[0]), np.asarray(used.images[0]))
    assert _same(_state(model), before)
    raw = (path / "fox.safetensors").read_bytes()
    header = struct.unpack("<Q", raw[:8])[0]
    expected = hashlib.sha256(raw[8 + header:]).hexdigest()[:12]
    assert f'Lora hashes: "fox: {expected}"' in used.infotexts[0]
    assert "<lora:fox:1>" in used.infotexts[0]
    again = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox", **SMALL))
    assert np.array_equal(np.asarray(plain.images[0]), np.asarray(again.images[0]))


def test_sshs_model_hash_metadata_is_used(tmp_path: Path) -> None:
    _write(tmp_path, "hashed", _kohya("lora_te_x", *_lora_pair(4, 4, 1, 0), 1.0), {"sshs_model_hash": "ab" * 32})
    lib = LoraLibrary(tmp_path)
    assert lib.shorthash(lib.find("hashed")) == "ab" * 6  # type: ignore[arg-type]


def test_separate_te_and_unet_multipliers(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    _sd1_kohya(sd1_app.settings.lora_path)
    lib = LoraLibrary(sd1_app.settings.lora_path)
    te_before = {k: v.clone() for k, v in model.text_encoders[0].state_dict().items()}
    unet_to_k = _layer(model.unet, f"{ATTN}.attn2.to_k").clone()
    with applied_loras(model, lib, _tags("<lora:fox:0:1>")):
        assert _same(model.text_encoders[0].state_dict(), te_before)
        assert not torch.equal(_layer(model.unet, f"{ATTN}.attn2.to_k"), unet_to_k)
    with applied_loras(model, lib, _tags("<lora:fox:unet=0:te=1>")):
        assert not _same(model.text_encoders[0].state_dict(), te_before)
        assert torch.equal(_layer(model.unet, f"{ATTN}.attn2.to_k"), unet_to_k)


def test_several_loras_add_up(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    root = sd1_app.settings.lora_path
    t1, t2 = _sd1_kohya(root, "one", seed=0), _sd1_kohya(root, "two", seed=10)
    lib = LoraLibrary(root)
    name = f"{ATTN}.attn2.to_k"
    prefix = f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_k"
    old = _layer(model.unet, name).clone()
    with applied_loras(model, lib, _tags("<lora:one:0.7> <lora:two:-0.3>")) as report:
        want = _expected_linear(_expected_linear(old, t1, prefix, 0.7), t2, prefix, -0.3)
        assert torch.allclose(_layer(model.unet, name), want, atol=1e-6)
        assert list(report.infotext()["Lora hashes"].split(", "))[1].startswith("two: ")  # type: ignore[union-attr]
    assert torch.equal(_layer(model.unet, name), old)


def test_diffusers_peft_naming(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    g = _gen(3)
    a, b = torch.randn(4, 32, generator=g), torch.randn(32, 4, generator=g)
    ta, tb = torch.randn(2, 64, generator=g), torch.randn(64, 2, generator=g)
    _write(sd1_app.settings.lora_path, "peft", {
        f"unet.{ATTN}.attn1.to_q.lora_A.weight": a, f"unet.{ATTN}.attn1.to_q.lora_B.weight": b,
        "text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_A.weight": torch.randn(2, 128, generator=g),
        "text_encoder.text_model.encoder.layers.1.mlp.fc2.lora_B.weight": torch.randn(64, 2, generator=g),
        "text_encoder.text_model.encoder.layers.0.self_attn.v_proj.lora.down.weight": ta,
        "text_encoder.text_model.encoder.layers.0.self_attn.v_proj.lora.up.weight": tb,
    })
    q_old = _layer(model.unet, f"{ATTN}.attn1.to_q").clone()
    v_old = _layer(model.text_encoders[0], "encoder.layers.0.self_attn.v_proj").clone()
    with applied_loras(model, LoraLibrary(sd1_app.settings.lora_path), _tags("<lora:peft:2>")) as report:
        assert not report.notices
        assert torch.allclose(_layer(model.unet, f"{ATTN}.attn1.to_q"), q_old + 2 * (b @ a), atol=1e-5)
        v_new = _layer(model.text_encoders[0], "encoder.layers.0.self_attn.v_proj")
        assert torch.allclose(v_new, v_old + 2 * (tb @ ta), atol=1e-5)


def test_loha_linear_and_conv(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    g = _gen(4)
    r = 2
    lin = {n: torch.randn(*s, generator=g) * 0.1 for n, s in
           (("hada_w1_a", (32, r)), ("hada_w1_b", (r, 32)), ("hada_w2_a", (32, r)), ("hada_w2_b", (r, 32)))}
    conv = {n: torch.randn(*s, generator=g) * 0.1 for n, s in  # LyCORIS: conv weights flattened to (r, in*k*k)
            (("hada_w1_a", (32, r)), ("hada_w1_b", (r, 32 * 9)), ("hada_w2_a", (32, r)), ("hada_w2_b", (r, 32 * 9)))}
    lp, cp = f"lora_unet_{ATTN.replace('.', '_')}_attn1_to_out_0", "lora_unet_down_blocks_0_resnets_0_conv2"
    tensors = {f"{lp}.{k}": v for k, v in lin.items()} | {f"{cp}.{k}": v for k, v in conv.items()}
    tensors |= {f"{lp}.alpha": torch.tensor(1.0), f"{cp}.alpha": torch.tensor(2.0)}
    _write(sd1_app.settings.lora_path, "loha", tensors, {"ss_network_module": "lycoris.kohya"})
    out_old = _layer(model.unet, f"{ATTN}.attn1.to_out.0").clone()
    conv_old = _layer(model.unet, "down_blocks.0.resnets.0.conv2").clone()
    with applied_loras(model, LoraLibrary(sd1_app.settings.lora_path), _tags("<lora:loha:1>")):
        want = out_old + (lin["hada_w1_a"] @ lin["hada_w1_b"]) * (lin["hada_w2_a"] @ lin["hada_w2_b"]) * (1.0 / r)
        assert torch.allclose(_layer(model.unet, f"{ATTN}.attn1.to_out.0"), want, atol=1e-6)
        d = ((conv["hada_w1_a"] @ conv["hada_w1_b"]) * (conv["hada_w2_a"] @ conv["hada_w2_b"])).reshape(32, 32, 3, 3)
        assert torch.allclose(_layer(model.unet, "down_blocks.0.resnets.0.conv2"), conv_old + d * (2.0 / r), atol=1e-6)
    assert torch.equal(_layer(model.unet, "down_blocks.0.resnets.0.conv2"), conv_old)


def test_lokr_kronecker(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    g = _gen(5)
    w1 = torch.randn(4, 8, generator=g) * 0.1  # factors of ff.net.2 (32, 128): (4*8, 8*16)
    w2a, w2b = torch.randn(8, 2, generator=g) * 0.1, torch.randn(2, 16, generator=g) * 0.1
    p = f"lora_unet_{ATTN.replace('.', '_')}_ff_net_2"
    _write(sd1_app.settings.lora_path, "lokr", {f"{p}.lokr_w1": w1, f"{p}.lokr_w2_a": w2a, f"{p}.lokr_w2_b": w2b,
                                                f"{p}.alpha": torch.tensor(1.0)})
    old = _layer(model.unet, f"{ATTN}.ff.net.2").clone()
    with applied_loras(model, LoraLibrary(sd1_app.settings.lora_path), _tags("<lora:lokr:0.5>")):
        want = old + torch.kron(w1, w2a @ w2b) * (1.0 / 2) * 0.5
        assert torch.allclose(_layer(model.unet, f"{ATTN}.ff.net.2"), want, atol=1e-6)


def test_kohya_sdxl_te1_te2_and_ldm_unet(make_app) -> None:  # noqa: ANN001
    app = make_app(("sdxl",))
    model = app.models.current
    tensors: dict[str, torch.Tensor] = {}
    tensors |= _kohya("lora_te1_text_model_encoder_layers_0_self_attn_k_proj", *_lora_pair(64, 64, 4, 1), 4.0)
    tensors |= _kohya("lora_te2_text_model_encoder_layers_1_mlp_fc1", *_lora_pair(128, 64, 4, 2), 2.0)
    # SDXL down_blocks.1.attentions.0 == input_blocks.3.1 with one layer per block
    tensors |= _kohya("lora_unet_input_blocks_3_1_transformer_blocks_1_attn2_to_v", *_lora_pair(128, 128, 4, 3), 4.0)
    _write(app.settings.lora_path, "xl", tensors, {"ss_base_model_version": "sdxl_base_v1-0"})
    lib = LoraLibrary(app.settings.lora_path)
    assert lib.find("xl").sd_version == "SDXL"  # type: ignore[union-attr]
    before = _state(model)
    te1 = _layer(model.text_encoders[0], "encoder.layers.0.self_attn.k_proj").clone()
    te2 = _layer(model.text_encoders[1], "text_model.encoder.layers.1.mlp.fc1").clone()
    unet = _layer(model.unet, "down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_v").clone()
    with applied_loras(model, lib, _tags("<lora:xl:1>")) as report:
        assert not report.notices
        assert torch.allclose(_layer(model.text_encoders[0], "encoder.layers.0.self_attn.k_proj"),
                              _expected_linear(te1, tensors, "lora_te1_text_model_encoder_layers_0_self_attn_k_proj", 1), atol=1e-6)
        assert torch.allclose(_layer(model.text_encoders[1], "text_model.encoder.layers.1.mlp.fc1"),
                              _expected_linear(te2, tensors, "lora_te2_text_model_encoder_layers_1_mlp_fc1", 1), atol=1e-6)
        assert not torch.equal(_layer(model.unet, "down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_v"), unet)
    assert _same(_state(model), before)
    result = run_txt2img(app, Txt2ImgParams(prompt="x <lora:xl:1>", **SMALL))
    assert "Lora hashes" in result.infotexts[0]
    assert _same(_state(model), before)


def test_wrong_architecture_corrupt_and_unknown_give_notices(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    root = sd1_app.settings.lora_path
    _write(root, "xlOnly", _kohya("lora_te1_text_model_encoder_layers_0_self_attn_k_proj", *_lora_pair(64, 64, 4, 1), 4.0))
    good = _kohya(f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_q", *_lora_pair(32, 32, 4, 1), 4.0)
    bad_shape = _kohya(f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_k", *_lora_pair(32, 128, 4, 1), 4.0)
    _write(root, "badShape", good | bad_shape)
    (root / "corrupt.safetensors").write_bytes(struct.pack("<Q", 40) + json.dumps({"a": 1}).encode() + b"xx")
    (root / "broken.pt").write_bytes(b"not a pickle")
    before = _state(model)
    prompt = "x <lora:xlOnly:1> <lora:badShape:1> <lora:corrupt:1> <lora:broken:1> <lora:nowhere:1>"
    with applied_loras(model, LoraLibrary(root), _tags(prompt)) as report:
        assert _same(_state(model), before)
        assert report.applied == [] and report.infotext() == {}
    text = " ".join(report.notices)
    assert "'xlOnly'" in text and "another model type" in text and "'badShape'" in text
    assert "'corrupt'" in text and "'broken'" in text and "'nowhere' was not found" in text
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt=prompt, **SMALL))
    assert len(result.images) == 1 and "'nowhere' was not found" in result.message
    assert "Lora hashes" not in result.infotexts[0]
    assert _same(_state(model), before)


def test_a_few_stray_layers_are_left_out_and_the_rest_applied(sd1_app) -> None:  # noqa: ANN001
    """Like A1111: a file with some layers the model lacks still works, with a notice naming them;
    a file where most layers are missing is another model type and is refused (test above)."""
    model = sd1_app.models.current
    root = sd1_app.settings.lora_path
    t = _sd1_kohya(root, "fox")
    stray = _kohya("lora_unet_down_blocks_7_attentions_0_proj_in", *_lora_pair(32, 32, 4, 9), 1.0)
    _write(root, "foxStray", t | stray, KOHYA_META)
    to_k = _layer(model.unet, f"{ATTN}.attn2.to_k").clone()
    before = _state(model)
    with applied_loras(model, LoraLibrary(root), _tags("<lora:foxStray:0.5>")) as report:
        assert report.applied == ["foxStray"]
        assert report.notices == ["LoRA 'foxStray' (foxStray.safetensors): 1 of its 5 layers do not exist in the loaded "
                                  "model and were left out (e.g. 'lora_unet_down_blocks_7_attentions_0_proj_in')."]
        prefix = f"lora_unet_{ATTN.replace('.', '_')}_attn2_to_k"
        assert torch.allclose(_layer(model.unet, f"{ATTN}.attn2.to_k"), _expected_linear(to_k, t, prefix, 0.5), atol=1e-6)
    assert _same(_state(model), before)


def test_error_inside_the_block_restores(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    _sd1_kohya(sd1_app.settings.lora_path)
    before = _state(model)
    with pytest.raises(RuntimeError, match="interrupted"), \
            applied_loras(model, LoraLibrary(sd1_app.settings.lora_path), _tags("<lora:fox:1>")):
        assert not _same(_state(model), before), "the LoRA is merged inside the block"
        raise RuntimeError("interrupted")
    assert _same(_state(model), before)


def test_pasted_hashes_find_a_renamed_local_file(tmp_path: Path) -> None:
    from modules.networks.lora import parse_lora_hashes, rename_by_hashes

    _write(tmp_path, "localName", _kohya("lora_te_x", *_lora_pair(4, 4, 1, 0), 1.0))
    lib = LoraLibrary(tmp_path)
    digest = lib.shorthash(lib.find("localName"))  # type: ignore[arg-type]
    assert parse_lora_hashes(f"their: {digest}, other: 0123456789ab") == {"their": digest, "other": "0123456789ab"}
    prompt = "x <lora:their:0.8> <lora:other:1>"
    assert rename_by_hashes(prompt, f"their: {digest}, other: 0123456789ab", lib) == \
        "x <lora:localName:0.8> <lora:other:1>"


def test_refresh_reads_a_file_again_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from modules.networks import lora as lora_module

    folder = tmp_path / "Lora"
    folder.mkdir()
    (folder / "a.safetensors").write_bytes(b"not a header")
    read: list[str] = []
    real = lora_module._scanned
    monkeypatch.setattr(lora_module, "_scanned", lambda path: read.append(path.name) or real(path))
    library = LoraLibrary(folder)
    first = library.refresh()
    assert read == ["a.safetensors"] and first[0].problem, "damaged: listed with the reason"
    assert library.refresh()[0].problem == first[0].problem and read == ["a.safetensors"], "unchanged: not read"
    os.utime(folder / "a.safetensors", ns=(1, 1))
    library.refresh()
    assert read == ["a.safetensors", "a.safetensors"], "changed: read again"
