"""Textual-inversion embeddings in the formats users have, written here exactly as the tools write them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from modules.generation.conditioning import encode_texts
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.networks.embeddings import EmbeddingDatabase

WIDTH = 64  # tiny models' text width


def write_a1111_pt(path: Path, vectors: torch.Tensor) -> None:
    """As A1111's Embedding.save writes it (textual_inversion.py)."""
    torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": vectors.clone().requires_grad_(True)},
                "name": path.stem, "step": 250, "sd_checkpoint": "0123456789", "sd_checkpoint_name": "tiny-sd1"},
               path)


def token_ids(model: Any, name: str, encoder: int = 0) -> list[int]:
    return list(model.tokenizers[encoder](name, add_special_tokens=False).input_ids)


def capture_embeddings(encoder: Any, store: list[torch.Tensor]) -> Any:
    """Hook on the encoder's embeddings block (token + position) that records its output."""
    inner = getattr(encoder, "text_model", encoder)
    return inner.embeddings.register_forward_hook(lambda _m, _i, out: store.append(out.detach().clone()))


def embed_inputs(model: Any, text: str, finders: Any, encoder: int = 0) -> torch.Tensor:
    store: list[torch.Tensor] = []
    handle = capture_embeddings(model.text_encoders[encoder], store)
    try:
        encode_texts(model, [text], find_embedding=finders)
    finally:
        handle.remove()
    return store[0][0]


@pytest.fixture
def sd1(sd1_app):  # noqa: ANN001, ANN201
    return sd1_app, sd1_app.models.current, sd1_app.settings.embeddings_path


def test_a1111_pt_replaces_exactly_its_token_positions(sd1) -> None:  # noqa: ANN001
    app, model, folder = sd1
    count = len(token_ids(model, "shiny-style"))
    vectors = torch.randn(count, WIDTH, generator=torch.Generator().manual_seed(1))
    write_a1111_pt(folder / "shiny-style.pt", vectors)
    db = app.networks.embeddings
    db.load(model)
    emb = db.loaded()["shiny-style"]
    assert emb.vector_count == count and emb.step == 250
    text = "a cat, shiny-style, garden"
    used: set[str] = set()
    plain = embed_inputs(model, text, None)
    with_emb = embed_inputs(model, text, db.finders(model, used))
    assert used == {"shiny-style"}
    prefix = len(token_ids(model, "a cat,"))
    start = 1 + prefix  # after the start token
    changed = (plain - with_emb).abs().sum(-1) > 0
    assert changed.nonzero().flatten().tolist() == list(range(start, start + count))
    position = getattr(model.text_encoders[0], "text_model", model.text_encoders[0]).embeddings.position_embedding
    expected = vectors + position.weight[start:start + count]
    assert torch.allclose(with_emb[start:start + count], expected, atol=1e-6)


def test_each_format_loads(sd1) -> None:  # noqa: ANN001
    app, model, folder = sd1
    (folder / "sub").mkdir()
    save_file({"emb_params": torch.randn(2, WIDTH)}, str(folder / "sub" / "kohya-emb.safetensors"))
    torch.save({"<cat-toy>": torch.randn(WIDTH)}, folder / "cat-toy.bin")  # diffusers learned_embeds.bin
    write_a1111_pt(folder / "a1111.pt", torch.randn(3, WIDTH))
    app.refresh_models()
    loaded = app.networks.embeddings.loaded()
    assert {name: e.vector_count for name, e in loaded.items()} == {"kohya-emb": 2, "cat-toy": 1, "a1111": 3}
    assert app.networks.embeddings.skipped() == {}


def test_multi_vector_takes_its_vector_count_in_tokens(sd1) -> None:  # noqa: ANN001
    from modules.generation.prompt_chunks import prompt_chunks

    app, model, folder = sd1
    save_file({"emb_params": torch.randn(5, WIDTH)}, str(folder / "five.safetensors"))
    app.networks.embeddings.load(model)
    finder = app.networks.embeddings.finders(model)[0]
    chunks, count = prompt_chunks(model.tokenizers[0], "five dogs", find_embedding=finder)
    assert count == 5 + len(token_ids(model, "dogs"))
    assert [(f.offset, f.embedding.vector_count) for f in chunks[0].fixes] == [(1, 5)]


def test_wrong_width_and_corrupt_files_are_skipped_with_reason(sd1) -> None:  # noqa: ANN001
    app, model, folder = sd1
    save_file({"emb_params": torch.randn(1, 768)}, str(folder / "sd15-style.safetensors"))
    save_file({"clip_l": torch.randn(1, WIDTH), "clip_g": torch.randn(1, WIDTH)}, str(folder / "xl-only.safetensors"))
    (folder / "broken.pt").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "broken2.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    save_file({"a": torch.randn(1, WIDTH), "b": torch.randn(1, WIDTH)}, str(folder / "two-tensors.safetensors"))
    app.networks.embeddings.load(model)
    skipped = {name: s.reason for name, s in app.networks.embeddings.skipped().items()}
    assert "width 768" in skipped["sd15-style"] and "width 64" in skipped["sd15-style"]
    assert "SDXL" in skipped["xl-only"]
    assert "damaged" in skipped["broken"] and "damaged" in skipped["broken2"]
    assert "one tensor" in skipped["two-tensors"]
    assert app.networks.embeddings.loaded() == {}
    result = run_txt2img(app, Txt2ImgParams(prompt="sd15-style cat", width=64, height=64, steps=1, seed=1))
    assert "TI hashes" not in result.infotexts[0]


def test_sdxl_clip_l_and_clip_g_go_to_their_encoders(make_app) -> None:  # noqa: ANN001
    app = make_app(("sdxl",))
    model = app.models.current
    count = len(token_ids(model, "xlstyle"))
    clip_l, clip_g = torch.randn(count, WIDTH), torch.randn(count, WIDTH)
    save_file({"clip_l": clip_l, "clip_g": clip_g}, str(app.settings.embeddings_path / "xlstyle.safetensors"))
    save_file({"emb_params": torch.randn(1, WIDTH)}, str(app.settings.embeddings_path / "sd1-only.safetensors"))
    db = app.networks.embeddings
    db.load(model)
    assert list(db.loaded()) == ["xlstyle"] and "SDXL" in db.skipped()["sd1-only"].reason
    finders = db.finders(model)
    for encoder, vectors in ((0, clip_l), (1, clip_g)):
        out = embed_inputs(model, "xlstyle", finders, encoder)
        inner = getattr(model.text_encoders[encoder], "text_model", model.text_encoders[encoder])
        expected = vectors + inner.embeddings.position_embedding.weight[1:1 + count]
        assert torch.allclose(out[1:1 + count], expected, atol=1e-6)


def test_ti_hashes_in_infotext_for_used_embeddings_only(sd1) -> None:  # noqa: ANN001
    app, model, folder = sd1
    write_a1111_pt(folder / "used-one.pt", torch.randn(1, WIDTH))
    write_a1111_pt(folder / "unused.pt", torch.randn(1, WIDTH))
    save_file({"emb_params": torch.randn(2, WIDTH)}, str(folder / "neg-emb.safetensors"))
    app.refresh_models()
    params = Txt2ImgParams(prompt="a used-one house", negative_prompt="neg-emb", width=64, height=64, steps=1, seed=3)
    plain = run_txt2img(app, Txt2ImgParams(prompt="a house", width=64, height=64, steps=1, seed=3))
    result = run_txt2img(app, params)
    digest = {name: hashlib.sha256((folder / file).read_bytes()).hexdigest()[:12]
              for name, file in (("used-one", "used-one.pt"), ("neg-emb", "neg-emb.safetensors"))}
    assert f'TI hashes: "neg-emb: {digest["neg-emb"]}, used-one: {digest["used-one"]}"' in result.infotexts[0]
    assert "TI hashes" not in plain.infotexts[0]


def test_database_without_folder_is_empty() -> None:
    db = EmbeddingDatabase()
    db.load(None)
    assert db.loaded() == {} and db.skipped() == {} and db.files() == []
