"""The Script dropdown of a generation tab and the scripts' controls, built from their args specs.

    controls = build_script_controls(app, "txt2img")   # under the parameters, inside the settings column
    button.click(generate, inputs_kwargs={..., **controls.inputs()})
    name, args, alwayson = controls.take(fields)       # pops the scripts' values out of the handler's fields

The dropdown lists None and the tab's selectable scripts (app.registry.scripts, extensions' included);
choosing one shows its controls (one group per script, hidden otherwise): one per ScriptArg, or the
script's own (Script.build_controls, in args order: X/Y/Z plot's axis rows). Each always-on script has an
accordion with its controls. The values go to the request as the API's script_name/script_args/
alwayson_scripts do (modules/scripts/select.py checks them the same way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.scripts.select import NONE, scripts_for

if TYPE_CHECKING:
    from modules.app import App
    from modules.scripts.base import Script, ScriptArg

SCRIPT = "script_name"


@dataclass
class ScriptControls:
    dropdown: Any
    groups: dict[str, Any] = field(default_factory=dict)  # selectable title -> its gr.Column (hidden unless chosen)
    selectable: dict[str, dict[str, Any]] = field(default_factory=dict)  # title -> {input key: component}
    alwayson: dict[str, dict[str, Any]] = field(default_factory=dict)  # title -> {input key: component}
    scripts: dict[str, Script] = field(default_factory=dict)  # selectable title -> its Script

    def paste_outputs(self) -> list[Any]:
        """The components a paste may set: the dropdown, then every selectable script's controls."""
        return [self.dropdown, *(c for controls in self.selectable.values() for c in controls.values())]

    def paste_updates(self, title: str | None, args: list[Any] | None) -> dict[Any, Any]:
        """{component: value} selecting title with args in its controls (from an infotext), {} for None; the
        other scripts' groups hide as the dropdown's change event does."""
        if title is None or title not in self.selectable:
            return {}
        values = self.scripts[title].control_values(list(args or []))
        updates: dict[Any, Any] = {self.dropdown: title}
        for component, value in zip(self.selectable[title].values(), values, strict=False):
            updates[component] = value
        return updates

    def inputs(self) -> dict[str, Any]:
        """For an event's inputs_kwargs: the dropdown and every script control, by unique key."""
        keyed = {SCRIPT: self.dropdown}
        for controls in (*self.selectable.values(), *self.alwayson.values()):
            keyed.update(controls)
        return keyed

    def take(self, fields: dict[str, Any]) -> tuple[str | None, list[Any], dict[str, dict[str, list[Any]]]]:
        """(selected script or None, its args, {always-on title: {"args": [...]}}), popped out of fields."""
        name = fields.pop(SCRIPT, None)
        values = {title: [fields.pop(key, None) for key in keys] for title, keys in self.selectable.items()}
        alwayson = {title: {"args": [fields.pop(key, None) for key in keys]} for title, keys in self.alwayson.items()}
        chosen = name if name in values else None
        return chosen, values.get(chosen or "", []), alwayson


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "script"


def build_control(arg: ScriptArg, elem_id: str) -> Any:
    """One Gradio control for a script argument."""
    common: dict[str, Any] = {"label": arg.label, "value": arg.default, "elem_id": elem_id}
    if arg.info:
        common["info"] = arg.info
    if arg.kind == "bool":
        return gr.Checkbox(**common)
    if arg.kind in ("int", "float"):
        if arg.minimum is not None and arg.maximum is not None:
            step = arg.step or (1 if arg.kind == "int" else 0.01)
            return gr.Slider(arg.minimum, arg.maximum, step=step, **common)
        return gr.Number(precision=0 if arg.kind == "int" else None, minimum=arg.minimum, maximum=arg.maximum,
                         **common)
    if arg.kind == "choice":
        if len(arg.choices) <= 4:
            return gr.Radio(list(arg.choices), **common)
        return gr.Dropdown(list(arg.choices), **common)
    return gr.Textbox(lines=arg.lines, max_lines=max(arg.lines, 20), **common)


def build_script_controls(app: App, tab: str) -> ScriptControls:
    selectable = scripts_for(app, tab, alwayson=False)
    slugs: dict[str, str] = {}
    for title, _ in [*selectable, *scripts_for(app, tab, alwayson=True)]:
        slug = _slug(title)
        slugs[title] = slug if slug not in slugs.values() else f"{slug}_{len(slugs)}"
    dropdown = gr.Dropdown([NONE, *(title for title, _ in selectable)], value=NONE, label="Script",
                           elem_id=f"{tab}_script")
    controls = ScriptControls(dropdown)
    for title, script in selectable:
        slug = slugs[title]
        with gr.Column(visible=False, elem_id=f"{tab}_script_{slug}") as group:
            own = script.build_controls(app, tab, f"{tab}_script_{slug}")  # a script's own layout, args order
            if own is not None and len(own) != len(script.args):
                raise ValueError(f"the script {title} built {len(own)} controls for {len(script.args)} arguments")
            built = own if own is not None else [build_control(arg, f"{tab}_script_{slug}_{i}")
                                                 for i, arg in enumerate(script.args)]
            controls.selectable[title] = {f"script__{slug}__{i}": control for i, control in enumerate(built)}
        controls.scripts[title] = script
        controls.groups[title] = group
    for title, script in scripts_for(app, tab, alwayson=True):
        slug = slugs[title]
        with gr.Accordion(title, open=False, elem_id=f"{tab}_alwayson_{slug}"):
            controls.alwayson[title] = {f"alwayson__{slug}__{i}": build_control(arg, f"{tab}_alwayson_{slug}_{i}")
                                        for i, arg in enumerate(script.args)}
    titles = list(controls.groups)

    def show(name: str | None) -> Any:
        updates = [gr.update(visible=title == name) for title in titles]
        return updates if len(updates) > 1 else updates[0]  # Gradio takes one output's value as is

    if titles:
        dropdown.change(show, inputs=dropdown, outputs=list(controls.groups.values()), api_name=f"{tab}_script_show",
                        api_visibility="private", show_progress="hidden", queue=False)
    return controls
