"""img2img Batch: a folder in, a folder out, masks matched by file name, bad files listed and skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modules.errors import UserError
from modules.generation.img2img_batch import BatchFolders, image_files, mask_for, submit_batch
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Img2ImgParams
from modules.generation.request import GenerationRequest
from modules.messages import msg


def noise_image(width: int, height: int, seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def left_half_mask(width: int, height: int) -> Image.Image:
    mask = Image.new("L", (width, height))
    mask.paste(255, (0, 0, width // 2, height))
    return mask


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    inputs, masks, outputs = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    inputs.mkdir()
    masks.mkdir()
    noise_image(64, 64, 1).save(inputs / "a.png")
    noise_image(96, 64, 2).save(inputs / "b.jpg")
    (inputs / "c.png").write_text("not an image")  # bad file: listed and skipped
    noise_image(64, 64, 3).save(inputs / "d.png")  # no mask for it: listed and skipped
    (inputs / "notes.txt").write_text("ignored: not an image name")
    left_half_mask(64, 64).save(masks / "a.png")
    left_half_mask(96, 64).save(masks / "b.png")  # matched by name, another extension
    return inputs, masks, outputs


def request_for(params: Img2ImgParams) -> GenerationRequest:
    from dataclasses import fields

    return GenerationRequest(kind="img2img", params=params, explicit=frozenset(f.name for f in fields(params)))


def test_batch_with_masks_saves_each_result_and_lists_skipped_files(sd1_app, folders) -> None:  # noqa: ANN001
    inputs, masks, outputs = folders
    params = Img2ImgParams(prompt="a fox", width=64, height=64, steps=2, seed=9, denoising_strength=0.5,
                           mask_blur_x=2, mask_blur_y=2)
    checked = BatchFolders.checked(str(inputs), str(outputs), str(masks))
    outcome = submit_batch(sd1_app, request_for(params), checked).result()
    result = outcome.result
    assert [p.name for p in result.paths] == ["00000-a.png", "00001-b.png"]
    assert result.images == []  # on disk: a large folder is never held in memory
    assert sorted(p.name for p in outputs.iterdir()) == ["00000-a.png", "00001-b.png"]
    for path in result.paths:
        text = read_png_infotext(path)
        assert text.startswith("a fox\n") and "Mask blur: 2" in text and "Denoising strength: 0.5" in text
        with Image.open(path) as image:
            assert image.size == (64, 64)
    assert "c.png" in result.message and "d.png" in result.message and msg("batch_no_mask") in result.message
    assert msg("batch_done", count=2, inputs=4, folder=outputs) in result.message
    assert result.warnings == [msg("batch_skipped_count", count=2)]
    # the unmasked right half keeps the input's pixels (the mask came from the mask folder)
    with Image.open(result.paths[0]) as out:
        right = np.asarray(out.convert("RGB"), dtype=np.int16)[:, 48:]
    assert np.abs(right - np.asarray(noise_image(64, 64, 1), dtype=np.int16)[:, 48:]).max() <= 2


def test_batch_without_masks_and_resize_by(sd1_app, folders) -> None:  # noqa: ANN001
    inputs, _masks, outputs = folders
    params = Img2ImgParams(prompt="a fox", width=64, height=64, steps=2, seed=3, denoising_strength=0.3)
    outcome = submit_batch(sd1_app, request_for(params), BatchFolders.checked(inputs, outputs), scale_by=1.0).result()
    sizes = {}
    for path in outcome.result.paths:
        with Image.open(path) as image:
            sizes[path.name.split("-", 1)[1]] = image.size
        assert "Mask blur" not in read_png_infotext(path)
    assert sizes == {"a.png": (64, 64), "b.png": (96, 64), "d.png": (64, 64)}  # each its own size times 1
    assert "c.png" in outcome.result.message and "d.png" not in outcome.result.message


def test_folders_are_checked_before_anything_runs(tmp_path: Path, folders) -> None:  # noqa: ANN001
    inputs, masks, outputs = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (("", outputs, None), msg("batch_no_input_dir")),
        ((tmp_path / "nowhere", outputs, None), msg("batch_input_missing", path=tmp_path / "nowhere")),
        ((inputs, " ", None), msg("batch_no_output_dir")),
        ((inputs, inputs / "a.png", None), msg("batch_output_not_dir", path=inputs / "a.png")),
        ((inputs, outputs, tmp_path / "nomasks"), msg("batch_mask_dir_missing", path=tmp_path / "nomasks")),
        ((empty, outputs, None), msg("batch_empty", path=empty)),
    ]
    for args, message in cases:
        with pytest.raises(UserError) as caught:
            BatchFolders.checked(*args)
        assert str(caught.value) == message
    assert BatchFolders.checked(inputs, outputs, "  ").mask_dir is None


def test_files_and_masks_are_matched_by_name(folders) -> None:  # noqa: ANN001
    inputs, masks, _outputs = folders
    assert [p.name for p in image_files(inputs)] == ["a.png", "b.jpg", "c.png", "d.png"]
    assert mask_for(inputs / "a.png", masks) == masks / "a.png"
    assert mask_for(inputs / "b.jpg", masks) == masks / "b.png"
    assert mask_for(inputs / "d.png", masks) is None


def test_a_batch_on_its_own_checkpoint_puts_the_selected_one_back(make_app, folders) -> None:  # noqa: ANN001
    from dataclasses import replace

    from tests.tiny_models import write_tiny_checkpoint

    inputs, _masks, outputs = folders
    app = make_app(("sd1",))
    write_tiny_checkpoint(app.settings.checkpoint_dir, "sd1", name="other-sd1", seed=5)
    app.refresh_models()
    other, selected = app.folders.find_checkpoint("other-sd1"), app.models.current_info
    params = Img2ImgParams(prompt="a fox", width=64, height=64, steps=1, seed=3, denoising_strength=0.3)
    request = replace(request_for(params), checkpoint=other.title)
    outcome = submit_batch(app, request, BatchFolders.checked(inputs, outputs)).result()
    assert len(outcome.result.paths) == 3
    assert all(f"Model hash: {other.shorthash}" in read_png_infotext(p) for p in outcome.result.paths)
    assert app.models.current_info == selected
