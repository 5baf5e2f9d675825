"""Command-line generation (`webui.py txt2img|img2img`) on tiny checkpoints: in-process through
cli_generate.main, and through the real entry point in a child process (exit status, Ctrl+C)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modules.cli_generate import EXIT_BAD_INPUT, EXIT_INTERRUPTED, main
from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from tests.image_files import png_declaring
from tests.launch_root import make_launch_root
from tests.tiny_models import declare_size, write_tiny_checkpoint

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--steps", "2", "-W", "64", "-H", "64"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    write_tiny_checkpoint(tmp_path / "models" / "Stable-diffusion", "sd1", name="tiny-sd1")
    return tmp_path


def generate(data_dir: Path, *argv: str) -> tuple[int, list[Path], str]:
    """(exit status, paths printed on stdout, stderr) of one command run in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--data-dir", str(data_dir), "--device", "cpu", "--precision", "fp32", "--no-demo-model"],
                out=out, err=err)
    return code, [Path(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_txt2img_saves_images_with_infotext_and_prints_their_paths(data_dir: Path) -> None:
    code, paths, err = generate(data_dir, "txt2img", "a red circle", "--neg", "blurry", *FAST, "--seed", "7",
                                "-n", "2", "--sampler", "euler a")
    assert code == 0, err
    images, grid = paths[:2], paths[2]
    assert [p.parent.parent.name for p in images] == ["txt2img-images"] * 2 and grid.name.startswith("grid-")
    assert all(p.is_file() and p.is_relative_to(data_dir / "outputs") for p in paths)
    info = parse_infotext(read_png_infotext(images[1]) or "")
    assert info["Prompt"] == "a red circle" and info["Negative prompt"] == "blurry"
    assert (info["Seed"], info["Steps"], info["Sampler"], info["Size"]) == ("8", "2", "Euler a", "64x64")
    assert "2 image(s) saved" in err and "seeds: 7, 8" in err


def test_hires_variation_and_tiling_flags(data_dir: Path) -> None:
    code, paths, err = generate(data_dir, "txt2img", "a red circle", *FAST, "--seed", "3", "--hires", "--hr-scale",
                                "1.25", "--hr-upscaler", "lanczos", "--denoising-strength", "0.4", "--hr-steps", "3",
                                "--variation-seed", "9", "--variation-strength", "0.5", "--tiling")
    assert code == 0, err
    with Image.open(paths[0]) as image:
        assert image.size == (80, 80)
    info = parse_infotext(read_png_infotext(paths[0]) or "")
    assert (info["Size"], info["Hires upscale"], info["Hires upscaler"], info["Hires steps"]) == \
        ("64x64", "1.25", "Lanczos", "3")
    assert (info["Denoising strength"], info["Variation seed"], info["Variation seed strength"], info["Tiling"]) == \
        ("0.4", "9", "0.5", "True")


def test_infotext_of_an_image_reproduces_it_and_flags_override_it(data_dir: Path, tmp_path: Path) -> None:
    code, (first,), err = generate(data_dir, "txt2img", "a blue square", *FAST, "--seed", "3", "--cfg", "5")
    assert code == 0, err
    code, (again,), err = generate(data_dir, "txt2img", "--infotext", str(first), "--outdir", str(tmp_path / "again"))
    assert code == 0, err
    assert again.is_relative_to(tmp_path / "again")
    assert np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(again)))
    assert parse_infotext(read_png_infotext(again) or "") == parse_infotext(read_png_infotext(first) or "")
    code, (changed,), err = generate(data_dir, "txt2img", "--infotext", str(first), "--seed", "4", "--no-grid")
    info = parse_infotext(read_png_infotext(changed) or "")
    assert (info["Prompt"], info["Seed"], info["CFG scale"]) == ("a blue square", "4", "5")
    text_file = tmp_path / "params.txt"
    text_file.write_text("a green triangle\nSteps: 2, Seed: 9, Size: 64x64, Noise Schedule: Zero Terminal SNR",
                         encoding="utf-8")
    code, (from_text,), err = generate(data_dir, "txt2img", "--infotext", str(text_file))
    info = parse_infotext(read_png_infotext(from_text) or "")
    assert code == 0 and (info["Prompt"], info["Seed"], info["Size"]) == ("a green triangle", "9", "64x64")
    assert info["Noise Schedule"] == "Zero Terminal SNR"  # the recorded setting applied to this run
    code, (plain,), err = generate(data_dir, "txt2img", "a green triangle", *FAST)
    assert "Noise Schedule" not in parse_infotext(read_png_infotext(plain) or "")  # and to that run only


def test_size_follows_the_checkpoint_it_declares(tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path / "models" / "Stable-diffusion", "sd1", name="tiny-sd1")
    declare_size(path, "72x64")
    code, (image,), err = generate(tmp_path, "txt2img", "a circle", "--steps", "1")
    assert code == 0, err
    assert Image.open(image).size == (72, 64)


def test_img2img_starts_from_the_init_image_at_its_size(data_dir: Path, tmp_path: Path) -> None:
    init = tmp_path / "init.png"
    Image.new("RGB", (83, 70), (200, 30, 30)).save(init)
    mask = tmp_path / "mask.png"
    Image.new("L", (83, 70), 255).save(mask)
    code, (image,), err = generate(data_dir, "img2img", "a square", "-i", str(init), "-s", "0.4", "--steps", "2",
                                   "--resize-mode", "crop", "--mask", str(mask), "--mask-blur", "2",
                                   "--masked-content", "latent noise")
    assert code == 0, err
    assert image.parent.parent.name == "img2img-images" and Image.open(image).size == (80, 72)
    info = parse_infotext(read_png_infotext(image) or "")
    assert (info["Denoising strength"], info["Mask blur"], info["Masked content"]) == ("0.4", "2", "latent noise")


@pytest.mark.parametrize(("argv", "says"), [
    (["img2img", "x", "-i", "missing.png"], "--init-image: there is no file at missing.png"),
    (["img2img", "x", "-i", __file__], "is not an image this app can read"),
    (["img2img", "x", "-i", __file__, "--resize-mode", "stretch"], None),  # the image error comes first
    (["txt2img", "x", "--steps", "0"], "Steps must be between 1 and 150 (got 0)"),
    (["txt2img", "x", "--sampler", "nope"], "Unknown sampler 'nope'. Choose one of: DPM++ 2M"),
    (["txt2img", "x", "--styles", "nope"], "nope"),
    (["txt2img", "x", "--vae", "nope.pt"], "No VAE named 'nope.pt' in the VAE folder. The choices are: Automatic"),
    (["txt2img", "--infotext", "missing.png"], "--infotext: there is no file at missing.png"),
    (["txt2img", "x", "--ckpt", "missing.safetensors"], "--ckpt: there is no file at"),
    (["txt2img", "x", "--hires", "--hr-upscaler", "nope"], "Unknown hires upscaler 'nope'. Choose one of: Latent"),
    (["txt2img", "x", "--subseed-strength", "2"], "Variation strength must be between 0 and 1"),
])
def test_bad_input_gets_a_message_and_status_2_before_any_model_loads(data_dir: Path, argv: list[str],
                                                                      says: str | None) -> None:
    code, paths, err = generate(data_dir, *argv)
    assert code == EXIT_BAD_INPUT and paths == []
    assert err.startswith("error: ") and "Traceback" not in err and "Loaded" not in err
    assert says is None or says in err


def test_a_bad_choice_lists_the_choices(data_dir: Path, tmp_path: Path) -> None:
    init = tmp_path / "init.png"
    Image.new("RGB", (64, 64)).save(init)
    code, _, err = generate(data_dir, "img2img", "x", "-i", str(init), "--masked-content", "latent")
    assert code == EXIT_BAD_INPUT
    assert "--inpainting-fill: unknown value 'latent'. Choose one of: 0 fill, 1 original, 2 latent noise" in err


def test_no_checkpoint_says_where_to_put_one(tmp_path: Path) -> None:
    code, paths, err = generate(tmp_path, "txt2img", "x", *FAST)
    assert code == EXIT_BAD_INPUT and paths == []
    assert str(tmp_path / "models" / "Stable-diffusion") in err


def test_a_damaged_ckpt_is_not_replaced_by_another_checkpoint(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a checkpoint")
    code, paths, err = generate(data_dir, "txt2img", "x", *FAST, "--ckpt", str(broken))
    assert code == EXIT_BAD_INPUT and paths == []
    assert f"--ckpt {broken} could not be loaded" in err
    assert "tiny-sd1" not in err  # no time went into loading the other checkpoint


@pytest.mark.parametrize(("size", "says"), [((9000, 9000), "is too large (9000x9000)"),
                                            ((20000, 20000), "is far too large (over 67 megapixels)")])
def test_an_image_too_large_to_use_is_refused_by_size(data_dir: Path, tmp_path: Path, size: tuple[int, int],
                                                      says: str) -> None:
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_declaring(*size))
    code, paths, err = generate(data_dir, "img2img", "x", "-i", str(huge))
    assert code == EXIT_BAD_INPUT and paths == [] and f"--init-image: the image {huge} {says}" in err, err
    if size[0] > 10000:  # one Pillow refuses to open is not taken for a text file by --infotext either
        code, paths, err = generate(data_dir, "txt2img", "--infotext", str(huge))
        assert code == EXIT_BAD_INPUT and paths == [] and f"--infotext: the image {huge} {says}" in err, err


def _command(data_dir: Path, *argv: str) -> list[str]:
    return [sys.executable, str(ROOT / "webui.py"), *argv, "--data-dir", str(data_dir), "--device", "cpu",
            "--precision", "fp32", "--no-demo-model"]


def _ctrl_c_after_the_first_image(command: list[str], out: Path, env: dict[str, str]) -> None:
    """Start a long txt2img run writing under out, press Ctrl+C (SIGINT to that process) once the first image
    is saved, and check that it stops with status 130, listing every finished image and nothing else."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(out.rglob("*.png")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    paths = [Path(line) for line in stdout.splitlines()]
    images = [p for p in paths if p.parent.parent.name == "txt2img-images"]
    assert 1 <= len(images) < 100 and all(p.is_file() for p in paths), stderr
    assert sorted(out.rglob("*.png")) == sorted(paths)  # every finished image is listed, nothing half-written
    assert f"Interrupted: {len(images)} finished image(s) kept." in stderr


LONG_RUN = ("txt2img", "a circle", "-W", "64", "-H", "64", "--steps", "20", "-n", "100", "--seed", "1")


def test_webui_py_runs_the_command_and_ctrl_c_keeps_finished_images(data_dir: Path) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    done = subprocess.run(_command(data_dir, "txt2img", "a circle", *FAST, "--seed", "1"), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [Path(line).name for line in done.stdout.splitlines()] == ["00000-1.png"]

    out = data_dir / "interrupted"
    _ctrl_c_after_the_first_image(_command(data_dir, *LONG_RUN, "--outdir", str(out)), out, env)


def test_launch_py_txt2img_ctrl_c_lists_finished_images_as_webui_py_does(data_dir: Path, tmp_path: Path) -> None:
    """launch.py becomes webui.py (exec): Ctrl+C reaches the command itself, which finishes the step and
    lists the images (a launcher that waited on a child killed it and listed nothing)."""
    root = make_launch_root(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    out = data_dir / "interrupted"
    command = _command(data_dir, *LONG_RUN, "--outdir", str(out))
    _ctrl_c_after_the_first_image([command[0], str(root / "launch.py"), *command[2:]], out, env)


def test_the_checkpoint_loads_on_the_job_worker_like_the_images(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a CPU, torch work on the main thread as well as on the worker makes every image about twice as
    slow (docs/cpu-threads.md): the command loads through the job queue, as the server does."""
    import threading

    from modules.model_manager import checkpoints

    threads: list[str] = []
    real_load = checkpoints.load_checkpoint

    def load(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checkpoints, "load_checkpoint", load)
    code, paths, err = generate(data_dir, "txt2img", "a circle", *FAST)
    assert code == 0 and len(paths) == 1, err
    assert threads == ["job-worker"]
