"""Batch grids: the images of one generation tiled into a single picture (A1111's image_grid).

Rows default to round(sqrt(n)) (A1111's n_rows = -1 "auto"), or the largest divisor of n not above
sqrt(n) with prevent_empty_spots; columns = ceil(n / rows). Each cell is as large as the largest
image; smaller images are centred in their cell. Empty cells show the background colour (A1111's
grid_background_color setting, default white).
"""

from __future__ import annotations

import math

from PIL import Image, ImageColor

DEFAULT_BACKGROUND = "#ffffff"


def grid_shape(count: int, rows: int | None = None, *, prevent_empty_spots: bool = False) -> tuple[int, int]:
    """(rows, cols) for count images; rows=None picks A1111's automatic layout."""
    if count < 1:
        raise ValueError("a grid needs at least one image")
    if rows is None:
        if prevent_empty_spots:
            rows = max(1, math.floor(math.sqrt(count)))
            while count % rows != 0:
                rows -= 1
        else:
            rows = round(math.sqrt(count))
    if rows < 1:
        raise ValueError(f"rows must be at least 1 (got {rows})")
    rows = min(rows, count)
    return rows, math.ceil(count / rows)


def make_grid(
    images: list[Image.Image],
    rows: int | None = None,
    *,
    prevent_empty_spots: bool = False,
    background: str | tuple[int, int, int] = DEFAULT_BACKGROUND,
) -> Image.Image:
    """An RGB image with images laid out row by row, left to right."""
    rows, cols = grid_shape(len(images), rows, prevent_empty_spots=prevent_empty_spots)
    cell_w = max(image.width for image in images)
    cell_h = max(image.height for image in images)
    color = ImageColor.getcolor(background, "RGB") if isinstance(background, str) else background
    grid = Image.new("RGB", (cols * cell_w, rows * cell_h), color=color)
    for index, image in enumerate(images):
        x = index % cols * cell_w + (cell_w - image.width) // 2
        y = index // cols * cell_h + (cell_h - image.height) // 2
        grid.paste(image if image.mode == "RGB" else image.convert("RGB"), (x, y))
    return grid
