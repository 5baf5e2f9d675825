"""img2img's Batch: every image of an input folder through img2img with one request's settings, the results
saved to an output folder (A1111's "Batch" sub-tab, "From directory").

    folders = BatchFolders.checked(Path("in"), Path("out"), Path("masks"))   # UserError naming a bad folder
    job = submit_batch(app, request, folders)                                # one job; its Outcome has them all

Each file of the input folder (in name order) becomes the request's only init image; with a mask folder,
the mask is the file there with the same name (any image extension, so photo.jpg ↔ photo.png). A file
that is not a readable image, or has no mask in a given mask folder, is skipped and listed in the
outcome's message; the others go on. Results are saved as <output>/<NNNNN>-<input name>.png with their
infotext (never overwriting); Interrupt stops after the image being drawn. With "Resize by" each output
is its input's size times the scale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.generation.request import GenerationRequest, Outcome
    from modules.jobs import Job, Progress
    from modules.model_manager.folders import CheckpointInfo

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".avif")
MAX_LISTED = 20  # skipped files named in the message; the rest are counted


@dataclass(frozen=True)
class BatchFolders:
    """Where a batch reads its images (and masks) and writes its results."""

    input_dir: Path
    output_dir: Path
    mask_dir: Path | None = None

    @classmethod
    def checked(cls, input_dir: str | Path | None, output_dir: str | Path | None,
                mask_dir: str | Path | None = None) -> BatchFolders:
        """The folders as typed by a user (blank mask folder = none); UserError for a missing or bad one."""
        def path(value: str | Path | None) -> Path | None:
            text = str(value or "").strip()
            return Path(text).expanduser() if text else None

        inputs, outputs, masks = path(input_dir), path(output_dir), path(mask_dir)
        if inputs is None:
            raise UserError(msg("batch_no_input_dir"))
        if not inputs.is_dir():
            raise UserError(msg("batch_input_missing", path=inputs))
        if outputs is None:
            raise UserError(msg("batch_no_output_dir"))
        if outputs.exists() and not outputs.is_dir():
            raise UserError(msg("batch_output_not_dir", path=outputs))
        if masks is not None and not masks.is_dir():
            raise UserError(msg("batch_mask_dir_missing", path=masks))
        if not image_files(inputs):
            raise UserError(msg("batch_empty", path=inputs))
        return cls(inputs, outputs, masks)


@dataclass
class BatchReport:
    """What a batch did: the saved files, and the input files it skipped with the reason."""

    saved: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)
    inputs: int = 0

    def message(self, folder: Path) -> str:
        text = msg("batch_done", count=len(self.saved), inputs=self.inputs, folder=folder)
        if self.skipped:
            listed = "; ".join(f"{name} ({why})" for name, why in self.skipped[:MAX_LISTED])
            more = len(self.skipped) - MAX_LISTED
            text += " " + msg("batch_skipped", count=len(self.skipped), files=listed + (f"; … +{more}" if more > 0 else ""))
        return text


def image_files(folder: Path) -> list[Path]:
    """The files of folder with an image extension, by name (sub-folders are not read)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def mask_for(image: Path, mask_dir: Path) -> Path | None:
    """The file in mask_dir named like image (same stem, any image extension; the same extension first)."""
    same = mask_dir / image.name
    if same.is_file():
        return same
    for candidate in sorted(mask_dir.glob(f"{image.stem}.*")):
        if candidate.is_file() and candidate.suffix.lower() in IMAGE_SUFFIXES:
            return candidate
    return None


def _read(path: Path, label: str) -> Image.Image:
    from modules.image_input import read_path

    return read_path(path, label)


def run_batch(app: App, request: GenerationRequest, folders: BatchFolders, progress: Progress,
              scale_by: float | None = None) -> Outcome:
    """The batch on the job worker: one generation per input image (the request's settings, the image as its
    init image and its mask, if any), saved to the output folder. scale_by: each output is its input's size
    times this ("Resize by") instead of the request's width x height. The Outcome holds every result image
    and a message saying what was saved and skipped."""
    from modules.generation.img2img_prep import scaled_size
    from modules.generation.outputs import save_image
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import Outcome
    from modules.generation.resolve import run

    report, result = BatchReport(), GenerationResult()
    last: Outcome | None = None
    previous = app.models.current_info
    each = replace(request, save_images=False, save_grid=False, restore_checkpoint=False)  # its checkpoint loads once
    files = image_files(folders.input_dir)
    report.inputs = len(files)
    try:
        for path in files:
            if progress.interrupted:
                break
            try:
                image, mask = _inputs(path, folders.mask_dir)
            except UserError as e:
                report.skipped.append((path.name, str(e)))
                continue
            params = replace(request.params, init_images=(image,), mask=mask)  # type: ignore[call-arg]
            if scale_by is not None:
                width, height = scaled_size(image.size, scale_by)
                params = replace(params, width=width, height=height)
            last = run(app, replace(each, params=params), progress)
            drawn = last.result
            for picture, seed, infotext in zip(drawn.images, drawn.seeds, drawn.infotexts, strict=False):
                saved = save_image(picture, folders.output_dir, seed, infotext, stem=path.stem)
                report.saved.append(saved)
                result.paths.append(saved)  # on disk: the pictures themselves are not all held in memory
                result.seeds.append(seed)
                result.infotexts.append(infotext)
            result.warnings.extend(drawn.warnings)
            result.interrupted = drawn.interrupted
    finally:
        _put_back(app, request, previous)
    result.message = report.message(folders.output_dir)
    if report.skipped:
        result.warnings.append(msg("batch_skipped_count", count=len(report.skipped)))
    if last is None:
        return Outcome(result, request.params, app.models.current_info)
    return replace(last, result=result)


def _inputs(path: Path, mask_dir: Path | None) -> tuple[Image.Image, Image.Image | None]:
    """The input image at path and its mask from mask_dir (None without a mask folder); UserError saying why not."""
    image = _read(path, msg("batch_input_label"))
    if mask_dir is None:
        return image, None
    mask_path = mask_for(path, mask_dir)
    if mask_path is None:
        raise UserError(msg("batch_no_mask"))
    return image, _read(mask_path, msg("batch_mask_label")).convert("L")


def _put_back(app: App, request: GenerationRequest, previous: CheckpointInfo | None) -> None:
    """The checkpoint loaded before a batch that ran on its own one, loaded again (as resolve.run does for one job)."""
    if not request.checkpoint or not request.restore_checkpoint or previous is None \
            or app.models.current_info == previous:
        return
    try:
        app.models.load(previous.title)
    except Exception:  # noqa: BLE001 - the images are done; the batch's checkpoint stays loaded
        log.exception("could not put checkpoint %s back", previous.title)


def submit_batch(app: App, request: GenerationRequest, folders: BatchFolders,
                 scale_by: float | None = None) -> Job[Outcome]:
    """Queue the batch as one job (its own progress and Interrupt); returns the Job at once."""
    return app.jobs.submit("img2img", lambda progress: run_batch(app, request, folders, progress, scale_by),
                           owner=request.owner)
