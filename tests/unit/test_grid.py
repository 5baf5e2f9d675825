"""Batch grid layout (A1111 image_grid with n_rows = -1)."""

from __future__ import annotations

import pytest
from PIL import Image

from modules.generation.grid import grid_shape, make_grid

W, H = 32, 24
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
          (10, 20, 30), (40, 50, 60), (70, 80, 90)]


def tiles(n: int, size: tuple[int, int] = (W, H)) -> list[Image.Image]:
    return [Image.new("RGB", size, COLORS[i % len(COLORS)]) for i in range(n)]


# rows = round(sqrt(n)), cols = ceil(n / rows)
EXPECTED = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 2), 5: (2, 3), 6: (2, 3), 7: (3, 3), 8: (3, 3), 9: (3, 3)}


@pytest.mark.parametrize("n", range(1, 10))
def test_grid_sizes_for_1_to_9(n: int) -> None:
    rows, cols = EXPECTED[n]
    assert grid_shape(n) == (rows, cols)
    grid = make_grid(tiles(n))
    assert grid.size == (cols * W, rows * H)
    assert grid.mode == "RGB"


@pytest.mark.parametrize("n", range(1, 10))
def test_cells_in_row_major_order(n: int) -> None:
    rows, cols = EXPECTED[n]
    grid = make_grid(tiles(n))
    for i in range(n):
        x, y = i % cols * W + W // 2, i // cols * H + H // 2
        assert grid.getpixel((x, y)) == COLORS[i]


def test_missing_cells_are_background() -> None:
    grid = make_grid(tiles(5))  # 2x3, last cell empty
    assert grid.getpixel((2 * W + 3, H + 3)) == (255, 255, 255)
    black = make_grid(tiles(5), background="#000000")
    assert black.getpixel((2 * W + 3, H + 3)) == (0, 0, 0)
    assert make_grid(tiles(3), background=(1, 2, 3)).getpixel((W + 1, H + 1)) == (1, 2, 3)


def test_explicit_rows() -> None:
    assert make_grid(tiles(6), rows=1).size == (6 * W, H)
    assert make_grid(tiles(6), rows=3).size == (2 * W, 3 * H)
    assert make_grid(tiles(3), rows=10).size == (W, 3 * H)  # rows capped at n


def test_prevent_empty_spots() -> None:
    assert grid_shape(5, prevent_empty_spots=True) == (1, 5)
    assert grid_shape(6, prevent_empty_spots=True) == (2, 3)
    assert grid_shape(8, prevent_empty_spots=True) == (2, 4)
    assert grid_shape(9, prevent_empty_spots=True) == (3, 3)


def test_cell_is_largest_image_and_smaller_centred() -> None:
    big = Image.new("RGB", (40, 40), (255, 0, 0))
    small = Image.new("RGB", (20, 10), (0, 0, 255))
    grid = make_grid([big, small])
    assert grid.size == (80, 40)
    assert grid.getpixel((40 + 10 + 1, 15 + 1)) == (0, 0, 255)
    assert grid.getpixel((40 + 2, 2)) == (255, 255, 255)


def test_non_rgb_images_converted() -> None:
    grid = make_grid([Image.new("RGBA", (8, 8), (9, 8, 7, 255)), Image.new("L", (8, 8), 100)])
    assert grid.getpixel((2, 2)) == (9, 8, 7)
    assert grid.getpixel((10, 2)) == (100, 100, 100)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one image"):
        make_grid([])
    with pytest.raises(ValueError, match="rows must be at least 1"):
        make_grid(tiles(2), rows=0)
