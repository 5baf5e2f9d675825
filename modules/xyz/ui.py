"""The X/Y/Z plot's controls in a generation tab (A1111's layout), built by the script's build_controls hook.

Per axis: a type dropdown, a values text box and, for a choice axis (Sampler, Checkpoint name, ...), a
multi-select of its choices with a 📒 button that fills in all of them (the text box shows instead with
"Use text inputs instead of dropdowns"). Then the options and the three swap buttons. The controls come
back in the script's argument order (plot.ARGS), so the tab sends them as any script's arguments.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from modules.xyz.plan import list_to_csv

if TYPE_CHECKING:
    from modules.app import App
    from modules.xyz.axes import AxisSpec

AXES = (("X", "Seed"), ("Y", "Nothing"), ("Z", "Nothing"))
DROPDOWNS = (2, 5, 8)


def split_csv(text: str) -> list[str]:
    """A CSV line's values, stripped, empty ones dropped (the dropdown's list from X Values text)."""
    rows = list(csv.reader([str(text or "")], skipinitialspace=True))
    return [value.strip() for value in (rows[0] if rows else []) if value.strip()]


def control_values(args: list[Any]) -> list[Any]:
    """The controls' values showing args: the dropdowns take lists."""
    values = list(args)
    for position in DROPDOWNS:
        if position < len(values):
            values[position] = split_csv(values[position]) if isinstance(values[position], str) \
                else list(values[position] or [])
    return values


def _choices(app: App, axis: AxisSpec | None) -> list[str] | None:
    if axis is None or axis.choices is None:
        return None
    try:
        return list(axis.choices(app))
    except Exception:  # noqa: BLE001 - an extension's list that fails leaves the text box
        return None


def build_xyz_controls(app: App, tab: str, elem_id: str) -> list[Any]:
    """The controls (inside the script's group), in plot.ARGS order, with their events wired."""
    import gradio as gr

    from modules.xyz.axes import axes_for

    axes = {axis.label: axis for axis in axes_for(app, tab)}
    labels = list(axes)
    rows: list[tuple[Any, Any, Any, Any]] = []
    for name, default in AXES:
        key = name.lower()
        with gr.Row(equal_height=True):
            kind = gr.Dropdown(labels, value=default if default in axes else labels[0], label=f"{name} type",
                               elem_id=f"{elem_id}_{key}_type", scale=2)
            choices = _choices(app, axes.get(default))
            text = gr.Textbox(label=f"{name} values", lines=1, elem_id=f"{elem_id}_{key}_values", scale=4,
                              visible=choices is None)
            dropdown = gr.Dropdown(choices or [], value=[], multiselect=True, label=f"{name} values",
                                   elem_id=f"{elem_id}_{key}_values_dropdown", scale=4, visible=choices is not None)
            fill = gr.Button("📒", elem_id=f"{elem_id}_{key}_fill", elem_classes=["sd-tool-button"], scale=0,
                             min_width=40, visible=choices is not None)
        rows.append((kind, text, dropdown, fill))
    with gr.Row():
        legend = gr.Checkbox(label="Draw legend", value=True, elem_id=f"{elem_id}_draw_legend")
        keep = gr.Checkbox(label="Keep -1 for seeds", value=False, elem_id=f"{elem_id}_no_fixed_seeds")
        vary = [gr.Checkbox(label=f"Vary seeds for {name}", value=False, elem_id=f"{elem_id}_vary_seeds_{name.lower()}")
                for name, _ in AXES]
    with gr.Row():
        sub_images = gr.Checkbox(label="Include Sub Images", value=False, elem_id=f"{elem_id}_include_lone_images",
                                 info="the cells are always listed after the grid here")
        sub_grids = gr.Checkbox(label="Include Sub Grids", value=False, elem_id=f"{elem_id}_include_sub_grids")
        csv_mode = gr.Checkbox(label="Use text inputs instead of dropdowns", value=False,
                               elem_id=f"{elem_id}_csv_mode")
    margin = gr.Slider(0, 500, value=0, step=2, label="Grid margins (px)", elem_id=f"{elem_id}_margin_size")
    with gr.Row():
        swaps = {pair: gr.Button(f"Swap {pair[0]}/{pair[1]} axes", size="sm", elem_id=f"{elem_id}_swap_{pair.lower()}")
                 for pair in ("XY", "YZ", "XZ")}
    _wire(app, elem_id, axes, rows, csv_mode, swaps)
    controls: list[Any] = []
    for kind, text, dropdown, _fill in rows:
        controls += [kind, text, dropdown]
    return [*controls, legend, sub_images, sub_grids, keep, *vary, margin, csv_mode]


def _wire(app: App, elem_id: str, axes: dict[str, AxisSpec], rows: list[tuple[Any, Any, Any, Any]], csv_mode: Any,
          swaps: dict[str, Any]) -> None:
    import gradio as gr

    quick = {"api_visibility": "private", "show_progress": "hidden", "queue": False}

    def shown(label: str, text_mode: bool, text: str, picked: list[str] | None) -> tuple[Any, Any, Any]:
        """The text box, dropdown and 📒 of an axis of type label: the dropdown (its choices, the values that
        are among them) for a choice axis, else the text box."""
        choices = _choices(app, axes.get(label))
        dropdown = choices is not None and not text_mode
        if choices is not None:
            wanted = [v for v in (picked or split_csv(text)) if v in choices]
            menu = gr.update(choices=choices, value=wanted, visible=dropdown)
        else:
            menu = gr.update(choices=[], value=[], visible=False)
        return gr.update(visible=not dropdown), menu, gr.update(visible=choices is not None)

    for i, (kind, text, dropdown, fill) in enumerate(rows):
        def on_type(label: str, text_mode: bool, text_value: str, picked: list[str]) -> tuple[Any, Any, Any]:
            return shown(label, text_mode, text_value, picked)

        kind.change(on_type, inputs=[kind, csv_mode, text, dropdown], outputs=[text, dropdown, fill],
                    api_name=f"{elem_id}_type_{i}", **quick)

        def fill_all(label: str, text_mode: bool) -> tuple[Any, Any]:
            choices = _choices(app, axes.get(label)) or []
            if text_mode:
                return gr.update(value=list_to_csv(choices)), gr.skip()
            return gr.skip(), gr.update(value=choices)

        fill.click(fill_all, inputs=[kind, csv_mode], outputs=[text, dropdown], api_name=f"{elem_id}_fill_{i}", **quick)

    def on_mode(text_mode: bool, *values: Any) -> list[Any]:
        updates: list[Any] = []
        for j in range(len(rows)):
            label, text_value, picked = values[3 * j: 3 * j + 3]
            if text_mode and picked:  # the dropdown's values go on in the text box
                text_value = list_to_csv(picked)
            box, menu, fill_button = shown(label, text_mode, text_value, None if text_mode else picked)
            if text_mode and picked:
                box = gr.update(visible=True, value=text_value)
            updates += [box, menu, fill_button]
        return updates

    every = [c for kind, text, dropdown, _ in rows for c in (kind, text, dropdown)]
    csv_mode.change(on_mode, inputs=[csv_mode, *every],
                    outputs=[c for _, text, dropdown, fill in rows for c in (text, dropdown, fill)],
                    api_name=f"{elem_id}_csv_mode", **quick)

    index = {"X": 0, "Y": 1, "Z": 2}
    for pair, button in swaps.items():
        a, b = rows[index[pair[0]]], rows[index[pair[1]]]
        trio_a, trio_b = list(a[:3]), list(b[:3])

        def swap(*values: Any) -> list[Any]:
            return [*values[3:], *values[:3]]

        button.click(swap, inputs=[*trio_a, *trio_b], outputs=[*trio_a, *trio_b], api_name=f"{elem_id}_swap_{pair.lower()}",
                     **quick)
