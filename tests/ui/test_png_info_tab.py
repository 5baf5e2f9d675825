"""The PNG Info tab's handlers called directly (no browser): reading a dropped file, sending its parameters
to txt2img / img2img / inpaint (the checkpoint it names becoming that tab's override) and its image to extras."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from PIL import Image

from modules.generation.outputs import FileFormat, read_png_infotext, write_image
from modules.messages import msg
from modules.ui.blocks import build_ui
from modules.ui.paste import checkpoint_label
from tests.ui.test_blocks import component, handler, run_generate, text_of

INFOTEXT = ("a tiny red fox\nNegative prompt: blurry\nSteps: 3, Sampler: Euler, Schedule type: Karras, CFG scale: 6.5, "
            "Seed: 12, Size: 64x64, Denoising strength: 0.35, Mask blur: 2, Clip skip: 2")


def dropped(tmp_path: Path, infotext: str, extension: str = "webp") -> str:
    path = tmp_path / f"dropped.{extension}"
    with open(path, "wb") as handle:
        write_image(Image.new("RGB", (64, 64), (10, 200, 40)), handle, infotext, FileFormat(extension=extension))
    return str(path)


def test_png_info_tab_reads_a_dropped_file(sd1_app, tmp_path: Path) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    ids = [b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None)]
    assert ids.index("tab_img2img") < ids.index("tab_png_info")
    for elem_id in ("pnginfo_image", "pnginfo_html", "pnginfo_generation_info", "pnginfo_send_txt2img",
                    "pnginfo_send_img2img", "pnginfo_send_inpaint", "pnginfo_send_extras"):
        component(demo, elem_id)
    table, raw, message = handler(demo, "png_info_read")(dropped(tmp_path, INFOTEXT))
    assert raw == INFOTEXT and message == "" and "Denoising strength" in text_of(table)


def test_send_to_txt2img_img2img_and_inpaint(sd1_app, tmp_path: Path) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    path = dropped(tmp_path, INFOTEXT)
    out = handler(demo, "png_info_send_to_txt2img")(INFOTEXT, path, prompt="old", steps=20, batch_count=3)
    assert out[component(demo, "txt2img_prompt")] == "a tiny red fox"
    assert out[component(demo, "txt2img_neg_prompt")] == "blurry"
    assert out[component(demo, "txt2img_steps")] == 3 and out[component(demo, "txt2img_cfg_scale")] == 6.5
    assert out[component(demo, "txt2img_seed")] == 12 and out[component(demo, "txt2img_clip_skip")] == 2
    assert out[component(demo, "txt2img_scheduler")] == "Karras"
    assert out[component(demo, "txt2img_batch_count")] == 3, "not recorded: kept"
    tabs = component(demo, "tabs")
    assert out[tabs] == gr.update(selected="txt2img")
    assert text_of(out[component(demo, "txt2img_message")]) == msg("png_info_sent", tab="txt2img")

    out = handler(demo, "png_info_send_to_img2img")(INFOTEXT, path)
    assert out[component(demo, "img2img_denoising_strength")] == 0.35
    assert out[component(demo, "img2img_mask_blur")] == 2
    assert isinstance(out[component(demo, "img2img_image")], Image.Image)
    assert out[component(demo, "mode_img2img")] == gr.update(selected="img2img")
    assert out[tabs] == gr.update(selected="img2img")

    out = handler(demo, "png_info_send_to_inpaint")(INFOTEXT, path)
    editor = out[component(demo, "img2maskimg")]
    assert editor["background"].size == (64, 64) and editor["layers"] == []
    assert out[component(demo, "mode_img2img")] == gr.update(selected="inpaint")
    assert out[component(demo, "img2img_inpaint_controls")] == gr.update(visible=True)

    out = handler(demo, "png_info_send_to_txt2img")("", None)
    assert text_of(out[component(demo, "pnginfo_message")]) == msg("png_info_no_params")
    assert out[component(demo, "txt2img_prompt")] == gr.skip()


def test_send_to_extras_carries_the_image(sd1_app, tmp_path: Path) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    ids = [b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None)]
    assert ids.index("tab_extras") < ids.index("tab_png_info")  # A1111's order
    send = handler(demo, "png_info_send_to_extras")
    out = send(dropped(tmp_path, INFOTEXT, "png"))
    image = out[component(demo, "extras_image")]
    assert isinstance(image, Image.Image) and image.size == (64, 64)
    assert out[component(demo, "mode_extras")] == gr.update(selected="single")
    assert out[component(demo, "tabs")] == gr.update(selected="extras")
    assert text_of(out[component(demo, "extras_message")]) == msg("png_info_sent_extras")
    out = send(None)
    assert out[component(demo, "extras_image")] == gr.skip()
    assert text_of(out[component(demo, "pnginfo_message")]) == msg("png_info_empty")


def test_the_checkpoint_it_names_becomes_the_tabs_override(make_app, tmp_path: Path) -> None:  # noqa: ANN001
    from tests.tiny_models import write_tiny_checkpoint

    app = make_app(("sd1",))
    write_tiny_checkpoint(app.settings.checkpoint_dir, "sd1", name="other-sd1", seed=5)
    app.refresh_models()
    other = app.folders.find_checkpoint("other-sd1")
    loaded = app.models.current_info
    demo = build_ui(app)
    text = f"{INFOTEXT}, Model hash: {other.shorthash}, Model: other-sd1"
    out = handler(demo, "png_info_send_to_txt2img")(text, None)
    overrides = component(demo, "txt2img_override_settings")
    assert out[overrides]["value"] == [checkpoint_label(other.title)]
    assert other.title in text_of(out[component(demo, "txt2img_message")])

    # generating with that override draws with the other checkpoint and puts the loaded one back
    final, _ = run_generate(demo, prompt="a fox", steps=2, width=64, height=64, seed=1,
                            override_settings=out[overrides]["value"])
    infotext = read_png_infotext(final[component(demo, "txt2img_gallery")][0])
    assert f"Model hash: {other.shorthash}" in infotext and "Model: other-sd1" in infotext
    assert app.models.current_info == loaded

    # its own checkpoint (already loaded) needs no override; an unknown one is a note
    same = f"{INFOTEXT}, Model hash: {loaded.shorthash}"
    assert handler(demo, "png_info_send_to_txt2img")(same, None)[overrides]["value"] == []
    out = handler(demo, "png_info_send_to_txt2img")(f"{INFOTEXT}, Model hash: deadbeef00, Model: gone", None)
    assert out[overrides]["value"] == []
    assert msg("png_info_checkpoint_missing", name="gone") in text_of(out[component(demo, "txt2img_message")])
