"""Render the README's example pictures with the built-in demo model through the app's txt2img.

Usage: .venv/bin/python scripts/demo_images.py [--ckpt FILE] [--out docs/images] [--size 64]

Writes one PNG per prompt (`demo-<n>.png`, at the model's own size) and `demo-grid.png` (all of them,
enlarged --zoom times with nearest-neighbour so the pixels stay visible), then prints the prompts and
file names as Markdown for the README. Settings are the app's defaults for the demo model: 20 steps,
CFG 7, DPM++ 2M, fixed seeds, so the pictures are the same on every run on the same machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPTS = (
    "a red circle on a blue background",
    "a large yellow square in the centre on a black background",
    "a small green triangle at the top left on a white background",
    "a purple circle at the bottom right on an orange background",
    "a blue square on the left on a yellow background",
    "a white triangle at the top on a gray background",
)


@dataclass(frozen=True)
class Rendered:
    prompt: str
    seed: int
    path: Path


def render_all(ckpt: Path, out: Path, size: int, seed: int, zoom: int) -> list[Rendered]:
    from PIL import Image

    from modules.app import build_app
    from modules.generation.grid import make_grid
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import run_txt2img
    from modules.settings import Settings

    out.mkdir(parents=True, exist_ok=True)
    rendered, images = [], []
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Settings(data_dir=Path(tmp), ckpt=ckpt.resolve(), device="cpu", precision="fp32"))
        # loaded on the job queue's worker, as webui loads on a thread of its own: torch work on a
        # second long-lived thread (here: main) makes libgomp throttle and halves CPU speed
        app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model())
        app.models.require()
        for i, prompt in enumerate(PROMPTS):
            params = Txt2ImgParams(prompt=prompt, seed=seed + i, width=size, height=size)
            image = run_txt2img(app, params).images[0]
            path = out / f"demo-{i + 1}.png"
            image.save(path)
            images.append(image.resize((size * zoom, size * zoom), Image.Resampling.NEAREST))
            rendered.append(Rendered(prompt, params.seed, path))
    make_grid(images, rows=1 if len(images) <= 3 else 2).save(out / "demo-grid.png")
    return rendered


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", type=Path, default=ROOT / "models" / "Stable-diffusion" / "demo-shapes.safetensors")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    p.add_argument("--size", type=int, default=64, help="image size (the demo model's own is 64)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--zoom", type=int, default=3, help="enlargement of the grid picture")
    args = p.parse_args(argv)
    if not args.ckpt.is_file():
        print(f"no checkpoint at {args.ckpt}", file=sys.stderr)
        return 1
    rendered = render_all(args.ckpt, args.out, args.size, args.seed, args.zoom)
    print("| prompt | seed | image |\n|---|---|---|")
    for r in rendered:
        rel = r.path.resolve().relative_to(ROOT) if r.path.resolve().is_relative_to(ROOT) else r.path
        print(f"| {r.prompt} | {r.seed} | ![{r.prompt}]({rel.as_posix()}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
