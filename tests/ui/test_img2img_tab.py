"""The img2img tab's handlers called directly (no browser) on a tiny sd1 checkpoint: img2img, inpaint,
messages for missing images and masks, ↙️ paste of img2img keys, and txt2img's send-to buttons."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from modules.generation.outputs import read_png_infotext
from modules.messages import msg
from modules.ui.blocks import build_ui
from tests.ui.test_blocks import component, handler, text_of

SMALL = {"width": 64, "height": 64, "steps": 3}



def noise_image(seed: int = 0, size: int = 64) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def left_half_layer(size: int = 64) -> Image.Image:
    """A brush layer: white paint on the left half, transparent elsewhere."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    layer.paste((255, 255, 255, 255), (0, 0, size // 2, size))
    return layer


def run_img2img(demo: gr.Blocks, **fields: Any) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for update in handler(demo, "img2img")(**fields):
        merged.update(update)
    return merged


def test_img2img_tab_has_a1111_controls_and_defaults(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    for elem_id in ("tab_img2img", "img2img_prompt", "img2img_neg_prompt", "img2img_generate", "img2img_interrupt",
                    "img2img_skip", "img2img_paste", "img2img_gallery", "img2img_infotext", "img2img_message",
                    "img2img_progress", "img2img_image", "img2maskimg", "img_inpaint_base", "img_inpaint_mask",
                    "img2img_sampling", "img2img_steps", "img2img_seed", "img2img_random_seed", "img2img_reuse_seed",
                    "img2img_clip_skip", "img2img_token_counter", "img2img_styles", "img2img_extra_networks",
                    "img2img_mask_blur", "img2img_mask_mode", "img2img_inpainting_fill", "img2img_inpaint_full_res",
                    "img2img_inpaint_full_res_padding", "txt2img_send_to_img2img", "txt2img_send_to_inpaint"):
        component(demo, elem_id)
    assert component(demo, "img2img_denoising_strength").value == 0.75
    assert component(demo, "resize_mode").value == "Just resize"
    assert component(demo, "img2img_inpainting_fill").value == "original"
    assert component(demo, "img2img_inpaint_full_res").value == "Whole picture"
    assert component(demo, "img2img_inpaint_full_res_padding").value == 32
    assert component(demo, "img2img_mask_blur").value == 4
    for name in ("img2img_interrupt", "img2img_skip"):
        assert not next(f for f in demo.fns.values() if f.api_name == name).queue
    # the inpaint settings show in the inpaint sub-tabs only
    controls = component(demo, "img2img_inpaint_controls")
    assert not controls.visible
    assert handler(demo, "img2img_mode_inpaint")() == ("inpaint", gr.update(visible=True))
    assert handler(demo, "img2img_mode_img2img")() == ("img2img", gr.update(visible=False))


def test_img2img_generate_saves_to_img2img_images_with_denoising_strength(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    final = run_img2img(demo, prompt="a red fox", seed=5, denoising_strength=0.6, resize_mode="Crop and resize",
                        mode="img2img", init_image=noise_image().convert("RGBA").resize((96, 64)), **SMALL)
    folder = sd1_app.settings.outputs_dir / "img2img-images" / date.today().isoformat()
    items = [Path(p) for p in final[component(demo, "img2img_gallery")]]
    assert [p.parent for p in items] == [folder] and items[0].name == "00000-5.png"
    infotext = read_png_infotext(items[0])
    assert infotext.startswith("a red fox\n") and "Denoising strength: 0.6" in infotext
    assert "Mask blur" not in infotext, "no mask in img2img mode"
    assert final[component(demo, "img2img_infotext")] == infotext
    assert text_of(final[component(demo, "img2img_message")]) == msg("saved", count=1, folder=folder)
    with Image.open(items[0]) as image:
        assert image.size == (64, 64)
    final = run_img2img(demo, prompt="a red fox", seed=5, mode="img2img", init_image=noise_image(),
                        override_settings=["Noise Schedule: Zero Terminal SNR"], **SMALL)
    assert "Noise Schedule: Zero Terminal SNR" in final[component(demo, "img2img_infotext")]


def test_inpaint_with_a_drawn_mask_keeps_the_unmasked_pixels(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    original = noise_image(1)
    editor = {"background": original.convert("RGBA"), "layers": [left_half_layer()], "composite": None}
    final = run_img2img(demo, prompt="grass", seed=3, mask_blur_x=0, inpainting_fill="latent noise", mode="inpaint",
                        editor=editor, **SMALL)
    path = Path(final[component(demo, "img2img_gallery")][0])
    with Image.open(path) as image:
        result = np.asarray(image.convert("RGB")).astype(int)
    source = np.asarray(original).astype(int)
    assert np.array_equal(result[:, 32:], source[:, 32:]), "the unpainted right half stays exact"
    assert np.abs(result[:, :30] - source[:, :30]).mean() > 10, "the painted left half is repainted"
    infotext = read_png_infotext(path)
    assert "Mask blur: 0" in infotext and "Masked content: latent noise" in infotext

    # "Inpaint not masked" repaints the other half instead
    final = run_img2img(demo, prompt="grass", seed=3, mask_blur_x=0, inpainting_mask_invert="Inpaint not masked",
                        mode="inpaint", editor=editor, **SMALL)
    with Image.open(final[component(demo, "img2img_gallery")][0]) as image:
        result = np.asarray(image.convert("RGB")).astype(int)
    assert np.array_equal(result[:, :32], source[:, :32])
    assert np.abs(result[:, 34:] - source[:, 34:]).mean() > 10, "the unpainted right half is repainted"


def test_inpaint_upload_uses_the_uploaded_mask(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    original = noise_image(2)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 64, 24))
    final = run_img2img(demo, prompt="sky", seed=4, mask_blur_x=0, mode="inpaint_upload", upload_image=original,
                        upload_mask=mask, **SMALL)
    with Image.open(final[component(demo, "img2img_gallery")][0]) as image:
        result = np.asarray(image.convert("RGB")).astype(int)
    source = np.asarray(original).astype(int)
    assert np.array_equal(result[24:], source[24:]), "outside the uploaded mask stays exact"
    assert np.abs(result[:22] - source[:22]).mean() > 10, "inside the uploaded mask is repainted"


def test_missing_images_masks_and_bad_values_give_messages(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    message = component(demo, "img2img_message")
    image = noise_image()
    cases = [
        ({"mode": "img2img"}, msg("img2img_no_image")),
        ({"mode": "inpaint"}, msg("inpaint_no_image")),
        ({"mode": "inpaint", "editor": {"background": image, "layers": [], "composite": image}}, msg("inpaint_no_mask")),
        ({"mode": "inpaint", "editor": {"background": image, "layers": [Image.new("RGBA", (64, 64))],
                                        "composite": image}}, msg("inpaint_no_mask")),
        ({"mode": "inpaint_upload", "upload_image": image}, msg("inpaint_upload_no_mask")),
        ({"mode": "inpaint_upload", "upload_image": image, "upload_mask": Image.new("L", (64, 64))},
         msg("inpaint_mask_black")),
        ({"mode": "img2img", "init_image": image, "denoising_strength": 1.5}, msg("bad_denoising", value=1.5)),
        ({"mode": "img2img", "init_image": image, "seed": 0.5}, msg("bad_whole_number", field="Seed", value=0.5)),
        ({"mode": "img2img", "init_image": image, "resize_mode": "Stretch"},
         msg("bad_choice", field="Resize mode", value="Stretch", choices=", ".join(
             ("Just resize", "Crop and resize", "Resize and fill", "Just resize (latent upscale)")))),
    ]
    for fields, expected in cases:
        final = run_img2img(demo, prompt="x", **{**SMALL, **fields})
        assert text_of(final[message]) == expected, fields
    assert not list(sd1_app.settings.outputs_dir.glob("img2img-images/*/*.png"))


def test_paste_reads_img2img_keys_into_the_fields(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    text = ("a cat\nNegative prompt: dog\nSteps: 7, Sampler: Euler a, CFG scale: 5, Seed: 9, Size: 64x96, "
            "Denoising strength: 0.35, Mask blur: 8, Mask mode: Inpaint not masked, Inpaint area: Only masked, "
            "Masked area padding: 16, Masked content: latent nothing")
    out = handler(demo, "img2img_paste")(prompt=text, batch_count=2)
    by_id = {getattr(c, "elem_id", None): v for c, v in out.items()}
    assert (by_id["img2img_prompt"], by_id["img2img_neg_prompt"], by_id["img2img_seed"]) == ("a cat", "dog", 9)
    assert (by_id["img2img_steps"], by_id["img2img_width"], by_id["img2img_height"]) == (7, 64, 96)
    assert (by_id["img2img_denoising_strength"], by_id["img2img_mask_blur"]) == (0.35, 8)
    assert by_id["img2img_mask_mode"] == "Inpaint not masked" and by_id["img2img_inpaint_full_res"] == "Only masked"
    assert (by_id["img2img_inpaint_full_res_padding"], by_id["img2img_inpainting_fill"]) == (16, "latent nothing")
    assert by_id["img2img_batch_count"] == 2 and by_id["resize_mode"] == "Just resize"


def test_send_to_img2img_and_inpaint_carry_the_image_and_its_parameters(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    send = handler(demo, "txt2img_send_to_img2img")
    out = send({}, 0)
    assert text_of(out[component(demo, "txt2img_message")]) == msg("send_no_image")
    assert out[component(demo, "img2img_image")] == gr.skip()

    final: dict[Any, Any] = {}
    for update in handler(demo, "txt2img")(prompt="a blue boat", seed=21, batch_size=2, sampler_name="Euler",
                                           **SMALL):
        final.update(update)
    info = final[next(c for c in final if isinstance(final[c], dict) and "paths" in final[c])]
    assert len(info["paths"]) == 3  # grid, then the two images

    out = send(info, 2, denoising_strength=0.4)
    by_id = {getattr(c, "elem_id", None): v for c, v in out.items()}
    with Image.open(info["paths"][2]) as saved:
        assert np.array_equal(np.asarray(by_id["img2img_image"]), np.asarray(saved))
    assert (by_id["img2img_prompt"], by_id["img2img_seed"], by_id["img2img_steps"]) == ("a blue boat", 22, 3)
    assert (by_id["img2img_sampling"], by_id["img2img_width"]) == ("Euler", 64)
    assert by_id["img2img_denoising_strength"] == 0.4, "a field the infotext does not record keeps its value"
    assert by_id["tabs"] == gr.update(selected="img2img") and by_id["mode_img2img"] == gr.update(selected="img2img")
    assert by_id["img2maskimg"] == gr.skip()
    assert text_of(by_id["img2img_message"]) == msg("sent_to_img2img")

    out = handler(demo, "txt2img_send_to_inpaint")(info, 0)  # the grid is selected: its first image is sent
    by_id = {getattr(c, "elem_id", None): v for c, v in out.items()}
    assert by_id["img2maskimg"]["background"].size == (64, 64) and by_id["img2maskimg"]["layers"] == []
    assert by_id["mode_img2img"] == gr.update(selected="inpaint")
    assert by_id["img2img_inpaint_controls"] == gr.update(visible=True)
    assert by_id["img2img_seed"] == 21


def test_choices_binding_and_painted_mask() -> None:
    from modules.errors import InvalidParams
    from modules.generation.params import Img2ImgParams
    from modules.ui.binding import Choices, ParamBinding
    from modules.ui.img2img_inputs import painted_mask

    binding: ParamBinding[Img2ImgParams] = ParamBinding(Img2ImgParams)
    binding.bind("inpaint_full_res", gr.Radio(["Whole picture", "Only masked"], label="Inpaint area"),
                 Choices(("Whole picture", "Only masked")))
    binding.bind("inpainting_fill", gr.Radio(["a", "b", "c", "d"]), Choices(("a", "b", "c", "d")))
    params = binding.params({"inpaint_full_res": "Only masked", "inpainting_fill": "c"})
    assert params.inpaint_full_res is True and params.inpainting_fill == 2
    assert set(binding.updates(params).values()) == {"Only masked", "c"}
    with pytest.raises(InvalidParams, match="Inpaint area must be one of"):
        binding.params({"inpaint_full_res": "Everything"})

    # strokes on a layer of another size are scaled to the image; faint paint counts; nothing painted → None
    layer = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    layer.putpixel((0, 0), (255, 255, 255, 10))
    mask = painted_mask([None, layer], (64, 64))
    assert mask is not None and mask.size == (64, 64) and mask.getbbox() == (0, 0, 2, 2)
    assert painted_mask([Image.new("RGBA", (64, 64))], (64, 64)) is None


def test_img2img_progress_and_interrupt(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    progress, message = component(demo, "img2img_progress"), component(demo, "img2img_message")
    interrupt = handler(demo, "img2img_interrupt")
    seen: list[str] = []
    final: dict[Any, Any] = {}
    for update in handler(demo, "img2img")(prompt="x", seed=1, steps=150, width=64, height=64, batch_count=20,
                                           mode="img2img", init_image=noise_image()):
        final.update(update)
        if text_of(update.get(progress, "")).startswith("Step"):
            seen.append(text_of(update[progress]))
            interrupt()
    assert seen and seen[0].startswith("Step ") and "image 1/20" in seen[0]
    assert text_of(final[message]).startswith("Interrupted:")
