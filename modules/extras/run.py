"""Postprocessing images (the Extras tab, /sdapi/v1/extra-single-image and /extra-batch-images) as one job.

    job = submit_extras(app, ExtrasRun(params, images=(NamedImage("a.png", image),)), owner="api:")
    result = job.result()        # ExtrasResult: images, infotexts, paths, message

A run takes images given in memory, or every image of an input folder (read one at a time, so a large
folder is never held at once). Each image is upscaled by upscaler 1 (and blended with upscaler 2), resized
to the exact size asked for, cropped when asked, and saved (save True) to outputs/extras-images as
NNNNN.png, or under its own name into an output folder, with the infotext in the PNG's 'extras' chunk and
the image's own text chunks kept (as A1111 does).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.extras.params import NONE, ExtrasParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.jobs import Job, Progress
    from modules.registry import Registry

EXTRAS_FOLDER = "extras-images"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class NamedImage:
    name: str  # the file name it came with ("" when none)
    image: Image.Image


@dataclass(frozen=True)
class ExtrasRun:
    params: ExtrasParams
    images: tuple[NamedImage, ...] = ()
    input_dir: Path | None = None  # "Batch from directory": every image in it (images is then empty)
    output_dir: Path | None = None  # where to save (default outputs/extras-images)
    save: bool = True


@dataclass
class ExtrasResult:
    images: list[Image.Image] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    message: str = ""
    warnings: list[str] = field(default_factory=list)


def infotext(params: ExtrasParams) -> str:
    """The 'extras' text: 'Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 4x+'."""
    from modules.generation.infotext import quote

    return ", ".join(f"{k}: {quote(str(v))}" for k, v in params.infotext_items().items())


def enlarge(registry: Registry, name: str, image: Image.Image, factor: float, size: tuple[int, int]) -> Image.Image:
    """image enlarged by the named upscaler (by factor), then resized to exactly size with Lanczos."""
    from PIL import Image

    from modules.upscalers.spec import upscale

    out = image if name == NONE else upscale(registry, name, image, factor)
    if out.size != size:
        out = out.resize(size, Image.Resampling.LANCZOS)
    return out.convert("RGB")


def postprocess(registry: Registry, image: Image.Image, params: ExtrasParams) -> Image.Image:
    """One image upscaled as params say (the rules of A1111's Extras upscale)."""
    from PIL import Image

    from modules.generation.img2img_prep import flatten
    from modules.upscalers.spec import target_size

    rgb = flatten(image)
    factor = params.factor(rgb.width, rgb.height)
    size = target_size(rgb.width, rgb.height, factor)
    out = enlarge(registry, params.upscaler_1, rgb, factor, size)
    if params.uses_second:
        second = enlarge(registry, params.upscaler_2, rgb, factor, size)
        out = Image.blend(out, second, params.extras_upscaler_2_visibility)
    if params.resize_mode == 1 and params.upscaling_crop:
        w, h = params.upscaling_resize_w, params.upscaling_resize_h
        left, top = (out.width - w) // 2, (out.height - h) // 2
        out = out.crop((left, top, left + w, top + h))
    return out


def folder_images(folder: Path) -> list[Path]:
    """The image files directly in folder, sorted; UserError when it is not a folder or holds none."""
    if not folder.is_dir():
        raise UserError(msg("extras_bad_folder", folder=folder))
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(msg("extras_no_images_in_folder", folder=folder))
    return files


def check_run(app: App, run: ExtrasRun) -> None:
    """What can be checked before queueing: the params, and that there is something to process."""
    run.params.validate(app.registry)
    if run.input_dir is not None:
        folder_images(run.input_dir)
    elif not run.images:
        raise UserError(msg("extras_no_image"))


def _inputs(run: ExtrasRun, result: ExtrasResult) -> Iterator[NamedImage]:
    if run.input_dir is None:
        yield from run.images
        return
    from modules.image_input import decode_all, open_path

    for path in folder_images(run.input_dir):
        try:  # one at a time, with the pixel limits of every other image input
            yield NamedImage(path.name, decode_all([open_path(path, path.name)])[0])
        except (UserError, OSError, ValueError) as e:
            result.warnings.append(msg("extras_bad_image", name=path.name, error=e))


def save_extras_image(image: Image.Image, source: Image.Image, folder: Path, text: str, name: str = "") -> Path:
    """PNG in folder: NNNNN.png, or name.png (name-1.png, ... when taken) for a named input; the 'extras'
    chunk holds text, the source's own text chunks (its 'parameters') are kept."""
    from PIL.PngImagePlugin import PngInfo

    from modules.generation import outputs

    info = PngInfo()
    for key, value in source.info.items():
        if isinstance(key, str) and isinstance(value, str) and key != "extras":
            info.add_text(key, value)
    info.add_text("extras", text)
    folder.mkdir(parents=True, exist_ok=True)

    def write(path: Path) -> None:
        tmp = path.with_name(path.name + outputs.TMP_EXT)
        try:
            image.save(tmp, format="PNG", pnginfo=info)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    if name:
        stem = Path(name).stem
        for attempt in range(outputs.MAX_ATTEMPTS):
            path = folder / f"{stem}{'-' + str(attempt) if attempt else ''}.png"
            try:
                with open(path, "xb"):
                    pass  # claimed: nobody else writes this name
            except FileExistsError:
                continue
            write(path)
            return path
    with outputs._reserved_number(folder, "", outputs.IMAGE_DIGITS) as number:
        path = folder / f"{number}.png"
        write(path)
    return path


def run_extras(app: App, run: ExtrasRun, progress: Progress) -> ExtrasResult:
    """The whole run, inside a job: every image processed (and saved) in turn; Interrupt stops between images."""
    import time

    result = ExtrasResult()
    text = infotext(run.params)
    folder = run.output_dir or app.settings.outputs_dir / EXTRAS_FOLDER
    progress.started = progress.started or time.monotonic()
    progress.batches = len(run.images) if run.input_dir is None else len(folder_images(run.input_dir))
    progress.total_steps = 1
    done = 0
    for index, named in enumerate(_inputs(run, result)):
        if progress.interrupted:
            result.message = msg("extras_interrupted", count=done)
            break
        out = postprocess(app.registry, named.image, run.params)
        result.infotexts.append(text)
        if run.save:
            name = named.name if run.output_dir is not None else ""
            result.paths.append(save_extras_image(out, named.image, folder, text, name))
        if run.input_dir is None or not run.save:  # a folder's results are on disk: not all held in memory
            result.images.append(out)
        done += 1
        progress.batch = index + 1
    if not result.message:
        result.message = (msg("extras_saved", count=len(result.paths), folder=folder) if result.paths
                          else msg("extras_done", count=done))
    for warning in result.warnings:
        result.message += " " + warning
    return result


def submit_extras(app: App, run: ExtrasRun, owner: str = "") -> Job[ExtrasResult]:
    """Check run (UserError at once when it cannot work) and queue it with the generations."""
    check_run(app, run)
    return app.jobs.submit("extras", lambda progress: run_extras(app, run, progress), owner=owner)
