"""The extra-networks panel: cards for the networks of every registered kind shown in it (app.registry.networks:
embeddings, LoRA, hypernetworks, and kinds extensions add; modules/networks/kind.py).

A card shows the name and a preview ('<stem>.png' or '<stem>.preview.png' beside the file, read here
and handed to Gradio as an image, so no file path is served); clicking it adds to the prompt
what its kind says (embedding: its name, LoRA: <lora:name:1>, hypernetwork: <hypernet:name:1>).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.networks.kind import NetworkItem, NetworkKind

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App

THUMB = 192


@dataclass(frozen=True)
class NetworkCard:
    kind: str
    name: str
    path: Path | None
    tag: str
    preview: Path | None = None
    detail: str = ""


def panel_kinds(app: App) -> list[NetworkKind]:
    """The registered network kinds the panel shows, in registration order."""
    return [kind for kind in app.registry.networks if getattr(kind, "in_panel", False)]


def find_kind(app: App, kind: str) -> NetworkKind:
    """A panel kind by its label ("LoRA") or registry name ("lora"); InvalidParams naming the choices."""
    for found in panel_kinds(app):
        if kind in (found.label, found.name):
            return found
    raise InvalidParams(msg("unknown_network_kind", name=kind, choices=", ".join(k.label for k in panel_kinds(app))))


def card_of(label: str, item: NetworkItem) -> NetworkCard:
    detail = f"skipped: {item.problem}" if item.problem else item.note
    return NetworkCard(label, item.name, item.path, item.prompt, item.preview, detail)


def list_cards(app: App, kind: str, refresh: bool = False) -> list[NetworkCard]:
    """The cards of one kind (label or name), from the folders as they are now (refresh: read them again)."""
    found = find_kind(app, kind)
    return [card_of(found.label, item) for item in found.list(refresh)]


def filter_cards(cards: list[NetworkCard], query: str) -> list[NetworkCard]:
    words = query.lower().split()
    return [c for c in cards if all(w in f"{c.name} {c.detail} {c.path.name if c.path else ''}".lower() for w in words)]


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
    """(gallery items, tag per shown card) for a kind and search text; refresh re-reads the folders. A kind
    no longer registered shows nothing."""
    try:
        cards = filter_cards(list_cards(app, kind, refresh), query or "")
    except InvalidParams:
        return [], []
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
            labels = [k.label for k in panel_kinds(app)]
            kind = gr.Radio(labels, value=labels[0] if labels else None, label="Kind", elem_id=f"{pre}extra_networks_kind", scale=3)
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
