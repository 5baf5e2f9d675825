"""The Settings tab: one control per registered option spec (app.registry.options), grouped by section.

Apply checks every changed value first; when any is refused, each is shown with its message and
nothing is saved; otherwise the changes are saved to config.json at once. Reload reads config.json
again (for edits made by hand while the app runs). Options an extension registered show up here the
same way, in their own section. Folder and file-name options cannot be changed on a shared server
(--listen without --enable-insecure-extension-access): they are shown read-only.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.messages import msg
from modules.option_specs import OptionSpec, locked_changes, options_by_section
from modules.registry import CORE, TabSpec
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.registry import Registry

SETTINGS_ORDER = 100
SHOWN_KINDS = (bool, int, float, str)  # other kinds (lists, ...) are kept in config.json but not shown here


def elem_id(key: str) -> str:
    return "setting_" + re.sub(r"\W", "_", key)


def shown_options(app: App) -> dict[str, list[tuple[str, OptionSpec]]]:
    """{section: [(key, spec)]} of the options the tab has controls for."""
    grouped = {section: [(k, s) for k, s in items if s.kind in SHOWN_KINDS]
               for section, items in options_by_section(app.registry.options).items()}
    return {section: items for section, items in grouped.items() if items}


def _changed(app: App, values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in values.items():
        spec = app.options.spec(key)
        if spec is not None and spec.kind is str and value is None:
            value = ""
        if value != app.options.get(key):
            changed[key] = value
    return changed


def apply_settings(app: App, values: dict[str, Any]) -> tuple[bool, str]:
    """Check every changed value of values ({key: value}); save them all, or none when one is refused.
    Returns (saved, the message for the tab)."""
    changed = _changed(app, values)
    if not changed:
        return True, msg("settings_unchanged")
    problems = app.options.problems(changed)
    locked = locked_changes(app, changed)
    if locked:
        problems.update({key: msg("option_locked", keys=key) for key in locked})
    if problems:
        lines = [f"{(app.options.spec(k) or OptionSpec(None, str)).label or k} ({k}): {text}"
                 for k, text in problems.items()]
        return False, msg("settings_refused") + "\n" + "\n".join(lines)
    app.options.update(changed)
    return True, msg("settings_saved", count=len(changed), file=app.options.path or "memory")


def _message(saved: bool, text: str) -> str:
    first, _sep, rest = text.partition("\n")
    if not rest:
        return message_html(text, "info" if saved else "error")
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rest.split("\n"))
    return message_html(first, "error").replace("</div>", f"<ul>{items}</ul></div>", 1)


def _control(app: App, key: str, spec: OptionSpec) -> Any:
    import gradio as gr

    value = app.options.get(key)
    common: dict[str, Any] = {"label": spec.label or key, "info": spec.help or None, "elem_id": elem_id(key),
                              "interactive": not (spec.restricted and not app.settings.extensions_allowed)}
    if spec.kind is bool:
        return gr.Checkbox(value=bool(value), **common)
    choices = list(spec.choices) or (list(spec.choices_from(app)) if spec.choices_from is not None else [])
    if choices:
        if value not in choices:
            choices.append(value)
        return gr.Dropdown(choices=choices, value=value, **common)
    if spec.kind in (int, float) and spec.minimum is not None and spec.maximum is not None:
        step = spec.step or (1 if spec.kind is int else 0.01)
        return gr.Slider(minimum=spec.minimum, maximum=spec.maximum, step=step, value=value, **common)
    if spec.kind in (int, float):
        return gr.Number(value=value, precision=0 if spec.kind is int else None, **common)
    return gr.Textbox(value=str(value), lines=1, **common)


@dataclass
class SettingsTab:
    keys: list[str]  # the option of each control, in the order of controls
    controls: list[Any]
    apply: Any
    reload: Any
    message: Any


def build_settings_tab(app: App) -> SettingsTab:
    """Inside `with gr.Tab(...)`: Apply / Reload, the message line, then one accordion per section."""
    import gradio as gr

    with gr.Row():
        apply = gr.Button(msg("settings_apply"), variant="primary", elem_id="settings_apply")
        reload = gr.Button(msg("settings_reload"), elem_id="settings_reload")
    message = gr.HTML("", elem_id="settings_message", padding=False)
    keys: list[str] = []
    controls: list[Any] = []
    for section, items in shown_options(app).items():
        with gr.Accordion(section, open=True, elem_id="settings_section_" + re.sub(r"\W", "_", section.lower())):
            for key, spec in items:
                keys.append(key)
                controls.append(_control(app, key, spec))

    def current() -> list[Any]:
        return [app.options.get(key) for key in keys]

    def on_apply(*values: Any) -> list[Any]:
        saved, text = apply_settings(app, dict(zip(keys, values, strict=True)))
        # refused: the controls keep what was typed, so it can be corrected
        return [_message(saved, text), *(current() if saved else values)]

    def on_reload() -> list[Any]:
        app.options.reload()
        text = app.options.notice or msg("settings_reloaded", file=app.options.path or "memory")
        return [message_html(text, "warning" if app.options.notice else "info"), *current()]

    apply.click(on_apply, inputs=controls, outputs=[message, *controls], api_name="settings_apply", queue=False)
    reload.click(on_reload, inputs=[], outputs=[message, *controls], api_name="settings_reload", queue=False)
    return SettingsTab(keys, controls, apply, reload, message)


def register_settings_tab(registry: Registry) -> None:
    """The Settings tab after txt2img and img2img (order 100), before what extensions add."""
    label = msg("settings_tab")
    registry.tabs.register("settings", TabSpec("settings", label, build_settings_tab), source=CORE,
                           order=SETTINGS_ORDER)
