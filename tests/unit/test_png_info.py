"""PNG Info's reading: the infotext of PNG, JPEG and WebP files (as this app writes them and as A1111 does),
its table, the other text items, and what a file without parameters or a file that is no image says."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.generation.outputs import FileFormat, write_image
from modules.image_input import image_info
from modules.messages import msg
from modules.ui.png_info_tab import info_html, parameter_rows, read_dropped

INFOTEXT = ('a red fox, "quoted", 日本語\nNegative prompt: blurry\n'
            "Steps: 3, Sampler: Euler a, Schedule type: Karras, CFG scale: 6.5, Seed: 7, Size: 64x48, "
            "Model hash: 0123456789, Model: tiny-sd1, Denoising strength: 0.4, Hires upscaler: Latent, "
            'Lora hashes: "fox: abcdef123456", Noise Schedule: Zero Terminal SNR, Version: sdwebui 0.1.0')


def text_of(value: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


def write(tmp_path: Path, extension: str, infotext: str | None) -> Path:
    path = tmp_path / f"image.{extension}"
    with open(path, "wb") as handle:
        write_image(Image.new("RGB", (64, 48), (200, 30, 30)), handle, infotext, FileFormat(extension=extension))
    return path


@pytest.mark.parametrize("extension", ["png", "jpg", "webp"])
def test_infotext_is_read_from_png_jpeg_and_webp(tmp_path: Path, extension: str) -> None:
    table, raw, message = read_dropped(str(write(tmp_path, extension, INFOTEXT)))
    assert raw == INFOTEXT and message == ""
    shown = text_of(table)
    for expected in ("Prompt", 'a red fox, "quoted", 日本語', "Negative prompt", "blurry", "Steps", "3",
                     "Sampler", "Euler a", "Size", "64x48", "Model hash", "0123456789", "Denoising strength", "0.4",
                     "Hires upscaler", "Lora hashes", "fox: abcdef123456", "Noise Schedule", "Zero Terminal SNR"):
        assert expected in shown, expected


def test_rows_keep_the_infotext_order_and_show_sizes_once() -> None:
    info = image_info(_png_with({"parameters": INFOTEXT}))
    keys = [key for key, _ in parameter_rows(info)]
    assert keys[:4] == ["Prompt", "Negative prompt", "Steps", "Sampler"]
    assert "Size" in keys and "Size-1" not in keys and "Size-2" not in keys
    assert keys.index("Model hash") < keys.index("Denoising strength") < keys.index("Version")


def test_other_text_chunks_are_listed_and_escaped() -> None:
    info = image_info(_png_with({"parameters": INFOTEXT, "Software": "<b>Painter</b>", "Comment": "hello"}))
    assert info.items == {"Software": "<b>Painter</b>", "Comment": "hello"}
    shown = info_html(info)
    assert "&lt;b&gt;Painter&lt;/b&gt;" in shown and "<b>Painter" not in shown
    assert "hello" in text_of(shown)


def test_a_file_without_parameters_says_so(tmp_path: Path) -> None:
    for extension in ("png", "jpg", "webp"):
        table, raw, message = read_dropped(str(write(tmp_path, extension, None)))
        assert raw == "" and table == ""
        assert text_of(message).strip() == msg("png_info_none")


def test_a_file_that_is_no_image_or_nothing_at_all(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    table, raw, message = read_dropped(str(bogus))
    assert (table, raw) == ("", "") and "sd-message-error" in message and "notes.png" in text_of(message)
    assert read_dropped(None) == ("", "", read_dropped("")[2])
    assert msg("png_info_empty") in text_of(read_dropped(None)[2])


def test_a1111_jpeg_user_comment_with_a_byte_order_mark(tmp_path: Path) -> None:
    """Some writers put UTF-16-LE with a BOM after the UNICODE prefix; the reader takes both."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + "\ufeff".encode("utf-16-le") + INFOTEXT.encode("utf-16-le")
    path = tmp_path / "a1111.jpg"
    Image.new("RGB", (16, 16)).save(path, format="JPEG", exif=exif.tobytes())
    assert read_dropped(str(path))[1] == INFOTEXT


def _png_with(chunks: dict[str, str]) -> Image.Image:
    import io

    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG", pnginfo=info)
    buffer.seek(0)
    image = Image.open(buffer)
    image.load()
    return image


def test_the_api_reads_with_the_same_reader(tmp_path: Path) -> None:
    """POST /sdapi/v1/png-info answers from image_info too: a WebP's EXIF infotext, parsed, no format noise."""
    import base64

    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from modules.api.service import install_api
    from modules.app import build_app
    from modules.settings import Settings

    app = build_app(Settings(data_dir=tmp_path / "data", device="cpu", demo_checkpoint=None, nowebui=True))
    http_app = FastAPI()
    install_api(http_app, app)
    for extension in ("webp", "jpg"):
        body = base64.b64encode(write(tmp_path, extension, INFOTEXT).read_bytes()).decode()
        with TestClient(http_app) as client:
            answer = client.post("/sdapi/v1/png-info", json={"image": body}).json()
        assert answer["info"] == INFOTEXT
        assert answer["parameters"]["Steps"] == "3" and answer["parameters"]["Size-1"] == "64"
        assert "exif" not in answer["items"] and "jfif" not in answer["items"]
