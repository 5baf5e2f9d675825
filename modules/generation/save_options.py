"""Where and how one run saves its images: the saving options (A1111 keys) resolved once per run.

    save = SaveOptions.for_run(app, "txt2img", run_options)      # run_options: a request's overrides
    path = save.save_sample(image, name_fields(params, seed, ...), infotext)

Folders: --outdir (command line) wins and keeps the layout outputs/<kind>-images; else outdir_samples
(outdir_grids for grids) when set; else outdir_<kind>_samples / outdir_<kind>_grids; a relative folder
starts at the data folder (--data-dir), as A1111's start at its own folder. With save_to_dirs
(grid_save_to_dirs) the image goes into the sub-folder directories_filename_pattern names ([date]).
File names follow samples_filename_pattern (modules/generation/filenames.py); the format, quality and
infotext follow samples_format / grid_format, jpeg_quality, webp_lossless and enable_pnginfo.
The same code serves the web UI, the API (save_images) and the command line.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.generation.filenames import NameFields, file_stem, folder_parts
from modules.generation.outputs import FileFormat, save_grid, save_image

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.settings import Settings


def base_folder(settings: Settings, values: Mapping[str, Any], kind: str, grids: bool) -> Path:
    """The folder of a kind's images or grids before any sub-folder (see the module's docstring)."""
    what = "grids" if grids else "images"
    if settings.outdir is not None:
        return settings.outdir / f"{kind}-{what}"
    general = values.get("outdir_grids" if grids else "outdir_samples") or ""
    specific = values.get(f"outdir_{kind}_{'grids' if grids else 'samples'}") or ""
    chosen = str(general or specific).strip()
    if not chosen:
        return settings.outputs_dir / f"{kind}-{what}"
    path = Path(chosen).expanduser()
    return path if path.is_absolute() else settings.data_dir / path


@dataclass(frozen=True)
class SaveOptions:
    samples_folder: Path
    grids_folder: Path
    samples_save: bool = True
    grid_save: bool = True
    image_format: FileFormat = field(default_factory=FileFormat)
    grid_format: FileFormat = field(default_factory=FileFormat)
    filename_pattern: str = ""
    add_number: bool = True
    save_to_dirs: bool = True
    grid_save_to_dirs: bool = True
    directories_pattern: str = "[date]"
    max_prompt_words: int = 8

    @classmethod
    def for_run(cls, app: App, kind: str, run_options: Mapping[str, Any] | None = None) -> SaveOptions:
        """The app's saving options, with a run's own values (override_settings) in front."""
        overrides = run_options or {}

        def value(key: str) -> Any:
            return overrides[key] if key in overrides else app.options.get(key)

        values = {key: value(key) for key in ("outdir_samples", "outdir_grids", f"outdir_{kind}_samples",
                                               f"outdir_{kind}_grids")}
        quality, lossless, info = int(value("jpeg_quality")), bool(value("webp_lossless")), bool(value("enable_pnginfo"))
        return cls(
            samples_folder=base_folder(app.settings, values, kind, grids=False),
            grids_folder=base_folder(app.settings, values, kind, grids=True),
            samples_save=bool(value("samples_save")), grid_save=bool(value("grid_save")),
            image_format=FileFormat(str(value("samples_format")), quality, lossless, info),
            grid_format=FileFormat(str(value("grid_format")), quality, lossless, info),
            filename_pattern=str(value("samples_filename_pattern") or ""),
            add_number=bool(value("save_images_add_number")),
            save_to_dirs=bool(value("save_to_dirs")), grid_save_to_dirs=bool(value("grid_save_to_dirs")),
            directories_pattern=str(value("directories_filename_pattern") or ""),
            max_prompt_words=int(value("directories_max_prompt_words")))

    def _folder(self, base: Path, into_dirs: bool, fields: NameFields) -> Path:
        if not into_dirs:
            return base
        return base.joinpath(*folder_parts(self.directories_pattern, fields, self.max_prompt_words))

    def image_folder(self, fields: NameFields) -> Path:
        return self._folder(self.samples_folder, self.save_to_dirs, fields)

    def grid_folder(self, fields: NameFields) -> Path:
        return self._folder(self.grids_folder, self.grid_save_to_dirs, fields)

    def save_sample(self, image: Image.Image, fields: NameFields, infotext: str, suffix: str = "") -> Path:
        """Save one image as the options say; returns its path."""
        pattern = self.filename_pattern or ("[seed]" if self.save_to_dirs else "[seed]-[prompt_spaces]")
        stem = file_stem(pattern, fields, self.max_prompt_words)
        return save_image(image, self.image_folder(fields), fields.seed, infotext, suffix=suffix, stem=stem,
                          fmt=self.image_format, add_number=self.add_number)

    def save_grid(self, image: Image.Image, fields: NameFields, infotext: str) -> Path:
        return save_grid(image, self.grid_folder(fields), infotext, self.grid_format)


def name_fields(params: Any, seed: int, model_name: str, model_hash: str | None, index: int,
                when: datetime.datetime) -> NameFields:
    """NameFields of one image of a generation (params: Txt2ImgParams or Img2ImgParams)."""
    return NameFields(seed=seed, prompt=params.prompt, negative_prompt=params.negative_prompt, steps=params.steps,
                      cfg_scale=params.cfg_scale, sampler=params.sampler_name, scheduler=params.scheduler,
                      width=params.width, height=params.height, model_name=model_name, model_hash=model_hash or "",
                      clip_skip=params.clip_skip, denoising=getattr(params, "denoising_strength", None),
                      batch_number=index % params.batch_size, batch_size=params.batch_size, when=when)
