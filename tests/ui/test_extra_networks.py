"""The extra-networks panel: cards per kind from the folders, previews, search, click adds the tag."""

from __future__ import annotations

import torch
from PIL import Image
from safetensors.torch import save_file

from modules.ui.blocks import build_ui
from modules.ui.extra_networks import add_tag, click_card, list_cards, show_cards
from tests.ui.test_blocks import handler


def test_cards_previews_search_and_click_adds_tags(make_app) -> None:  # noqa: ANN001
    app = make_app(("sd1",))
    s = app.settings
    save_file({"emb_params": torch.randn(2, 64)}, str(s.embeddings_path / "shiny.safetensors"))
    Image.new("RGB", (300, 200), (255, 0, 0)).save(s.embeddings_path / "shiny.preview.png")
    save_file({"emb_params": torch.randn(1, 768)}, str(s.embeddings_path / "too-wide.safetensors"))
    save_file({"w": torch.zeros(2)}, str(s.lora_path / "ink.safetensors"), {"ss_output_name": "ink-style"})
    Image.new("RGB", (64, 64), (0, 0, 255)).save(s.lora_path / "ink.png")
    torch.save({"sizes": {}}, s.hypernetwork_path / "anime.pt")

    demo = build_ui(app)
    gallery, tags = handler(demo, "extra_networks_refresh")("Textual Inversion", "")
    assert tags == ["shiny", "too-wide"]
    assert gallery[0][0].getpixel((5, 5)) == (255, 0, 0) and gallery[0][1] == "shiny"
    assert "skipped" in gallery[1][1] and "width 768" in gallery[1][1]
    assert handler(demo, "extra_networks_search")("Textual Inversion", "SHI")[1] == ["shiny"]
    assert show_cards(app, "LoRA", "")[1] == ["<lora:ink:1>"]
    assert list_cards(app, "LoRA")[0].preview == s.lora_path / "ink.png"
    assert "alias: ink-style" in list_cards(app, "LoRA")[0].detail
    assert show_cards(app, "Hypernetworks", "ani")[1] == ["<hypernet:anime:1>"]

    prompt = click_card("a cat", tags, 0)
    assert prompt == "a cat, shiny"
    assert click_card(prompt, ["<lora:ink:1>"], 0) == "a cat, shiny, <lora:ink:1>"
    assert click_card("x", tags, 7) == "x" and add_tag("", "shiny") == "shiny" and add_tag("a,", "b") == "a, b"
