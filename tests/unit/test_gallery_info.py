"""The gallery items of a result: the saved files (grid first), or the images themselves when some were not
saved, so every item keeps its own infotext (an X/Y/Z plot whose grid was not saved included)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from modules.generation.pipeline import GenerationResult
from modules.ui.generation_stream import gallery_info


def _images(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (8, 8), (i, i, i)) for i in range(count)]


def test_saved_images_are_listed_by_file_with_the_grid_first() -> None:
    result = GenerationResult(images=_images(2), paths=[Path("a.png"), Path("b.png")], seeds=[1, 2],
                              infotexts=["one", "two"], grid_path=Path("grid.png"))
    items, info = gallery_info(result)
    assert items == ["grid.png", "a.png", "b.png"]
    assert info == {"infotexts": ["one", "one", "two"], "seeds": [1, 1, 2], "paths": items, "grid": True}


def test_unsaved_images_are_shown_and_keep_their_own_infotexts() -> None:
    # a plot's result: grid + 2 cells, the cells saved but not the grid
    images = _images(3)
    result = GenerationResult(images=images, paths=[Path("c1.png"), Path("c2.png")], seeds=[5, 5, 6],
                              infotexts=["grid", "cell 1", "cell 2"])
    items, info = gallery_info(result)
    assert items == images
    assert info["infotexts"] == ["grid", "cell 1", "cell 2"] and info["paths"] == [None, None, None]
    assert info["grid"] is False
