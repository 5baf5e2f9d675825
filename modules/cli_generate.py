"""Generate from the command line, on the same backend as the web UI and the API.

    python webui.py txt2img "a red circle on a blue background" --seed 1
    python webui.py txt2img "a red circle" --hires --hr-scale 2 --hr-upscaler Lanczos --denoising-strength 0.5
    python webui.py img2img "a red circle" --init-image photo.png --denoising-strength 0.6
    python webui.py txt2img --infotext outputs/txt2img-images/2026-12-03/00001-1.png --steps 30
    python webui.py txt2img "photo" --script "Prompts from file or textbox" --script-arg false --script-arg false
        --script-arg start --script-arg "$(cat prompts.txt)"      (one command, split here to fit)

The command builds the App from the same folder and device flags as the server, loads a checkpoint the
way the server does at start (--ckpt, else the one used last, else the first one, the demo model last),
runs the task through the app's job queue, and prints the path of every image once it is on disk (PNG
with the A1111 infotext, in outputs/ as the UI saves them). Messages go to stderr, paths to stdout.
Exit status: 0 done, 1 the generation failed, 2 bad input (the message says what to change), 130
interrupted with Ctrl+C (the images finished before it are kept and listed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from modules.errors import JobCancelled, UserError
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.request import GenerationRequest, Outcome

COMMANDS = ("txt2img", "img2img")
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130

log = logging.getLogger(__name__)

# flag dest -> params field, for the flags that set one field directly
FIELDS = ("prompt", "negative_prompt", "steps", "cfg_scale", "sampler_name", "scheduler", "seed", "width", "height",
          "batch_count", "batch_size", "clip_skip", "denoising_strength", "inpaint_full_res_padding",
          "inpainting_mask_invert", "inpaint_full_res", "subseed", "subseed_strength", "seed_resize_from_w",
          "seed_resize_from_h", "tiling", "enable_hr", "hr_scale", "hr_upscaler", "hr_second_pass_steps", "hr_resize_x",
          "hr_resize_y", "hr_sampler_name", "hr_scheduler", "hr_prompt", "hr_negative_prompt", "hr_cfg_scale")


def add_variation_flags(p: argparse.ArgumentParser) -> None:
    """Variation seed, "resize seed from" and tiling (both commands)."""
    p.add_argument("--subseed", "--variation-seed", dest="subseed", type=int, default=None,
                   help="variation seed; -1 random (image i gets subseed + i)")
    p.add_argument("--subseed-strength", "--variation-strength", dest="subseed_strength", type=float, default=None,
                   help="0 the seed's noise, 1 the variation seed's (default 0)")
    p.add_argument("--seed-resize-from-w", dest="seed_resize_from_w", type=int, default=None, metavar="W",
                   help="draw the noise as for this width (with --seed-resize-from-h; 0 off)")
    p.add_argument("--seed-resize-from-h", dest="seed_resize_from_h", type=int, default=None, metavar="H")
    p.add_argument("--tiling", action="store_true", default=None, help="a seamless, tileable image")


def add_hires_flags(p: argparse.ArgumentParser) -> None:
    """txt2img's hires fix (A1111's fields)."""
    p.add_argument("--hires", "--enable-hr", dest="enable_hr", action="store_true", default=None,
                   help="hires fix: upscale the first pass and denoise it again")
    p.add_argument("--hr-scale", dest="hr_scale", type=float, default=None, help="upscale by (1-4; default 2)")
    p.add_argument("--hr-resize-x", dest="hr_resize_x", type=int, default=None, help="resize width to (0: --hr-scale)")
    p.add_argument("--hr-resize-y", dest="hr_resize_y", type=int, default=None, help="resize height to")
    p.add_argument("--hr-upscaler", dest="hr_upscaler", default=None,
                   help="Latent (default), Latent (bicubic antialiased), ..., Lanczos, Nearest or an upscaler model")
    p.add_argument("--hr-steps", dest="hr_second_pass_steps", type=int, default=None,
                   help="hires steps (0: same as --steps)")
    p.add_argument("--denoising-strength", "-s", dest="denoising_strength", type=float, default=None,
                   help="the hires pass's denoising strength (default 0.7)")
    p.add_argument("--hr-sampler", dest="hr_sampler_name", default=None, help="hires sampler (default: the same)")
    p.add_argument("--hr-scheduler", dest="hr_scheduler", default=None, help="hires schedule type (default: the same)")
    p.add_argument("--hr-prompt", dest="hr_prompt", default=None, help="hires prompt (default: the same)")
    p.add_argument("--hr-negative-prompt", dest="hr_negative_prompt", default=None)
    p.add_argument("--hr-cfg", dest="hr_cfg_scale", type=float, default=None, help="hires CFG scale (default: the same)")


def build_generate_parser(kind: str) -> argparse.ArgumentParser:
    from modules.cli import add_model_flags

    p = argparse.ArgumentParser(
        prog=f"webui.py {kind}",
        description=f"Generate with {kind} from the command line and print the saved images' paths.",
        epilog="Unset fields come from --infotext when given, else from the app's defaults (the size from the "
               "checkpoint when it declares one" + (", else from the init image" if kind == "img2img" else "") + ").")
    p.add_argument("prompt", nargs="?", default=None, help="the prompt (A1111 prompt syntax)")
    p.add_argument("--negative-prompt", "--neg", dest="negative_prompt", default=None)
    p.add_argument("--steps", type=int, default=None, help="sampling steps (1-150; default 20)")
    p.add_argument("--cfg-scale", "--cfg", dest="cfg_scale", type=float, default=None, help="CFG scale (default 7)")
    p.add_argument("--sampler", dest="sampler_name", default=None, help="sampler, e.g. 'DPM++ 2M', 'Euler a'")
    p.add_argument("--scheduler", default=None, help="schedule type: Automatic, Uniform, Karras, Exponential, ...")
    p.add_argument("--seed", type=int, default=None, help="seed; -1 random (image i of a run gets seed + i)")
    p.add_argument("--width", "-W", type=int, default=None)
    p.add_argument("--height", "-H", type=int, default=None)
    p.add_argument("--batch-count", "-n", dest="batch_count", type=int, default=None, help="batches, one after another")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None, help="images per batch")
    p.add_argument("--clip-skip", dest="clip_skip", type=int, default=None)
    p.add_argument("--styles", action="append", default=[], metavar="NAME", help="apply a style of styles.csv (repeatable)")
    p.add_argument("--vae", default=None, help="VAE for this run: Automatic, None or a file name in the VAE folder")
    p.add_argument("--infotext", type=Path, default=None, metavar="FILE",
                   help="take the parameters from an image's infotext (PNG from this app, A1111, ...) or a text file")
    p.add_argument("--outdir", type=Path, default=None, metavar="DIR", help="save under DIR instead of outputs/")
    p.add_argument("--no-grid", action="store_true", help="do not save a grid of a batch's images")
    p.add_argument("--script", default=None, metavar="NAME",
                   help="run a script, e.g. 'Prompts from file or textbox' (its arguments: --script-arg, in order)")
    p.add_argument("--script-arg", dest="script_args", action="append", default=[], metavar="VALUE",
                   help="the script's next argument (repeatable; GET /sdapi/v1/script-info lists them)")
    add_variation_flags(p)
    if kind == "txt2img":
        add_hires_flags(p)
    if kind == "img2img":
        p.add_argument("--init-image", "-i", dest="init_images", type=Path, action="append", default=[], required=True,
                       metavar="FILE", help="the image to start from (repeatable: image i uses file i modulo count)")
        p.add_argument("--mask", type=Path, default=None, metavar="FILE", help="inpainting mask (white = repaint)")
        p.add_argument("--denoising-strength", "-s", dest="denoising_strength", type=float, default=None,
                       help="0 keeps the image, 1 replaces it (default 0.75)")
        p.add_argument("--resize-mode", default=None,
                       help="0 just resize, 1 crop and resize, 2 resize and fill (names work too)")
        p.add_argument("--mask-blur", type=int, default=None, help="mask blur in pixels (default 4)")
        p.add_argument("--inpainting-fill", "--masked-content", dest="inpainting_fill", default=None,
                       help="masked content: fill, original, latent noise, latent nothing (or 0-3)")
        p.add_argument("--only-masked", dest="inpaint_full_res", action="store_true", default=None,
                       help="inpaint the masked area at full resolution and paste it back")
        p.add_argument("--only-masked-padding", dest="inpaint_full_res_padding", type=int, default=None)
        p.add_argument("--mask-invert", dest="inpainting_mask_invert", action="store_true", default=None,
                       help="repaint what the mask leaves black")
    add_model_flags(p)
    return p


def choice_index(value: str | None, choices: tuple[str, ...], what: str) -> int | None:
    """A choice given as its number or its name (case-insensitive); InvalidParams otherwise."""
    from modules.errors import InvalidParams

    if value is None:
        return None
    text = value.strip().lower()
    if text.isdigit() and int(text) < len(choices):
        return int(text)
    names = [name.lower() for name in choices]
    if text in names:
        return names.index(text)
    partial = [i for i, name in enumerate(names) if text and text in name]
    if len(partial) == 1:  # 'crop' for 'Crop and resize'
        return partial[0]
    listed = ", ".join(f"{i} {name}" for i, name in enumerate(choices))
    raise InvalidParams(msg("cli_bad_choice", what=what, value=value, choices=listed))


def read_infotext_file(path: Path) -> str:
    """The infotext an image carries (PNG text chunk or EXIF comment), or a text file's content."""
    from PIL import Image, UnidentifiedImageError

    from modules.generation.outputs import read_png_infotext
    from modules.image_input import MAX_IMAGE_PIXELS

    if not path.is_file():
        raise UserError(msg("cli_no_file", what="--infotext", path=path))
    try:
        text = read_png_infotext(path)
    except Image.DecompressionBombError:
        raise UserError(msg("cli_image_huge", what="--infotext", path=path,
                            megapixels=MAX_IMAGE_PIXELS // 10**6)) from None
    except UnidentifiedImageError:  # not an image: a text file
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(msg("cli_infotext_unreadable", path=path, error=str(e)[:200])) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise UserError(msg("cli_infotext_unreadable", path=path, error=str(e)[:200])) from None
    if not text or not text.strip():
        raise UserError(msg("cli_no_infotext", path=path))
    return text


def load_model(app: App) -> None:
    """Load a checkpoint as the server does at start; UserError when none could be. A --ckpt file that
    cannot be loaded is an error at once: no time goes into loading another checkpoint instead.

    The load runs as a job on the queue's worker thread, as the images do, and not on the main thread:
    torch work on a second live thread makes every image after it about twice as slow on a CPU
    (docs/cpu-threads.md)."""
    settings = app.settings
    if settings.ckpt is not None and not settings.ckpt.is_file():
        raise UserError(msg("cli_no_file", what="--ckpt", path=settings.ckpt))
    app.jobs.run("load-checkpoint", lambda _progress: app.load_default_model(fallback=settings.ckpt is None))
    info = app.models.current_info
    if info is None and settings.ckpt is not None:
        raise UserError(msg("cli_ckpt_not_loaded", path=settings.ckpt, status=app.models.status))
    if info is None:
        raise UserError(app.models.status or msg("cli_no_checkpoint", folder=settings.checkpoint_dir))
    if settings.ckpt is not None and info.path.resolve() != settings.ckpt:
        raise UserError(msg("cli_ckpt_not_loaded", path=settings.ckpt, status=app.models.status))


def _rounded_size(value: int) -> int:
    return max(64, min(2048, round(value / 8) * 8))


def to_request(args: argparse.Namespace, kind: str) -> GenerationRequest:
    """The flags as a GenerationRequest: the flags given are the caller's own fields; --infotext fills the
    others, then the app's option defaults (the rules are modules/generation/resolve.py's, as for the UI and
    the API). img2img draws at the init image's size unless a size is given; txt2img at the checkpoint's."""
    from modules.generation.params import MASKED_CONTENT, RESIZE_MODES, Img2ImgParams, Txt2ImgParams
    from modules.generation.request import GenerationRequest
    from modules.image_input import read_path

    changes = {name: getattr(args, name) for name in FIELDS if getattr(args, name, None) is not None}
    door: set[str] = set()
    params: Txt2ImgParams | Img2ImgParams
    if kind == "img2img":
        images = tuple(read_path(path, "--init-image") for path in args.init_images)  # its errors come first
        mask = read_path(args.mask, "--mask") if args.mask is not None else None
        if args.mask_blur is not None:
            changes.update(mask_blur_x=args.mask_blur, mask_blur_y=args.mask_blur)
        for name, choices, what in (("resize_mode", RESIZE_MODES, "--resize-mode"),
                                    ("inpainting_fill", MASKED_CONTENT, "--inpainting-fill")):
            index = choice_index(getattr(args, name), choices, what)
            if index is not None:
                changes[name] = index
        size = {"width": _rounded_size(images[0].width), "height": _rounded_size(images[0].height)}
        door = set(size)
        params = Img2ImgParams(**{**size, **changes}, init_images=images, mask=mask)
    else:
        params = Txt2ImgParams(**changes)
    infotext = read_infotext_file(args.infotext) if args.infotext is not None else None
    return GenerationRequest(kind=kind, params=params, explicit=frozenset(changes), door_defaults=frozenset(door),
                             styles=tuple(args.styles), infotext=infotext, vae=args.vae,
                             size_from_model=kind == "txt2img" and args.width is None and args.height is None,
                             save_grid=not args.no_grid)


def with_scripts(app: App, request: GenerationRequest, args: argparse.Namespace) -> GenerationRequest:
    """request with --script and its --script-arg values (checked: InvalidParams naming a bad one); without
    --script, the script the --infotext records (an X/Y/Z grid's infotext redraws the plot)."""
    from dataclasses import replace

    from modules.scripts.select import script_run_with_infotext

    return replace(request, scripts=script_run_with_infotext(app, request.kind, args.script, args.script_args, None,
                                                             request.infotext))


def run(app: App, request: GenerationRequest, err: TextIO) -> Outcome:
    """Run the request in the app's job queue, showing progress on err; Ctrl+C interrupts after the current
    step and returns what was finished (a second Ctrl+C gives up waiting)."""
    from modules.generation.resolve import submit

    job = submit(app, request)
    live = err.isatty()
    try:
        while not job.wait(0.5):
            if live and job.progress.total_steps:
                err.write("\r" + job.progress.text() + "\033[K")
                err.flush()
    except KeyboardInterrupt:
        err.write("\n" + msg("cli_interrupting") + "\n")
        app.jobs.interrupt(job.id)
        job.wait()
    if live:
        err.write("\r\033[K")
    return job.result()


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`webui.py txt2img|img2img ...`: argv starts with the command."""
    from modules.app import build_app
    from modules.cli import settings_from_args

    out, err = out or sys.stdout, err or sys.stderr
    kind, rest = argv[0], argv[1:]
    args = build_generate_parser(kind).parse_args(rest)
    started = time.monotonic()
    try:
        from modules.generation.resolve import check

        app = build_app(settings_from_args(args))
        request = with_scripts(app, to_request(args, kind), args)
        resolved = check(app, request)  # a typo fails here, before any loading time
        if getattr(resolved.params, "enable_hr", False):
            from modules.generation.hires import find_hires_upscaler

            find_hires_upscaler(app.registry, resolved.params.hr_upscaler)  # type: ignore[attr-defined]
        for note in resolved.notes:
            err.write(note + "\n")
        load_model(app)
        err.write(app.models.status + "\n")
        result = run(app, request, err).result
    except (JobCancelled, KeyboardInterrupt):  # Ctrl+C before the job started: nothing was generated
        err.write("\n" + msg("cli_interrupted", count=0) + "\n")
        return EXIT_INTERRUPTED
    except UserError as e:
        err.write(msg("cli_error", error=str(e)) + "\n")
        return EXIT_BAD_INPUT
    except Exception as e:  # noqa: BLE001 - a failure the app did not foresee: say so, with the log's details
        log.exception("%s failed", kind)
        err.write(msg("cli_failed", kind=kind, error=f"{type(e).__name__}: {e}"[:300]) + "\n")
        return EXIT_FAILED
    for path in result.paths:
        out.write(f"{path}\n")
    if result.grid_path is not None:
        out.write(f"{result.grid_path}\n")
    out.flush()
    for warning in result.warnings:
        err.write(warning + "\n")
    err.write(msg("cli_done", count=len(result.paths), seconds=time.monotonic() - started,
                  seeds=", ".join(str(s) for s in result.seeds[:len(result.paths)])) + "\n")
    if result.interrupted:
        err.write(msg("cli_interrupted", count=len(result.paths)) + "\n")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if not result.paths else 0
