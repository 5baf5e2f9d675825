"""Print the command line's time per image against an in-process call on the same model and settings.

Usage: .venv/bin/python scripts/benchmark_cli.py [--images 6] [--steps 20] [--size 64] [--ckpt FILE]

Both save N images of the demo model (DPM++ 2M, fixed seeds) into a temporary folder; the time per image
is (time the last image was saved - time the first one was) / (N - 1), so the start and the checkpoint
load do not count. In-process: build the App, load through the job queue, run_txt2img, as
scripts/demo_images.py does. CLI: `python webui.py txt2img ...` as a user runs it. The two should be
close; a CLI that loads on its main thread was 1.7-2x slower per image on 2 cores (docs/cpu-threads.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROMPT = "a red circle on a blue background"


def per_image(paths: list[Path]) -> float:
    """Seconds per image from the save times of the images (the first one's is the start)."""
    times = sorted(p.stat().st_mtime for p in paths)
    if len(times) < 2:
        raise RuntimeError(f"need at least 2 images, found {len(times)}")
    return (times[-1] - times[0]) / (len(times) - 1)


def in_process(ckpt: Path, out: Path, images: int, steps: int, size: int) -> float:
    from modules.app import build_app
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import txt2img
    from modules.settings import Settings

    app = build_app(Settings(data_dir=out, ckpt=ckpt, device="cpu", precision="fp32"))
    app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model())
    app.models.require()
    params = Txt2ImgParams(prompt=PROMPT, seed=1, steps=steps, width=size, height=size, batch_count=images)
    result = app.jobs.run("txt2img", lambda progress: txt2img(app, params, progress, save_grid=False))
    return per_image(result.paths)


def cli(ckpt: Path, out: Path, images: int, steps: int, size: int) -> float:
    command = [sys.executable, str(ROOT / "webui.py"), "txt2img", PROMPT, "--seed", "1", "--steps", str(steps),
               "-W", str(size), "-H", str(size), "-n", str(images), "--no-grid", "--outdir", str(out / "images"),
               "--ckpt", str(ckpt), "--data-dir", str(out / "data"), "--device", "cpu", "--precision", "fp32"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"webui.py txt2img failed ({done.returncode}): {done.stderr[-2000:]}")
    return per_image([Path(line) for line in done.stdout.splitlines()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="CLI and in-process taken in turn this many times")
    parser.add_argument("--ckpt", type=Path, default=ROOT / "models" / "Stable-diffusion" / "demo-shapes.safetensors")
    args = parser.parse_args()
    ckpt = args.ckpt.resolve()
    measured: dict[str, list[float]] = {"webui.py txt2img": [], "in-process call": []}
    for round_ in range(args.rounds):
        for name, fn in (("webui.py txt2img", cli), ("in-process call", in_process)):
            with tempfile.TemporaryDirectory() as tmp:
                measured[name].append(fn(ckpt, Path(tmp) / str(round_), args.images, args.steps, args.size))
    print(f"{ckpt.name}, {args.size}x{args.size}, {args.steps} steps, {args.images} images, {args.rounds} rounds "
          "(best round: other load on the machine only ever adds time)")
    for name, times in measured.items():
        print(f"  {name:17} {min(times):.2f} s per image  (rounds: {', '.join(f'{t:.2f}' for t in times)})")
    cli_best, direct_best = min(measured["webui.py txt2img"]), min(measured["in-process call"])
    print(f"  CLI / in-process: {cli_best / direct_best:.2f}")


if __name__ == "__main__":
    main()
