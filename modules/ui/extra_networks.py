"""The extra-networks panel: cards for the embeddings, LoRA and hypernetworks the user has.

A card shows the name and a preview ('<stem>.png' or '<stem>.preview.png' beside the file, read here
and handed to Gradio as an image, so no file path is served); clicking it adds the network's tag to
the prompt (embedding: its name, LoRA: <lora:name:1>, hypernetwork: <hypernet:name:1>).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App

KINDS = ("Textual Inversion", "LoRA", "Hypernetworks")
THUMB = 192


@dataclass(frozen=True)
class NetworkCard:
    kind: str
    name: str
    path: Path
    tag: str
    preview: Path | None = None
    detail: str = ""


def find_preview(path: Path) -> Path | None:
    for candidate in (path.with_name(path.stem + ".preview.png"), path.with_suffix(".png")):
        if candidate.is_file():
            return candidate
    return None


def _lora_cards(app: App) -> list[NetworkCard]:
    cards = []
    for lora in app.networks.loras.files():  # alias and metadata from the file's header
        detail = f"alias: {lora.alias}" if lora.alias != lora.name else ""
        detail = f"skipped: {lora.problem}" if lora.problem else detail
        cards.append(NetworkCard("LoRA", lora.name, lora.path, f"<lora:{lora.name}:1>", find_preview(lora.path),
                                 detail))
    return cards


def list_cards(app: App, kind: str) -> list[NetworkCard]:
    """The cards of one kind, from the folders as they are now."""
    if kind == "Textual Inversion":
        db = app.networks.embeddings
        skipped = db.skipped()
        return [NetworkCard(kind, p.stem, p, p.stem, find_preview(p),
                            f"skipped: {skipped[p.stem].reason}" if p.stem in skipped else "")
                for p in db.files()]
    if kind == "LoRA":
        return _lora_cards(app)
    if kind == "Hypernetworks":
        return [NetworkCard(kind, h.name, h.path, f"<hypernet:{h.name}:1>", find_preview(h.path))
                for h in app.networks.hypernetworks.files()]
    raise ValueError(f"unknown kind {kind!r}")


def filter_cards(cards: list[NetworkCard], query: str) -> list[NetworkCard]:
    words = query.lower().split()
    return [c for c in cards if all(w in f"{c.name} {c.detail} {c.path.name}".lower() for w in words)]


def add_tag(prompt: str, tag: str) -> str:
    """The prompt with the tag appended (', ' between), as a click on a card does."""
    text = prompt.rstrip()
    if not text:
        return tag
    return f"{text} {tag}" if text.endswith(",") else f"{text}, {tag}"


def card_image(card: NetworkCard) -> Image.Image:
    """The preview as a small thumbnail, or a plain tile with the name when there is none."""
    from PIL import Image, ImageDraw

    if card.preview is not None:
        try:
            with Image.open(card.preview) as img:
                thumb = img.convert("RGB")
                thumb.thumbnail((THUMB, THUMB))
                return thumb
        except OSError:
            pass
    tile = Image.new("RGB", (THUMB, THUMB), (60, 64, 72))
    ImageDraw.Draw(tile).text((8, THUMB // 2 - 6), card.name[:28], fill=(235, 235, 235))
    return tile


def gallery_items(cards: list[NetworkCard]) -> list[tuple[Image.Image, str]]:
    return [(card_image(c), f"{c.name} — {c.detail}" if c.detail else c.name) for c in cards]


def show_cards(app: App, kind: str, query: str, refresh: bool = False) -> tuple[list[Any], list[str]]:
    """(gallery items, tag per shown card) for a kind and search text; refresh re-reads the folders."""
    if refresh:
        app.networks.embeddings.load(app.models.current)
        app.networks.loras.refresh()
    cards = filter_cards(list_cards(app, kind), query or "")
    return gallery_items(cards), [c.tag for c in cards]


def click_card(prompt: str, tags: list[str], index: int | None) -> str:
    """The prompt after a click on the card at index (unchanged for a stale index)."""
    if index is None or not 0 <= index < len(tags):
        return prompt
    return add_tag(prompt, tags[index])


def build_extra_networks_panel(app: App, prompt_box: Any, tab: str = "txt2img") -> Any:
    """The panel's components (inside the caller's Blocks context), wired to add tags to prompt_box.

    txt2img's panel keeps the plain ids (extra_networks_kind, ...); another tab's get its name first.
    """
    import gradio as gr

    pre = "" if tab == "txt2img" else f"{tab}_"
    with gr.Accordion("Extra networks", open=False, elem_id=f"{tab}_extra_networks") as panel:
        with gr.Row(equal_height=True):
            kind = gr.Radio(list(KINDS), value=KINDS[0], label="Kind", elem_id=f"{pre}extra_networks_kind", scale=3)
            search = gr.Textbox(label="Search", placeholder="Search...", elem_id=f"{pre}extra_networks_search", scale=2)
            refresh = gr.Button("🔄", elem_id=f"{pre}extra_networks_refresh", elem_classes=["sd-tool-button"],
                                scale=0, min_width=40)
        gallery = gr.Gallery(label="Cards", columns=6, height=260, allow_preview=False,
                             elem_id=f"{pre}extra_networks_cards", show_label=False)
        tags = gr.State([])

    def update(kind_value: str, query: str) -> tuple[list[Any], list[str]]:
        return show_cards(app, kind_value, query)

    def reload(kind_value: str, query: str) -> tuple[list[Any], list[str]]:
        return show_cards(app, kind_value, query, refresh=True)

    def on_select(prompt: str, shown: list[str], evt: gr.SelectData) -> str:
        return click_card(prompt, shown, evt.index if isinstance(evt.index, int) else None)

    on_select.__annotations__["evt"] = gr.SelectData  # resolved, so Gradio passes the click's data

    for event, fn, name in ((kind.change, update, f"{pre}extra_networks_kind"), (search.input, update, f"{pre}extra_networks_search"),
                            (refresh.click, reload, f"{pre}extra_networks_refresh"), (panel.expand, update, f"{pre}extra_networks_open")):
        event(fn, inputs=[kind, search], outputs=[gallery, tags], api_name=name, api_visibility="private",
              show_progress="hidden")
    gallery.select(on_select, inputs=[prompt_box, tags], outputs=prompt_box, api_name=f"{pre}extra_networks_click",
                   api_visibility="private", show_progress="hidden")
    return panel
