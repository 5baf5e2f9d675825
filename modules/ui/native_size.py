"""Width and height follow the loaded checkpoint's own resolution when it declares one.

A checkpoint that says it was trained at another size than the 512x512 default (the built-in demo
model: 64x64, in 'modelspec.resolution') gets its size in the txt2img and img2img tabs as soon as it
is loaded, so a new user's first image is drawn at a size the model can draw. Sizes the user has set
are left alone: they only move when they still show what the page set itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modules.app import App


def model_size(app: App, default: tuple[int, int]) -> tuple[int, int]:
    """The loaded checkpoint's declared (width, height), else default: the size rule of every front door
    (modules/generation/resolve.py), shown in the fields instead of applied at run time."""
    from modules.generation.resolve import declared_size

    return declared_size(app.models.current) or default


def follow(sizes: list[int], page_set: list[int] | None, target: tuple[int, int],
           default: tuple[int, int]) -> tuple[list[int | None], list[int]]:
    """(new values, or None to leave a field as it is; what the page has now set) for the size fields
    [w, h, w, h, ...]. A field moves to the target only while it still shows what the page set last
    (at first: the default)."""
    last = page_set or list(default) * (len(sizes) // 2)
    wanted = list(target) * (len(sizes) // 2)
    updates: list[int | None] = [want if now == before and now != want else None
                                 for now, before, want in zip(sizes, last, wanted, strict=True)]
    return updates, wanted


def wire_native_size(app: App, demo: Any, dropdown: Any, fields: list[Any], default: tuple[int, int]) -> None:
    """When the page opens and whenever the checkpoint dropdown changes (a load from the UI, the API or
    the start-up), move the size fields [w, h, ...] that the user has not changed to the model's size."""
    import gradio as gr

    page_set = gr.State(None)

    def on_model(*values: Any) -> list[Any]:
        *sizes, last = values
        updates, now_set = follow([int(v) for v in sizes], last, model_size(app, default), default)
        return [gr.skip() if u is None else u for u in updates] + [now_set]

    gr.on([demo.load, dropdown.change], on_model, inputs=[*fields, page_set], outputs=[*fields, page_set],
          api_name="follow_model_size", api_visibility="private", show_progress="hidden", queue=False)
