"""The img2img tab's Sketch, Inpaint sketch, Batch sub-tabs and its Resize by / 📐 controls, through the page's
own handlers (no browser) on a tiny sd1 checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from modules.generation.outputs import read_png_infotext
from modules.messages import msg
from modules.ui.blocks import build_ui
from tests.ui.test_blocks import component, handler, text_of
from tests.ui.test_img2img_tab import noise_image, run_img2img

SMALL = {"width": 64, "height": 64, "steps": 2}


def stroke_layer(size: int = 64) -> Image.Image:
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (0, 0, size // 2, size))
    return layer


def test_new_sub_tabs_and_resize_controls_exist(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    for elem_id in ("img2img_sketch", "inpaint_sketch", "img2img_batch_input_dir", "img2img_batch_output_dir",
                    "img2img_batch_inpaint_mask_dir", "img2img_tab_resize_to", "img2img_tab_resize_by",
                    "img2img_scale", "img2img_detect_image_size_btn", "img2img_subseed", "img2img_tiling"):
        component(demo, elem_id)
    assert component(demo, "img2img_scale").value == 1.0
    for mode, visible in (("sketch", False), ("inpaint_sketch", True), ("batch", True)):
        assert handler(demo, f"img2img_mode_{mode}")() == (mode, gr.update(visible=visible))


def test_sketch_and_inpaint_sketch_generate(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    original = noise_image(4).convert("RGBA")
    composite = Image.alpha_composite(original, stroke_layer())
    value = {"background": original, "layers": [stroke_layer()], "composite": composite}
    final = run_img2img(demo, prompt="a red bird", seed=2, mode="sketch", sketch=value, denoising_strength=0.3,
                        **SMALL)
    path = Path(final[component(demo, "img2img_gallery")][0])
    assert "Mask blur" not in read_png_infotext(path)
    with Image.open(path) as image:
        red = np.asarray(image.convert("RGB"), dtype=np.int16)[:, :32, 0].mean()
    assert red > np.asarray(original.convert("RGB"), dtype=np.int16)[:, :32, 0].mean(), "drawn from the sketch"

    final = run_img2img(demo, prompt="a red bird", seed=2, mode="inpaint_sketch", inpaint_sketch=value, mask_blur_x=0,
                        **SMALL)
    path = Path(final[component(demo, "img2img_gallery")][0])
    assert "Mask blur: 0" in read_png_infotext(path)
    with Image.open(path) as image:
        result = np.asarray(image.convert("RGB"), dtype=np.int16)
    source = np.asarray(original.convert("RGB"), dtype=np.int16)
    assert np.array_equal(result[:, 32:], source[:, 32:]), "outside the strokes stays exact"


def test_resize_by_and_size_from_image(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    image = noise_image(5).resize((40, 32))
    final = run_img2img(demo, prompt="x", seed=1, mode="img2img", init_image=image, resize_tab="by", scale_by=2.0,
                        **SMALL)
    with Image.open(final[component(demo, "img2img_gallery")][0]) as out:
        assert out.size == (80, 64)
    detect = handler(demo, "img2img_size_from_image")
    out: dict[Any, Any] = detect(mode="img2img", init_image=Image.new("RGB", (101, 77)))
    assert (out[component(demo, "img2img_width")], out[component(demo, "img2img_height")]) == (104, 80)
    out = detect(mode="inpaint_upload", upload_image=None)
    assert text_of(out[component(demo, "img2img_message")]) == msg("size_from_image_none")
    preview = handler(demo, "img2img_resize_preview_scale")(3.0, mode="img2img", init_image=image)
    assert text_of(preview) == msg("resize_by_size", scale=3.0, width=120, height=96)


def test_batch_sub_tab_runs_a_folder(sd1_app, tmp_path: Path) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    noise_image(1).save(inputs / "one.png")
    (inputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    final = run_img2img(demo, prompt="a fox", seed=1, mode="batch", batch_input_dir=str(inputs),
                        batch_output_dir=str(outputs), **SMALL)
    items = [Path(p) for p in final[component(demo, "img2img_gallery")]]
    assert [p.name for p in items] == ["00000-one.png"] and items[0].parent == outputs
    message = text_of(final[component(demo, "img2img_message")])
    assert "broken.png" in message and msg("batch_done", count=1, inputs=2, folder=outputs) in message
    final = run_img2img(demo, mode="batch", batch_input_dir=str(tmp_path / "nope"), batch_output_dir=str(outputs))
    assert text_of(final[component(demo, "img2img_message")]) == msg("batch_input_missing", path=tmp_path / "nope")
    # shared with --listen: the server's folders are out of reach (as installing extensions is)
    sd1_app.settings.listen = True
    try:
        final = run_img2img(demo, prompt="a fox", mode="batch", batch_input_dir=str(inputs),
                            batch_output_dir=str(outputs), **SMALL)
    finally:
        sd1_app.settings.listen = False
    assert text_of(final[component(demo, "img2img_message")]) == msg("batch_folder_not_allowed")
    assert len(list(outputs.glob("*.png"))) == 1
