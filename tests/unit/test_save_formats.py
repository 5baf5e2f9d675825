"""Saving in PNG, JPEG and WebP with the infotext where A1111 puts it (read back by the app's own reader),
file names from A1111's patterns, and the output folders the options choose."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from PIL import Image

from modules.generation.filenames import NameFields, apply_pattern, file_stem, folder_parts
from modules.generation.outputs import (
    EXIF_IFD,
    EXIF_USER_COMMENT,
    FileFormat,
    read_png_infotext,
    remove_leftovers,
    save_grid,
    save_image,
)
from modules.generation.save_options import SaveOptions, base_folder
from modules.settings import Settings

TEXT = "a fox in snow, ünïcode 日本\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a, Seed: 7, Size: 64x64"
WHEN = datetime.datetime(2024, 7, 27, 12, 30, 5)
FIELDS = NameFields(seed=7, prompt="a red fox, (snow:1.2), <lora:x:1> forest at night", negative_prompt="blurry",
                    steps=20, cfg_scale=7.0, sampler="Euler a", scheduler="Karras", width=512, height=768,
                    model_name="tiny/sd1", model_hash="0123456789", when=WHEN)


def image(mode: str = "RGB") -> Image.Image:
    return Image.new(mode, (64, 64), (200, 30, 30, 128)[: len(mode)])


@pytest.mark.parametrize(("extension", "pillow"), [("png", "PNG"), ("jpg", "JPEG"), ("webp", "WEBP")])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_each_format_keeps_the_infotext_as_a1111_writes_it(tmp_path: Path, extension: str, pillow: str,
                                                          mode: str) -> None:
    path = save_image(image(mode), tmp_path, 7, TEXT, fmt=FileFormat(extension, quality=90))
    assert path.name == f"00000-7.{extension}"
    with Image.open(path) as saved:
        assert saved.format == pillow and saved.size == (64, 64)
        if pillow == "PNG":
            assert saved.text["parameters"] == TEXT
        else:  # EXIF UserComment: 'UNICODE\0' and UTF-16-BE, as piexif writes it for A1111
            raw = saved.getexif().get_ifd(EXIF_IFD)[EXIF_USER_COMMENT]
            assert raw == b"UNICODE\0" + TEXT.encode("utf-16-be")
        assert read_png_infotext(saved) == TEXT
    assert read_png_infotext(path) == TEXT
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob("*.lock"))


def test_quality_lossless_and_no_infotext(tmp_path: Path) -> None:
    noisy = Image.effect_noise((128, 128), 60).convert("RGB")
    low = save_image(noisy, tmp_path, 1, TEXT, fmt=FileFormat("jpg", quality=10))
    high = save_image(noisy, tmp_path, 1, TEXT, fmt=FileFormat("jpg", quality=95))
    assert low.stat().st_size < high.stat().st_size
    exact = save_image(noisy, tmp_path, 2, TEXT, fmt=FileFormat("webp", lossless=True))
    with Image.open(exact) as back:
        assert list(back.convert("RGB").getdata()) == list(noisy.getdata())
    for extension in ("png", "jpg", "webp"):
        bare = save_image(image(), tmp_path, 3, TEXT, fmt=FileFormat(extension, infotext=False))
        assert read_png_infotext(bare) is None


def test_grids_and_images_too_large_for_a_format_fall_back_to_png(tmp_path: Path) -> None:
    grid = save_grid(image(), tmp_path, TEXT, FileFormat("webp"))
    assert grid.name == "grid-0000.webp" and read_png_infotext(grid) == TEXT
    wide = Image.new("RGB", (16_400, 8))
    path = save_grid(wide, tmp_path, TEXT, FileFormat("webp"))
    assert path.name == "grid-0001.png" and read_png_infotext(path) == TEXT


@pytest.mark.parametrize(("pattern", "expected"), [
    ("[seed]", "7"),
    ("[seed]-[prompt_words]", "7-a red fox snow 1 2 forest at"),
    ("[model_name]-[date]-[datetime]", "tiny_sd1-2024-07-27-20240727123005"),
    ("[datetime<%Y%m%d>]-[steps]-[cfg]-[sampler]-[scheduler]", "20240727-20-7-Euler_a-Karras"),
    ("[width]x[height]-[model_hash]-[clip_skip]", "512x768-0123456789-1"),
    ("[prompt_spaces]", "a red fox, (snow_1.2), _lora_x_1_ forest at night"),
    ("x[batch_number]-[seed]", "-7"),  # batch of one: the token vanishes with the text before it
    ("[no_such_token]-[seed]", "[no_such_token]-7"),
    ("[prompt_hash<4>]", "9ab4"),
])
def test_file_name_patterns(pattern: str, expected: str) -> None:
    if pattern == "[prompt_hash<4>]":
        import hashlib

        expected = hashlib.sha256(FIELDS.prompt.encode()).hexdigest()[:4]
    assert file_stem(pattern, FIELDS, 8) == expected


def test_names_never_escape_the_folder_nor_grow_too_long() -> None:
    hostile = NameFields(seed=1, prompt="../../etc/passwd " + "x" * 600)
    assert "/" not in file_stem("[prompt]/[seed]", hostile) and len(file_stem("[prompt]" * 4, hostile)) <= 240
    assert folder_parts("[date]/../[prompt_words]", hostile, 2) == [WHEN.today().strftime("%Y-%m-%d"), "etc passwd"]
    assert apply_pattern("[batch_number]", NameFields(seed=1, batch_size=2, batch_number=1)) == "1"


def test_without_the_number_a_taken_name_gets_a_suffix(tmp_path: Path) -> None:
    names = [save_image(image(), tmp_path, 5, TEXT, stem="fox", add_number=False).name for _ in range(3)]
    assert names == ["fox.png", "fox-1.png", "fox-2.png"]
    assert save_image(image(), tmp_path, 5, TEXT, stem="").name == "00000.png"  # named files hold no number
    old = tmp_path / "fox.png.lock"
    old.touch()
    import os

    os.utime(old, (0, 0))
    assert old in remove_leftovers(tmp_path)


def test_output_folders_follow_the_options(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    default = {"outdir_samples": "", "outdir_txt2img_samples": "outputs/txt2img-images"}
    assert base_folder(settings, default, "txt2img", grids=False) == tmp_path / "outputs" / "txt2img-images"
    assert base_folder(settings, {**default, "outdir_txt2img_samples": "mine"}, "txt2img", False) == tmp_path / "mine"
    absolute = tmp_path / "abs"
    assert base_folder(settings, {**default, "outdir_samples": str(absolute)}, "txt2img", False) == absolute
    assert base_folder(settings, {}, "img2img", grids=True) == tmp_path / "outputs" / "img2img-grids"
    settings.outdir = tmp_path / "cli"  # --outdir on the command line wins
    assert base_folder(settings, {**default, "outdir_samples": "x"}, "txt2img", False) == tmp_path / "cli/txt2img-images"


def test_save_options_for_a_run(make_app, tmp_path: Path) -> None:  # noqa: ANN001
    app = make_app(load=False)
    app.options.update({"samples_format": "jpg", "samples_filename_pattern": "[seed]-[sampler]",
                        "directories_filename_pattern": "[date]/[model_name]", "save_images_add_number": False})
    save = SaveOptions.for_run(app, "txt2img", {"samples_format": "webp", "jpeg_quality": 50})
    assert save.image_format == FileFormat("webp", 50) and save.grid_format == FileFormat("png", 50)
    path = save.save_sample(image(), FIELDS, TEXT)
    assert path == app.settings.outputs_dir / "txt2img-images" / "2024-07-27" / "tiny_sd1" / "7-Euler_a.webp"
    assert read_png_infotext(path) == TEXT
    app.options.update({"save_to_dirs": False, "samples_filename_pattern": "", "save_images_add_number": True})
    path = SaveOptions.for_run(app, "txt2img").save_sample(image(), FIELDS, TEXT)
    # no sub-folder: the name is [seed]-[prompt_spaces]; the dated folder beside it counts as 2024, as in A1111
    assert path.parent == app.settings.outputs_dir / "txt2img-images"
    assert path.name == "02025-7-a red fox, (snow_1.2), _lora_x_1_ forest at night.jpg"
