"""Hypernetworks: A1111 .pt files (per-width k/v modules of a Sequential named 'linear') applied to the
attention key/value context through an attention processor that is removed after the generation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from diffusers.models.attention_processor import Attention

from modules.extra_network_tags import parse_extra_network_tags
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.networks.hypernetwork_attention import HypernetworkAttnProcessor
from modules.networks.hypernetworks import HypernetworkLibrary, applied_hypernetworks, load_hypernetwork

SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 3}


class _Holder(torch.nn.Module):
    """A1111's HypernetworkModule keeps its layers in `self.linear`, hence 'linear.0.weight' keys."""

    def __init__(self, layers: list[torch.nn.Module]) -> None:
        super().__init__()
        self.linear = torch.nn.Sequential(*layers)


def _reference(width: int, seed: int) -> _Holder:
    """layer_structure [1, 2, 1], relu, layer norm, dropout_structure [0, 0.3, 0] in A1111's layer order."""
    torch.manual_seed(seed)
    holder = _Holder([torch.nn.Linear(width, 2 * width), torch.nn.ReLU(), torch.nn.LayerNorm(2 * width),
                      torch.nn.Dropout(0.3), torch.nn.Linear(2 * width, width), torch.nn.LayerNorm(width)])
    for p in holder.parameters():
        torch.nn.init.normal_(p, std=0.2)
    return holder.eval()


def _write(folder: Path, name: str, widths: tuple[int, ...] = (64, 32)) -> dict[int, tuple[_Holder, _Holder]]:
    refs = {w: (_reference(w, w), _reference(w, w + 1)) for w in widths}
    data: dict[object, object] = {w: (k.state_dict(), v.state_dict()) for w, (k, v) in refs.items()}
    data |= {"step": 100, "name": name, "layer_structure": [1, 2, 1], "activation_func": "relu",
             "is_layer_norm": True, "weight_initialization": "Normal", "sd_checkpoint": "0123456789",
             "sd_checkpoint_name": "tiny", "activate_output": False, "use_dropout": True,
             "dropout_structure": [0, 0.3, 0], "last_layer_dropout": False, "optional_info": None}
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(data, folder / f"{name}.pt")
    return refs


def _tags(prompt: str):  # noqa: ANN202
    return parse_extra_network_tags(prompt)[1]


def test_file_modules_match_the_reference_mlp(tmp_path: Path) -> None:
    refs = _write(tmp_path, "hn")
    net = load_hypernetwork(tmp_path / "hn.pt")
    net.strength = 0.5
    x = torch.randn(2, 5, 64)
    k_ref, v_ref = refs[64]
    k, v = net.apply(x)
    assert torch.allclose(k, x + k_ref.linear(x) * 0.5, atol=1e-6)
    assert torch.allclose(v, x + v_ref.linear(x) * 0.5, atol=1e-6)
    other = torch.randn(1, 3, 48)  # no module for this width: unchanged
    assert net.apply(other)[0] is other


def test_old_linear1_linear2_files(tmp_path: Path) -> None:
    lin1, lin2 = torch.nn.Linear(64, 64), torch.nn.Linear(64, 64)
    sd = {f"linear1.{k}": t for k, t in lin1.state_dict().items()} | {f"linear2.{k}": t for k, t in lin2.state_dict().items()}
    torch.save({64: [sd, sd], "name": "old"}, tmp_path / "old.pt")  # no layer_structure: [1, 2, 1] default
    # 64 → 64 → 64 has only two linears, matching the default structure's two layers
    net = load_hypernetwork(tmp_path / "old.pt")
    x = torch.randn(1, 2, 64)
    assert torch.allclose(net.apply(x)[0], x + lin2(lin1(x)), atol=1e-6)


def test_processor_equals_the_default_attention_on_the_changed_context() -> None:
    torch.manual_seed(0)
    attn = Attention(query_dim=32, cross_attention_dim=64, heads=2, dim_head=16).eval()
    hidden, context = torch.randn(2, 10, 32), torch.randn(2, 7, 64)
    same = _reference(64, 9)
    from modules.networks.hypernetworks import Hypernetwork

    net = Hypernetwork("same", {64: (same.linear, same.linear)}, strength=0.7)
    with torch.no_grad():
        mine = HypernetworkAttnProcessor([net])(attn, hidden, context)
        changed = context + same.linear(context) * 0.7
        default = attn(hidden, encoder_hidden_states=changed)
        assert torch.allclose(mine, default, atol=1e-5)
        none = HypernetworkAttnProcessor([])(attn, hidden, context)
        assert torch.allclose(none, attn(hidden, encoder_hidden_states=context), atol=1e-6)


def test_txt2img_changes_weight_zero_exact_processors_restored(sd1_app) -> None:  # noqa: ANN001
    root = sd1_app.settings.hypernetwork_path
    _write(root, "hn")
    unet = sd1_app.models.current.unet
    processors = dict(unet.attn_processors)
    state = {k: v.clone() for k, v in unet.state_dict().items()}
    plain = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox", **SMALL))
    zero = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox <hypernet:hn:0>", **SMALL))
    used = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox <hypernet:hn:1>", **SMALL))
    assert np.array_equal(np.asarray(plain.images[0]), np.asarray(zero.images[0]))
    assert not np.array_equal(np.asarray(plain.images[0]), np.asarray(used.images[0]))
    assert "<hypernet:hn:1>" in used.infotexts[0]  # A1111 keeps the tag in the prompt as the record
    assert all(unet.attn_processors[k] is p for k, p in processors.items())
    assert all(torch.equal(v, unet.state_dict()[k]) for k, v in state.items())
    again = run_txt2img(sd1_app, Txt2ImgParams(prompt="a fox", **SMALL))
    assert np.array_equal(np.asarray(plain.images[0]), np.asarray(again.images[0]))


def test_processors_set_only_inside_and_restored_on_error(sd1_app) -> None:  # noqa: ANN001
    root = sd1_app.settings.hypernetwork_path
    _write(root, "hn")
    model = sd1_app.models.current
    before = dict(model.unet.attn_processors)
    try:
        with applied_hypernetworks(model, HypernetworkLibrary(root), _tags("<hypernet:hn:0.8>")) as report:
            assert report.applied[0].strength == 0.8 and not report.notices
            assert all(isinstance(p, HypernetworkAttnProcessor) for p in model.unet.attn_processors.values())
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert all(model.unet.attn_processors[k] is p for k, p in before.items())


def test_bad_files_and_unknown_names_give_notices(sd1_app) -> None:  # noqa: ANN001
    root = sd1_app.settings.hypernetwork_path
    root.mkdir(parents=True, exist_ok=True)
    (root / "corrupt.pt").write_bytes(b"\x80\x04garbage")
    torch.save({"name": "empty", "layer_structure": [1, 2, 1]}, root / "empty.pt")
    bad = _reference(64, 1).state_dict()
    torch.save({64: (bad, bad), "layer_structure": [1, 3, 2, 1]}, root / "mismatch.pt")
    model = sd1_app.models.current
    before = dict(model.unet.attn_processors)
    prompt = "x <hypernet:corrupt:1> <hypernet:empty:1> <hypernet:mismatch:1> <hypernet:nowhere:1>"
    with applied_hypernetworks(model, HypernetworkLibrary(root), _tags(prompt)) as report:
        assert report.applied == []
    text = " ".join(report.notices)
    for name in ("corrupt", "empty", "mismatch"):
        assert f"Hypernetwork '{name}' (" in text
    assert "'nowhere' was not found" in text
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt=prompt, **SMALL))
    assert len(result.images) == 1 and "'empty'" in result.message
    assert all(model.unet.attn_processors[k] is p for k, p in before.items())


def test_library_lists_files(tmp_path: Path) -> None:
    _write(tmp_path / "sub", "one")
    lib = HypernetworkLibrary(tmp_path)
    assert [f.name for f in lib.files()] == ["one"]
    assert len(lib.shorthash(lib.files()[0])) == 10
    assert lib.files()[0].as_api() == {"name": "one", "path": str(tmp_path / "sub" / "one.pt")}


def test_old_hypernet_infotext_keys_become_a_tag() -> None:
    from modules.generation.infotext import parse_infotext

    info = parse_infotext("a cat\nSteps: 20, Sampler: Euler a, Seed: 1, Hypernet: anime, Hypernet strength: 0.5")
    assert info["Prompt"] == "a cat<hypernet:anime:0.5>"
