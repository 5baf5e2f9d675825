"""Saving images and grids: names, numbering, atomic writes, metadata."""

from __future__ import annotations

import datetime
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from modules.generation import outputs
from modules.generation.infotext import create_infotext, params_from_infotext
from modules.generation.outputs import dated_folder, next_number, read_png_infotext, save_grid, save_image
from modules.generation.params import Txt2ImgParams


def image(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (16, 16)) -> Image.Image:
    return Image.new("RGB", size, color)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def test_first_image_name_and_folder_created(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "2024-07-27"
    path = save_image(image(), folder, 1234567890, "a fox\nSteps: 1, Sampler: Euler, Seed: 1")
    assert path == folder / "00000-1234567890.png"
    assert path.is_file()
    assert names(folder) == ["00000-1234567890.png"]


def test_numbering_increments(tmp_path: Path) -> None:
    paths = [save_image(image(), tmp_path, seed, "x") for seed in (5, 6, 7)]
    assert [p.name for p in paths] == ["00000-5.png", "00001-6.png", "00002-7.png"]


def test_numbering_continues_after_highest_and_ignores_unrelated(tmp_path: Path) -> None:
    for name in ("00003-1.png", "00041-99-before-highres-fix.png", "grid-0077.png", "notes.txt",
                 "abc-00099.png", "12x.png", "params.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "99999-sub").mkdir()
    path = save_image(image(), tmp_path, 8, "x")
    assert path.name == "100000-8.png"


def test_numbering_ignores_subfolder_free_folder(tmp_path: Path) -> None:
    for name in ("00003-1.png", "00041-99.png", "grid-0077.png", "readme.md"):
        (tmp_path / name).write_bytes(b"")
    assert save_image(image(), tmp_path, 8, "x").name == "00042-8.png"


def test_next_number_missing_folder(tmp_path: Path) -> None:
    assert next_number(tmp_path / "nope") == 0
    assert next_number(tmp_path / "nope", "grid-") == 0


def test_suffix(tmp_path: Path) -> None:
    save_image(image(), tmp_path, 1, "x")
    path = save_image(image(), tmp_path, 1, "x", suffix="-before-highres-fix")
    assert path.name == "00001-1-before-highres-fix.png"


def test_no_tmp_or_lock_left_behind(tmp_path: Path) -> None:
    for seed in range(3):
        save_image(image(), tmp_path, seed, "x")
    save_grid(image(), tmp_path, "x")
    assert not [n for n in names(tmp_path) if n.endswith((".tmp", ".lock"))]


def test_failed_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_image(image(), tmp_path, 1, "x")
    assert names(tmp_path) == []


def test_metadata_round_trip_through_png(tmp_path: Path) -> None:
    p = Txt2ImgParams(prompt="a red fox, (snow:1.2)", negative_prompt="blurry, lowres", sampler_name="Euler a",
                      scheduler="Automatic", steps=24, cfg_scale=6.5, seed=987654321, width=640, height=448,
                      clip_skip=2)
    text = create_infotext(p, seed=p.seed, model_name="v1-5-pruned-emaonly", model_hash="6ce0161689",
                           extra={"Lora hashes": "fox: 0123456789ab"})
    path = save_image(image(), tmp_path, p.seed, text)
    read = read_png_infotext(path)
    assert read == text
    assert params_from_infotext(read) == p


def test_non_latin1_prompt_round_trips_as_itxt(tmp_path: Path) -> None:
    p = Txt2ImgParams(prompt="一只红狐狸坐在新雪中，金色时刻", negative_prompt="模糊，低质量", seed=42, scheduler="Karras")
    text = create_infotext(p, seed=42, model_name=None, model_hash=None)
    path = save_image(image(), tmp_path, 42, text)
    assert b"iTXt" in path.read_bytes()
    assert read_png_infotext(str(path)) == text
    assert params_from_infotext(read_png_infotext(path) or "") == p


def test_latin1_infotext_uses_text_chunk(tmp_path: Path) -> None:
    path = save_image(image(), tmp_path, 1, "café\nSteps: 1, Sampler: Euler, Seed: 1")
    data = path.read_bytes()
    assert b"tEXtparameters" in data
    assert read_png_infotext(path) == "café\nSteps: 1, Sampler: Euler, Seed: 1"


def test_read_from_open_image_and_missing(tmp_path: Path) -> None:
    path = save_image(image(), tmp_path, 1, "hello")
    with Image.open(path) as opened:
        assert read_png_infotext(opened) == "hello"
    plain = tmp_path / "plain.png"
    image().save(plain)
    assert read_png_infotext(plain) is None
    assert read_png_infotext(image()) is None


def test_other_text_chunks_preserved(tmp_path: Path) -> None:
    source = image()
    source.info["Software"] = "something"
    source.info["parameters"] = "old"
    path = save_image(source, tmp_path, 1, "new")
    with Image.open(path) as opened:
        assert opened.info["Software"] == "something"
        assert opened.info["parameters"] == "new"


def test_read_jpeg_exif_user_comment(tmp_path: Path) -> None:
    text = "a fox, 狐狸\nSteps: 20, Sampler: Euler, Seed: 1"
    exif = Image.Exif()
    exif.get_ifd(outputs.EXIF_IFD)[outputs.EXIF_USER_COMMENT] = b"UNICODE\0" + text.encode("utf-16-be")
    path = tmp_path / "a.jpg"
    image().save(path, format="JPEG", exif=exif)
    assert read_png_infotext(path) == text


def test_pixels_saved(tmp_path: Path) -> None:
    path = save_image(image((1, 2, 3), (24, 8)), tmp_path, 1, "x")
    with Image.open(path) as opened:
        assert opened.size == (24, 8)
        assert opened.convert("RGB").getpixel((5, 5)) == (1, 2, 3)


def test_grid_names(tmp_path: Path) -> None:
    (tmp_path / "00005-1.png").write_bytes(b"")
    first = save_grid(image(), tmp_path, "grid text")
    second = save_grid(image(), tmp_path, "grid text")
    assert (first.name, second.name) == ("grid-0000.png", "grid-0001.png")
    assert read_png_infotext(second) == "grid text"
    (tmp_path / "grid-0041.png").write_bytes(b"")
    (tmp_path / "xyz_grid-0099-1.png").write_bytes(b"")
    assert save_grid(image(), tmp_path, "x").name == "grid-0042.png"
    # grids do not move the image numbering
    assert save_image(image(), tmp_path, 2, "x").name == "00006-2.png"


def test_dated_folder(tmp_path: Path) -> None:
    when = datetime.date(2024, 7, 5)
    assert dated_folder(tmp_path, "txt2img-images", when) == tmp_path / "txt2img-images" / "2024-07-05"
    assert dated_folder(tmp_path, "txt2img-grids").name == datetime.date.today().isoformat()
    assert not (tmp_path / "txt2img-grids").exists()


def test_concurrent_saves_get_distinct_numbers(tmp_path: Path) -> None:
    count = 24
    results: list[Path] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(start: int) -> None:
        try:
            barrier.wait()
            for seed in range(start, count, 8):
                results.append(save_image(image(), tmp_path, seed, f"seed {seed}"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    numbers = sorted(int(p.name.split("-")[0]) for p in results)
    assert numbers == list(range(count))
    assert len(names(tmp_path)) == count
    for path in results:
        seed = int(path.stem.split("-")[1])
        assert read_png_infotext(path) == f"seed {seed}"


def test_stale_lock_number_skipped(tmp_path: Path) -> None:
    (tmp_path / "00004.lock").write_bytes(b"")
    assert save_image(image(), tmp_path, 1, "x").name == "00005-1.png"


def test_leftovers_of_a_killed_run_are_removed_and_images_kept(tmp_path: Path) -> None:
    import time

    from modules.generation.outputs import remove_leftovers

    folder = tmp_path / "txt2img-images" / "2024-07-27"
    done = save_image(image(), folder, 1, "x")
    leftovers = [folder / "00001-2.png.tmp", folder / "00002.lock", tmp_path / "txt2img-grids" / "grid-0003.lock"]
    keep = [folder / "notes.tmp", folder / "00009-3.png"]  # not ours / a finished image
    for path in [*leftovers, *keep]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    fresh = folder / "00003-4.png.tmp"  # another process may be writing this one right now
    fresh.write_bytes(b"")
    old = time.time() - 3600
    for path in [*leftovers, *keep]:
        os.utime(path, (old, old))
    assert sorted(remove_leftovers(tmp_path)) == sorted(leftovers)
    assert all(p.exists() for p in [*keep, fresh, done])


def test_a_process_killed_while_saving_leaves_only_whole_images(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from modules.generation.outputs import remove_leftovers

    script = (
        "import sys\nfrom pathlib import Path\nfrom PIL import Image\n"
        "from modules.generation.outputs import save_image\n"
        "im = Image.effect_noise((384, 384), 64).convert('RGB')\n"
        "print('ready', flush=True)\n"
        "for seed in range(100000):\n    save_image(im, Path(sys.argv[1]), seed, 'x' * 2000)\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=root, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("*.png"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) >= 5
    for path in pngs:  # every file under a final name is a whole image
        with Image.open(path) as im:
            im.load()
    remove_leftovers(tmp_path, older_than_s=0)
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".tmp", ".lock")]
