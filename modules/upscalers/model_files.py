"""Upscaler model files in the user's folders (models/ESRGAN, models/RealESRGAN, models/SwinIR, ...): found,
named as A1111 names them, loaded on first use (weights only, offline) and kept loaded for the App.

Two architectures are read by this program itself (modules/upscalers/esrgan_arch.py, srvgg_arch.py):
ESRGAN/RRDBNet in both key layouts, including Real-ESRGAN's x4plus, x2plus and anime_6B, and Real-ESRGAN's
SRVGGNetCompact (realesr-general-x4v3, realesr-animevideov3). Any other architecture (SwinIR, DAT, HAT,
...) goes to the spandrel library when it can be imported (`pip install spandrel`, which needs a
torchvision that matches the installed torch); otherwise using it says so, and nothing crashes.
.pth/.pt files are read with torch.load(weights_only=True), .safetensors after the project's header check.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError
from modules.messages import msg

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.options import Options

UPSCALER_FOLDERS = ("ESRGAN", "RealESRGAN", "SwinIR", "DAT", "HAT", "ScuNET")
MODEL_SUFFIXES = (".pth", ".pt", ".safetensors")
MODEL_SOURCE = "model folders"  # the registry source of the entries made from files
# A1111's names for the models it knows by file (only listed when the file is there)
KNOWN_NAMES = {
    "realesrgan_x4plus": "R-ESRGAN 4x+", "realesrgan_x4plus_anime_6b": "R-ESRGAN 4x+ Anime6B",
    "realesrgan_x2plus": "R-ESRGAN 2x+", "realesr-general-x4v3": "R-ESRGAN General 4xV3",
    "realesr-general-wdn-x4v3": "R-ESRGAN General WDN 4xV3", "realesr-animevideov3": "R-ESRGAN AnimeVideo",
    "swinir_4x": "SwinIR 4x", "003_realsr_x4_swinir_l": "SwinIR 4x", "dat_x2": "DAT x2", "dat_x3": "DAT x3",
    "dat_x4": "DAT x4", "scunet_color_real_psnr": "ScuNET PSNR", "scunet_color_real_gan": "ScuNET GAN",
}
TILE = 192  # input pixels a side per tile (A1111's ESRGAN tile default)
TILE_OVERLAP = 8
MAX_PASSES = 3  # model passes to reach a factor larger than the model's own (4x model, 16x asked: 2 passes)
_SCALE_IN_NAME = re.compile(r"(?<![0-9a-z])(?:x([1-8])|([1-8])x)(?![0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class UpscalerFile:
    """One model file: the name it is listed under, its folder kind (ESRGAN, SwinIR, ...)."""

    name: str
    path: Path
    folder: str

    @property
    def guessed_scale(self) -> float:
        """The factor the file name says (x2, 2x, ...), else 4 (most models); the real one is read on load."""
        m = _SCALE_IN_NAME.search(self.path.stem)
        return float(m.group(1) or m.group(2)) if m else 4.0


@dataclass(frozen=True)
class LoadedUpscaler:
    module: Any  # torch module: [1, 3, h, w] in 0..1 -> [1, 3, h*scale, w*scale]
    scale: float
    arch: str  # "ESRGAN", "Real-ESRGAN compact", or spandrel's architecture name


def model_name(path: Path) -> str:
    """A1111's list name for a model file: its known name, else the file stem."""
    return KNOWN_NAMES.get(path.stem.casefold(), path.stem)


def find_files(folders: dict[str, Path]) -> list[UpscalerFile]:
    """Every model file in the folders (recursively, hidden parts skipped); a name taken by an earlier file
    gets its folder kind in brackets."""
    found: list[UpscalerFile] = []
    taken: set[str] = set()
    for kind, root in folders.items():
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(p.startswith(".") for p in rel.parts) or not path.is_file():
                continue
            if path.suffix.lower() not in MODEL_SUFFIXES:
                continue
            name = model_name(path)
            if name.casefold() in taken:
                name = f"{name} ({kind})"
            if name.casefold() in taken:
                continue
            taken.add(name.casefold())
            found.append(UpscalerFile(name, path, kind))
    return found


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of an upscaler file (the BasicSR 'params_ema'/'params' wrapping undone), weights only."""
    import torch

    from modules.model_manager.checkpoint_files import _load_pickle, _load_safetensors

    data: Any = _load_safetensors(path) if path.suffix.lower() == ".safetensors" else _load_pickle(path)
    if isinstance(data, dict):
        for key in ("params_ema", "params", "state_dict", "model"):
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    if not isinstance(data, dict):
        raise CheckpointLoadError(msg("file_damaged", file=path.name, detail="it does not hold a table of weights"))
    tensors = {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointLoadError(msg("file_damaged", file=path.name, detail="it holds no weights"))
    return tensors


def _spandrel() -> Any | None:
    """The spandrel module, or None when it is missing or cannot be imported (its torchvision may not fit)."""
    try:
        import spandrel
    except Exception:  # noqa: BLE001 - ImportError, or a torchvision built for another torch (RuntimeError)
        return None
    return spandrel


def build_module(file: UpscalerFile, state: dict[str, torch.Tensor]) -> LoadedUpscaler:
    """The network the weights describe; CheckpointLoadError saying what is wrong or what is needed."""
    from modules.upscalers import esrgan_arch, srvgg_arch

    keys = set(state)
    try:
        if esrgan_arch.is_old_layout(keys) or esrgan_arch.is_new_layout(keys):
            module, shape = esrgan_arch.load_rrdbnet(state)
            return LoadedUpscaler(module, shape.scale, "ESRGAN")
        if srvgg_arch.is_srvgg(state):
            module, vgg = srvgg_arch.load_srvgg(state)
            return LoadedUpscaler(module, float(vgg.scale), "Real-ESRGAN compact")
    except (ValueError, KeyError) as e:
        raise CheckpointLoadError(msg("upscaler_bad_weights", file=file.path.name, detail=str(e))) from None
    spandrel = _spandrel()
    if spandrel is None:
        raise CheckpointLoadError(msg("upscaler_needs_spandrel", file=file.path.name, folder=file.folder))
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state)
    except Exception as e:  # noqa: BLE001 - spandrel's own "unsupported model" errors
        raise CheckpointLoadError(msg("upscaler_unknown_arch", file=file.path.name, detail=str(e)[:200])) from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise CheckpointLoadError(msg("upscaler_unknown_arch", file=file.path.name, detail="not an upscaler"))
    return LoadedUpscaler(descriptor.model.eval(), float(descriptor.scale), f"{descriptor.architecture.name} (spandrel)")


def load_upscaler(file: UpscalerFile) -> LoadedUpscaler:
    return build_module(file, read_weights(file.path))


class UpscalerModels:
    """The model files of one App's upscaler folders and the models loaded from them (on first use, then
    kept: loading an ESRGAN takes longer than a small upscale)."""

    def __init__(self, folders: dict[str, Path], device: Any, dtype: Any, options: Options | None = None) -> None:
        self.folders = folders
        self.options = options  # the App's: tile size and overlap (ESRGAN_tile, ESRGAN_tile_overlap)
        self.device = device
        self.dtype = dtype
        self.files: list[UpscalerFile] = []
        self._loaded: dict[Path, LoadedUpscaler] = {}
        self._lock = threading.Lock()

    def scan(self) -> list[UpscalerFile]:
        files = find_files(self.folders)
        with self._lock:
            self.files = files
            kept = {f.path for f in files}
            self._loaded = {p: m for p, m in self._loaded.items() if p in kept}
        return files

    def load(self, file: UpscalerFile) -> LoadedUpscaler:
        with self._lock:
            cached = self._loaded.get(file.path)
        if cached is not None:
            return cached
        loaded = load_upscaler(file)
        loaded.module.to(device=self.device, dtype=self.dtype)
        with self._lock:
            self._loaded[file.path] = loaded
        return loaded

    def loaded_paths(self) -> list[Path]:
        with self._lock:
            return list(self._loaded)

    def tiles(self) -> tuple[int, int]:
        """(tile, overlap) in input pixels from the Settings; tile 0: the whole image at once."""
        if self.options is None:
            return TILE, TILE_OVERLAP
        return int(self.options.get("ESRGAN_tile", TILE) or 0), int(self.options.get("ESRGAN_tile_overlap", TILE_OVERLAP) or 0)

    def upscale(self, file: UpscalerFile, image: Image.Image, factor: float) -> Image.Image:
        """image enlarged by factor: the model run (tiled) until the image is at least that large, then resized
        to the exact size with Lanczos. A later pass that would overshoot (a 4x model asked for 5x: 4x, then 16x)
        first shrinks its input to what that pass needs, so no pass makes more than the target size; so does
        a first pass whose output would pass MAX_SIDE."""
        import math

        from PIL import Image

        from modules.upscalers.spec import MAX_SIDE, target_size

        size = target_size(image.width, image.height, factor)
        loaded = self.load(file)
        current = image.convert("RGB")
        for done in range(MAX_PASSES):
            if current.width >= size[0] and current.height >= size[1] and (done or loaded.scale != 1):
                break  # large enough (a 1x model, a restorer, runs once all the same)
            scale = float(loaded.scale)
            overshoots = current.width * scale > size[0] and current.height * scale > size[1]
            if scale > 1 and overshoots and (done or max(current.size) * scale > MAX_SIDE):
                needed = (math.ceil(size[0] / scale), math.ceil(size[1] / scale))
                if needed[0] < current.width:
                    current = current.resize(needed, Image.Resampling.LANCZOS)
            current = run_model(loaded, current, self.device, self.dtype, *self.tiles())
            if loaded.scale <= 1:
                break
        if current.size != size:
            current = current.resize(size, Image.Resampling.LANCZOS)
        return current


def run_model(loaded: LoadedUpscaler, image: Image.Image, device: Any, dtype: Any, tile: int = TILE,
              overlap: int = TILE_OVERLAP) -> Image.Image:
    """One pass of the model over an RGB image, tile by tile (tile 0: whole)."""
    import numpy as np
    import torch
    from PIL import Image

    from modules.upscalers.tiled import tiled_apply

    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]

    def one_tile(tile: torch.Tensor) -> torch.Tensor:
        return loaded.module(tile.to(device=device, dtype=dtype)).float().cpu()

    with torch.inference_mode():
        side = tile if tile > 0 else max(image.size)
        out = tiled_apply(one_tile, pixels, loaded.scale, side, min(overlap, side // 2))
    array = (out[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array)


@dataclass(frozen=True)
class ModelUpscale:
    """The upscale function of one registered model file (UpscalerSpec.upscale)."""

    models: UpscalerModels
    file: UpscalerFile

    def __call__(self, image: Image.Image, factor: float) -> Image.Image:
        return self.models.upscale(self.file, image, factor)


def upscaler_folders(app: App) -> dict[str, Path]:
    return {kind: app.settings.upscaler_path(kind) for kind in UPSCALER_FOLDERS}


def models_of(app: App) -> UpscalerModels | None:
    """The App's UpscalerModels (the one its registered model entries use), None before the first scan."""
    for spec in app.registry.upscalers.items():
        if isinstance(spec.upscale, ModelUpscale):
            return spec.upscale.models
    return None


def register_model_upscalers(app: App) -> list[str]:
    """(Re)scan the upscaler folders and register one UpscalerSpec per file; entries of files that are
    gone are removed, loaded models of files still there are kept. Returns the names registered."""
    from modules.upscalers.options import register_upscaling_options
    from modules.upscalers.spec import UpscalerSpec

    register_upscaling_options(app.registry.options)
    models = models_of(app) or UpscalerModels(upscaler_folders(app), app.devices.device, _dtype(app), app.options)
    for entry in app.registry.upscalers.entries():
        if entry.source == MODEL_SOURCE:
            app.registry.upscalers.unregister(entry.name)
    names = []
    for file in models.scan():
        if file.name in app.registry.upscalers:
            continue  # a core or extension upscaler of that name keeps it
        spec = UpscalerSpec(file.name, ModelUpscale(models, file), scale=file.guessed_scale,
                            model_name=file.path.stem, model_path=str(file.path))
        app.registry.upscalers.register(file.name, spec, source=MODEL_SOURCE)
        names.append(file.name)
    return names


def _dtype(app: App) -> Any:
    import torch

    return torch.float32 if app.devices.device.type == "cpu" else app.devices.dtype
