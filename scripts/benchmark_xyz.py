"""Print the X/Y/Z plot's overhead: a 3x3 plot against the same 9 generations run one by one.

Usage: .venv/bin/python scripts/benchmark_xyz.py [--steps 20] [--size 64] [--rounds 5] [--threads 1] [--ckpt FILE]

Both go through the job queue on the demo model (DPM++ 2M, CFG Scale 3, 5, 7 x Seed 1, 2, 3) and save
their images into a temporary folder; the plot also checks its 9 cells up front, draws and saves the grid
with its legend and writes the CSV and JSON beside it. The rounds alternate (plot, separate, plot, ...)
after one warm-up, and the medians are compared: the goal is under 5% more time in total.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROMPT = "a red circle on a blue background"
CFGS = (3.0, 5.0, 7.0)
SEEDS = (1, 2, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a busy 2-core machine two threads run many times slower)")
    parser.add_argument("--ckpt", type=Path, default=ROOT / "models" / "Stable-diffusion" / "demo-shapes.safetensors")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    from modules.app import build_app
    from modules.generation.params import Txt2ImgParams
    from modules.generation.request import GenerationRequest
    from modules.generation.resolve import check, submit
    from modules.scripts.select import script_run
    from modules.settings import Settings
    from modules.xyz.plot import TITLE

    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Settings(data_dir=Path(folder), ckpt=args.ckpt, device="cpu", precision="fp32"))
        app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model())
        base = {"prompt": PROMPT, "steps": args.steps, "width": args.size, "height": args.size,
                "sampler_name": "DPM++ 2M"}

        def request(scripts: object = None, **values: object) -> GenerationRequest:
            fields = {**base, **values}
            return GenerationRequest("txt2img", Txt2ImgParams(**fields), explicit=frozenset(fields),
                                     scripts=scripts)  # type: ignore[arg-type]

        xyz = ["CFG Scale", ", ".join(map(str, CFGS)), "", "Seed", ", ".join(map(str, SEEDS)), "", "Nothing", "", "",
               True, False, False, False, False, False, False, 0, False]

        def plot() -> float:
            start = time.perf_counter()
            job = request(script_run(app, "txt2img", TITLE, xyz), seed=1)
            check(app, job)
            result = submit(app, job).result().result
            assert len(result.images) == 10, result.message
            return time.perf_counter() - start

        def separate() -> float:
            start = time.perf_counter()
            for seed in SEEDS:
                for cfg in CFGS:
                    job = request(seed=seed, cfg_scale=cfg)
                    check(app, job)
                    submit(app, job).result()
            return time.perf_counter() - start

        separate()  # warm-up: first-call costs (allocations, caches) count for neither
        plots, singles = [], []
        for n in range(args.rounds):
            plots.append(plot())
            singles.append(separate())
            print(f"round {n + 1}: plot {plots[-1]:.2f} s, separate {singles[-1]:.2f} s", flush=True)
        p, s = statistics.median(plots), statistics.median(singles)
        print(f"3x3 X/Y/Z plot: {p:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in plots)})")
        print(f"9 separate generations: {s:.2f} s (rounds: {', '.join(f'{t:.2f}' for t in singles)})")
        print(f"overhead: {100 * (p - s) / s:+.1f}% in total, {(p - s) / 9 * 1000:+.0f} ms per cell")


if __name__ == "__main__":
    main()
