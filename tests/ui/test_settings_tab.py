"""The Settings tab, built from the registered option specs and driven through its own handlers
(no browser): Apply saves or refuses as a whole, Reload reads config.json again, an extension's option
shows and is saved, and a generation follows the saved format and file name pattern."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from modules.generation.outputs import read_png_infotext
from modules.option_specs import OptionSpec
from modules.ui.blocks import build_ui
from modules.ui.settings_tab import apply_settings, elem_id, shown_options
from tests.ui.test_blocks import SMALL, component, handler, run_generate, text_of


def values_with(demo: gr.Blocks, app: Any, **changes: Any) -> list[Any]:
    """The Apply inputs in their order: every control's current value, with changes."""
    keys = [key for items in shown_options(app).values() for key, _spec in items]
    return [changes.get(key, component(demo, elem_id(key)).value) for key in keys]


def test_the_tab_has_one_control_per_option_grouped_by_section(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    demo = build_ui(app)
    tabs = [b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Tab) and b.elem_id.startswith("tab_")]
    assert tabs[:5] == ["tab_txt2img", "tab_img2img", "tab_extras", "tab_png_info", "tab_settings"]  # then extensions
    accordions = [b.label for b in demo.blocks.values() if isinstance(b, gr.Accordion)
                  and (b.elem_id or "").startswith("settings_section_")]
    assert accordions[:4] == ["Saving images/grids", "Paths for saving", "Saving to a directory", "Stable Diffusion"]
    kinds = {"samples_format": gr.Dropdown, "jpeg_quality": gr.Slider, "grid_save": gr.Checkbox,
             "samples_filename_pattern": gr.Textbox, "default_sampler": gr.Dropdown}
    for key, kind in kinds.items():
        control = component(demo, elem_id(key))
        spec = app.options.spec(key)
        assert isinstance(control, kind) and control.label == spec.label and control.info == spec.help
        assert control.value == spec.default
    assert ("Euler a", "Euler a") in component(demo, elem_id("default_sampler")).choices


def test_apply_saves_every_change_or_none(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    demo = build_ui(app)
    apply = handler(demo, "settings_apply")
    out = apply(*values_with(demo, app, jpeg_quality=0, directories_filename_pattern="../up", grid_save=False))
    text = text_of(out[0])
    assert text.startswith("Nothing was saved") and "jpeg_quality" in text and "directories_filename_pattern" in text
    assert "grid_save" not in text and app.options.get("grid_save") is True
    assert not app.options.path.exists()  # nothing written
    out = apply(*values_with(demo, app, jpeg_quality=55.0, samples_format="webp", grid_save=False))
    assert "Saved 3 changed setting(s)" in text_of(out[0])
    saved = json.loads(app.options.path.read_text(encoding="utf-8"))
    assert (saved["jpeg_quality"], saved["samples_format"], saved["grid_save"]) == (55, "webp", False)
    assert text_of(apply(*values_with(demo, app, jpeg_quality=55, samples_format="webp", grid_save=False))[0]) == \
        "Nothing changed."


def test_reload_reads_the_file_again(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    demo = build_ui(app)
    app.options.path.write_text(json.dumps({"samples_format": "jpg", "show_progress_every_n_steps": 4}),
                                encoding="utf-8")
    out = handler(demo, "settings_reload")()
    assert "Read the settings again" in text_of(out[0])
    keys = [key for items in shown_options(app).values() for key, _spec in items]
    shown = dict(zip(keys, out[1:], strict=True))
    assert shown["samples_format"] == "jpg" and shown["show_progress_every_n_steps"] == 4
    assert app.options.get("samples_format") == "jpg"


def test_an_option_registered_by_code_shows_and_is_saved(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    app.registry.options.register("my_ext_strength", OptionSpec(0.5, float, minimum=0, maximum=1, label="Strength",
                                                                section="My extension", help="How strong it acts"),
                                  source="my-ext")
    demo = build_ui(app)
    control = component(demo, "setting_my_ext_strength")
    assert isinstance(control, gr.Slider) and control.label == "Strength" and control.value == 0.5
    assert "My extension" in shown_options(app)
    out = handler(demo, "settings_apply")(*values_with(demo, app, my_ext_strength=0.75))
    assert "Saved 1 changed" in text_of(out[0])
    assert json.loads(app.options.path.read_text(encoding="utf-8"))["my_ext_strength"] == 0.75
    assert apply_settings(app, {"my_ext_strength": 3.0})[0] is False


def test_path_options_are_read_only_on_a_shared_server(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    app.settings.listen = True
    demo = build_ui(app)
    assert component(demo, elem_id("outdir_samples")).interactive is False
    assert component(demo, elem_id("jpeg_quality")).interactive is not False
    saved, text = apply_settings(app, {"outdir_samples": "/tmp/elsewhere"})
    assert not saved and "--enable-insecure-extension-access" in text


def test_a_generation_follows_the_saved_format_and_pattern(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    assert apply_settings(sd1_app, {"samples_format": "jpg", "samples_filename_pattern": "[seed]-[steps]-[sampler]",
                                    "save_to_dirs": False, "grid_format": "webp"})[0]
    final, _ = run_generate(demo, prompt="a tiny red fox", seed=21, batch_size=2, sampler_name="Euler a", **SMALL)
    items = [p for p in final[component(demo, "txt2img_gallery")]]
    outputs = sd1_app.settings.outputs_dir
    names = sorted(p.name for p in (outputs / "txt2img-images").iterdir())
    assert names == ["00000-21-2-Euler_a.jpg", "00001-22-2-Euler_a.jpg"]
    assert read_png_infotext(outputs / "txt2img-images" / names[1]).startswith("a tiny red fox\n")
    assert "Seed: 22," in read_png_infotext(outputs / "txt2img-images" / names[1])
    grids = list((outputs / "txt2img-grids").rglob("grid-*"))
    assert [g.suffix for g in grids] == [".webp"] and "Seed: 21," in read_png_infotext(grids[0])
    assert len(items) == 3
