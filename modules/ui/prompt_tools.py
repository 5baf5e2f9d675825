"""Prompt helpers for a generation tab: live token counters, the styles row, Ctrl+Up/Down weights.

The counters show "used/limit" per 75-token chunk (A1111's rule) and update as the text changes.
Styles come from <data dir>/styles.csv; "Apply" merges the selected styles into the prompt boxes,
and styles still selected at Generate time are merged into the prompts then (as in A1111). The
Ctrl+Up/Down key handler is a small inline script (javascript/edit_attention.js) put into <head>.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.messages import msg
from modules.styles import PromptStyle, StyleStore, apply_styles, find_styles

if TYPE_CHECKING:
    from modules.app import App

JS_DIR = Path(__file__).parent / "javascript"


def page_head() -> str:
    """<script> tags for the page's <head>: the icon buttons' hints (modules/ui/hints.py), then the files in
    javascript/, inline (nothing fetched)."""
    from modules.ui.hints import hints_script

    scripts = [path.read_text(encoding="utf-8") for path in sorted(JS_DIR.glob("*.js"))]
    return hints_script() + "".join(f"<script>\n{script}\n</script>\n" for script in scripts)


def token_counter_html(used: int, limit: int) -> str:
    return f"<span class='sd-token-counter' title='{html.escape(msg('token_counter_title'))}'>{used}/{limit}</span>"


@dataclass
class PromptTools:
    prompt_counter: Any
    negative_counter: Any
    styles: Any  # multiselect dropdown of style names
    apply_styles: Any
    refresh_styles: Any
    style_name: Any  # dropdown with custom values: the style being edited
    style_prompt: Any
    style_negative: Any
    copy_prompt: Any
    save_style: Any
    delete_style: Any
    style_message: Any


def build_token_counter(elem_id: str) -> Any:
    return gr.HTML(token_counter_html(0, 75), elem_id=elem_id, elem_classes=["sd-token-counter-box"], padding=False)


def build_styles_row(tab: str, names: list[str]) -> dict[str, Any]:
    """The styles dropdown with its buttons, and a closed "Edit styles" accordion."""
    with gr.Row(elem_id=f"{tab}_styles_row", equal_height=True):
        styles = gr.Dropdown(names, value=[], multiselect=True, label="Styles", elem_id=f"{tab}_styles", scale=4)
        apply = gr.Button("🖌️", elem_id=f"{tab}_style_apply", elem_classes=["sd-tool-button"], scale=0, min_width=40)
        refresh = gr.Button("🔄", elem_id=f"{tab}_styles_refresh", elem_classes=["sd-tool-button"], scale=0,
                            min_width=40)
    with gr.Accordion("Edit styles", open=False, elem_id=f"{tab}_styles_edit"):
        name = gr.Dropdown(names, value=None, allow_custom_value=True, label="Style name",
                           elem_id=f"{tab}_edit_style_name")
        prompt = gr.Textbox(label="Style prompt", lines=2, elem_id=f"{tab}_edit_style_prompt",
                            placeholder="{prompt} marks where your prompt goes")
        negative = gr.Textbox(label="Style negative prompt", lines=2, elem_id=f"{tab}_edit_style_neg_prompt")
        with gr.Row():
            copy = gr.Button("Copy from prompt", size="sm", elem_id=f"{tab}_edit_style_copy")
            save = gr.Button("Save style", size="sm", variant="primary", elem_id=f"{tab}_edit_style_save")
            delete = gr.Button("Delete style", size="sm", elem_id=f"{tab}_edit_style_delete")
        message = gr.HTML("", elem_id=f"{tab}_edit_style_message", padding=False)
    return {"styles": styles, "apply_styles": apply, "refresh_styles": refresh, "style_name": name,
            "style_prompt": prompt, "style_negative": negative, "copy_prompt": copy, "save_style": save,
            "delete_style": delete, "style_message": message}


def styled_prompts(app: App, prompt: str, negative: str, selected: list[str] | None) -> tuple[str, str]:
    """The prompts with the selected styles (by name, in selection order) merged in."""
    if not selected:
        return prompt, negative
    chosen = find_styles(StyleStore.in_data_dir(app.settings.data_dir).load(), selected)
    return apply_styles(prompt, negative, chosen)


def wire_prompt_tools(app: App, tab: str, tools: PromptTools, prompt: Any, negative: Any, steps: Any) -> None:
    """Connect the counters and style controls of one tab."""
    from modules.generation.prompt_conditioning import count_tokens

    store = StyleStore.in_data_dir(app.settings.data_dir)
    shipped: list[Any] = []  # the CLIP tokenizer, made on first use when no model is loaded

    def tokenizer() -> Any:
        model = app.models.current
        if model is not None:
            return model.tokenizers[0]
        if not shipped:
            from modules.model_manager.checkpoints import tokenizers_for

            shipped.append(tokenizers_for("sd1")[0])
        return shipped[0]

    def counter(negative_box: bool):  # noqa: ANN202
        def update(text: str, step_count: float | None) -> str:
            steps_value = int(step_count) if step_count and step_count >= 1 else 20
            return token_counter_html(*count_tokens(tokenizer(), text or "", steps_value, negative=negative_box))
        return update

    def names() -> list[str]:
        return [style.name for style in store.load()]

    def apply(selected: list[str] | None, text: str, negative_text: str) -> tuple[str, str, Any]:
        new_prompt, new_negative = styled_prompts(app, text or "", negative_text or "", selected)
        return new_prompt, new_negative, gr.update(value=[])

    def refresh(selected: list[str] | None) -> tuple[Any, Any]:
        current = names()
        kept = [name for name in (selected or []) if name in current]
        return gr.update(choices=current, value=kept), gr.update(choices=current)

    def load_style(name: str | None) -> tuple[Any, Any]:
        found = find_styles(store.load(), [name or ""])
        if not found:
            return gr.skip(), gr.skip()
        return found[0].prompt, found[0].negative_prompt

    def save(name: str | None, style_prompt: str, style_negative: str) -> tuple[Any, Any, str]:
        name = (name or "").strip()
        if not name:
            return gr.skip(), gr.skip(), _note(msg("style_name_missing"), "error")
        current = [style.name for style in store.put(PromptStyle(name, style_prompt or "", style_negative or ""))]
        return (gr.update(choices=current), gr.update(choices=current, value=name),
                _note(msg("style_saved", name=name, path=store.path)))

    def delete(name: str | None, selected: list[str] | None) -> tuple[Any, Any, str]:
        name = (name or "").strip()
        if name not in names():
            return gr.skip(), gr.skip(), _note(msg("style_not_found", name=name), "error")
        current = [style.name for style in store.delete(name)]
        kept = [n for n in (selected or []) if n in current]
        return (gr.update(choices=current, value=kept), gr.update(choices=current, value=None),
                _note(msg("style_deleted", name=name)))

    quick = {"queue": False, "show_progress": "hidden", "api_visibility": "private"}
    prompt.change(counter(False), inputs=[prompt, steps], outputs=tools.prompt_counter,
                  api_name=f"{tab}_token_counter", **quick)
    negative.change(counter(True), inputs=[negative, steps], outputs=tools.negative_counter,
                    api_name=f"{tab}_negative_token_counter", **quick)
    tools.apply_styles.click(apply, inputs=[tools.styles, prompt, negative], outputs=[prompt, negative, tools.styles],
                             api_name=f"{tab}_apply_styles", **quick)
    tools.refresh_styles.click(refresh, inputs=tools.styles, outputs=[tools.styles, tools.style_name],
                               api_name=f"{tab}_refresh_styles", **quick)
    tools.style_name.change(load_style, inputs=tools.style_name, outputs=[tools.style_prompt, tools.style_negative],
                            api_name=f"{tab}_load_style", **quick)
    tools.copy_prompt.click(lambda text, negative_text: (text, negative_text), inputs=[prompt, negative],
                            outputs=[tools.style_prompt, tools.style_negative], api_name=f"{tab}_copy_to_style",
                            **quick)
    tools.save_style.click(save, inputs=[tools.style_name, tools.style_prompt, tools.style_negative],
                           outputs=[tools.styles, tools.style_name, tools.style_message],
                           api_name=f"{tab}_save_style", **quick)
    tools.delete_style.click(delete, inputs=[tools.style_name, tools.styles],
                             outputs=[tools.styles, tools.style_name, tools.style_message],
                             api_name=f"{tab}_delete_style", **quick)


def _note(text: str, kind: str = "info") -> str:
    from modules.ui.progress import message_html

    return message_html(text, kind)


def style_names(app: App) -> list[str]:
    return [style.name for style in StyleStore.in_data_dir(app.settings.data_dir).load()]
