"""Captioned image folders: `photo.png` + `photo.txt` pairs (the kohya / A1111 training-folder layout).

Images are resized (shorter side) and centre-cropped to a square resolution. No flip here: flipping is a
per-batch choice of the training stage (off by default, since captions may say left and right).
Batches are drawn in a seeded order that depends only on (seed, micro-step), so a resumed run sees
exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CAPTION_SUFFIXES = (".txt", ".caption")


@dataclass(frozen=True)
class ImageCaption:
    image: Path
    caption: str


def scan_folder(folder: Path | str) -> list[ImageCaption]:
    """Every image in folder (sorted by name, not recursive) with the text of its same-name caption file
    ("" when there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no dataset folder at {folder}")
    items = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        text = ""
        for suffix in CAPTION_SUFFIXES:
            candidate = path.with_suffix(suffix)
            if candidate.is_file():
                text = candidate.read_text(encoding="utf-8").strip()
                break
        items.append(ImageCaption(path, text))
    return items


def load_image(path: Path, resolution: int) -> torch.Tensor:
    """uint8 [3, resolution, resolution]: RGB, shorter side resized to resolution, centre crop."""
    import numpy as np
    import torch
    from PIL import Image

    with Image.open(path) as opened:
        image = opened.convert("RGB")
    w, h = image.size
    if (w, h) != (resolution, resolution):
        scale = resolution / min(w, h)
        size = (max(resolution, round(w * scale)), max(resolution, round(h * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
        image = image.crop((left, top, left + resolution, top + resolution))
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).contiguous()


class ImageCaptionDataset:
    """Map-style dataset (usable with torch's DataLoader): item i is (uint8 [3, R, R] image, caption)."""

    def __init__(self, folder: Path | str, resolution: int) -> None:
        self.items = scan_folder(folder)
        self.resolution = resolution
        if not self.items:
            raise ValueError(f"no images in {folder}")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, str]:
        item = self.items[index]
        return load_image(item.image, self.resolution), item.caption


@dataclass
class InMemoryImages:
    """A whole dataset as one uint8 tensor [N, 3, R, R] (on any device) plus its captions."""

    pixels: torch.Tensor
    captions: list[str]

    def __len__(self) -> int:
        return len(self.captions)

    def to(self, device: Any) -> InMemoryImages:
        return InMemoryImages(self.pixels.to(device), self.captions)


def _collate(items: list[tuple[torch.Tensor, str]]) -> tuple[torch.Tensor, list[str]]:
    import torch

    return torch.stack([image for image, _ in items]), [text for _, text in items]


def load_folder(folder: Path | str, resolution: int, workers: int = 0) -> InMemoryImages:
    """Read a captioned folder into memory (workers > 0 decodes images in parallel processes)."""
    import torch
    from torch.utils.data import DataLoader

    dataset = ImageCaptionDataset(folder, resolution)
    loader = DataLoader(dataset, batch_size=256, num_workers=workers, collate_fn=_collate)  # type: ignore[arg-type]
    pixels, captions = [], []
    for images, texts in loader:
        pixels.append(images)
        captions.extend(texts)
    return InMemoryImages(torch.cat(pixels), captions)


def to_unit_range(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 images → float in [-1, 1] (the VAE's input range)."""
    return pixels.float() / 127.5 - 1.0


class BatchOrder:
    """Seeded shuffled batches: micro-step m uses batch m of an endless sequence of epochs, each a fresh
    permutation seeded by (seed, epoch). Incomplete last batches of an epoch are dropped."""

    def __init__(self, size: int, batch_size: int, seed: int) -> None:
        if size < 1:
            raise ValueError("an empty dataset has no batches")
        self.size = size
        self.batch_size = min(batch_size, size)
        self.seed = seed
        self.per_epoch = size // self.batch_size
        self._epoch = -1
        self._perm: torch.Tensor | None = None

    def indices(self, micro_step: int) -> torch.Tensor:
        import torch

        epoch, position = divmod(micro_step, self.per_epoch)
        if epoch != self._epoch or self._perm is None:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.size, generator=generator)
            self._epoch = epoch
        start = position * self.batch_size
        return self._perm[start : start + self.batch_size]
