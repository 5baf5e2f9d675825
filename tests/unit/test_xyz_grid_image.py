"""The X/Y/Z grid picture: X columns, Y rows, a sub-grid per Z value, margins, blank failed cells, legends in
Noto Sans CJK that wrap (English and Chinese) and never overlap each other or the cells nor leave the picture
(measured from the drawn text boxes), struck-through inactive labels, and the size limit."""

from __future__ import annotations

import itertools

import pytest
from PIL import Image, ImageChops, ImageDraw

from modules.errors import InvalidParams
from modules.fonts import legend_font
from modules.xyz.grid_image import (
    INACTIVE,
    GridLegend,
    Label,
    check_grid_size,
    draw_xyz_grid,
    grid_layout,
    grid_pixels,
)

LONG_EN = ("Prompt S/R: a photograph of an extraordinarily detailed mountain landscape at sunrise with "
           "mist rolling over pine forests and a frozen lake, cinematic lighting, 8k, masterpiece")
LONG_ZH = "提示词：一只在雪地里奔跑的红色狐狸，背景是高山和松树，清晨的阳光穿过薄雾，电影感光线，超高清细节"
WORD = "Supercalifragilisticexpialidocious" * 3  # one word wider than a cell


def _cells(count: int, size: tuple[int, int] = (64, 64)) -> list[Image.Image]:
    return [Image.new("RGB", size, (40 + 10 * i % 200, 90, 160)) for i in range(count)]


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_font_is_noto_sans_cjk_regular_and_draws_chinese() -> None:
    font = legend_font(24)
    assert font.getname() == ("Noto Sans CJK SC", "Regular")

    def drawn(text: str) -> Image.Image:
        image = Image.new("L", (40, 40), 0)
        ImageDraw.Draw(image).text((4, 2), text, font=font, fill=255)
        return image

    fox, dog = drawn("狐"), drawn("狗")
    assert fox.getbbox() is not None and ImageChops.difference(fox, dog).getbbox() is not None, "real glyphs, no tofu"


@pytest.mark.parametrize("margin", [0, 6])
def test_legends_wrap_and_never_overlap_or_leave_the_picture(margin: int) -> None:
    nx, ny, nz = 3, 2, 2
    legend = GridLegend(x=["Steps: 10", LONG_ZH, LONG_EN], y=[WORD, LONG_ZH], z=["Checkpoint name: a.safetensors",
                                                                                LONG_EN])
    layout = grid_layout(64, 64, nx, ny, nz, legend, margin)
    cells = [(x, y, x + 64, y + 64) for x, y in layout.cells]
    boxes = []
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for line in layout.lines:
        box = measure.textbbox((line.x, line.y), line.text, font=legend_font(line.size))
        assert 0 <= box[0] and 0 <= box[1] and box[2] <= layout.width and box[3] <= layout.height, line
        lb = line.box
        assert lb[0] <= box[0] and lb[1] <= box[1] and box[2] <= lb[2] and box[3] <= lb[3], f"{line} overflows {box}"
        assert not any(_overlap(box, cell) for cell in cells), f"{line.text!r} covers a cell"
        boxes.append(box)
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b), f"text boxes {a} and {b} overlap"
    texts = "".join(line.text for line in layout.lines)
    for label in (LONG_ZH, LONG_EN.replace(" ", ""), WORD):
        assert label.replace(" ", "") in texts.replace(" ", ""), "nothing cut: every character is drawn"
    assert len({line.y for line in layout.lines if line.text[0] in LONG_ZH}) > 3, "the Chinese label wraps"
    assert min(line.size for line in layout.lines) >= 10


def test_cells_are_laid_out_x_columns_y_rows_one_sub_grid_per_z() -> None:
    nx, ny, nz, margin = 3, 2, 2, 5
    cells = _cells(nx * ny * nz)
    cells[4] = None  # a failed cell
    main, subs = draw_xyz_grid(cells, nx, ny, nz, GridLegend(["x1", "x2", "x3"], ["y1", "y2"], ["z1", "z2"]), margin)
    layout = grid_layout(64, 64, nx, ny, nz, GridLegend(["x1", "x2", "x3"], ["y1", "y2"], ["z1", "z2"]), margin)
    assert main.size == (layout.width, layout.height) and len(subs) == nz
    for index, (x, y) in enumerate(layout.cells):
        drawn = main.crop((x, y, x + 64, y + 64))
        expected = cells[index] or Image.new("RGB", (64, 64), "white")
        assert ImageChops.difference(drawn, expected).getbbox() is None, f"cell {index} drawn over or misplaced"
    (x0, y0), (x1, _), (_, y3) = layout.cells[0], layout.cells[1], layout.cells[3]
    assert x1 - x0 == 64 + margin and y3 - y0 == 64 + margin, "X along a row, Y down, margin between"
    assert layout.cells[6][0] > layout.cells[5][0] and layout.cells[6][1] == y0, "Z: the next sub-grid to the right"
    sub_w, sub_h = layout.sub_size
    for (ox, oy), sub in zip(layout.sub_origins, subs, strict=True):
        assert sub.size == (sub_w, sub_h)
        assert ImageChops.difference(sub, main.crop((ox, oy, ox + sub_w, oy + sub_h))).getbbox() is None


def test_without_legend_the_grid_is_only_cells() -> None:
    main, subs = draw_xyz_grid(_cells(6, (64, 96)), 3, 2, 1, None, margin=0)
    assert main.size == (192, 192) and subs[0].size == main.size
    empty = GridLegend(["", ""], ["", "", ""], [""])
    assert grid_pixels(64, 64, 2, 3, 1, empty, 0) == 128 * 192, "a Nothing axis draws no legend room"


def test_inactive_labels_are_grey_and_struck_through() -> None:
    legend = GridLegend([(Label("red fox"), Label("in snow", active=False))], [""], [""])
    main, _ = draw_xyz_grid(_cells(1, (128, 128)), 1, 1, 1, legend)
    layout = grid_layout(128, 128, 1, 1, 1, legend, 0)
    off = next(line for line in layout.lines if not line.active)
    font = legend_font(off.size)
    ascent, _ = font.getmetrics()
    width = int(font.getlength(off.text))
    row = [main.getpixel((x, off.y + ascent - off.size // 3)) for x in range(off.x, off.x + width)]
    assert sum(pixel == INACTIVE for pixel in row) > 0.8 * width, "a grey line through the whole text"
    on = next(line for line in layout.lines if line.active)
    box = (on.x, on.y, on.x + int(legend_font(on.size).getlength(on.text)), on.y + on.size + 6)
    assert (0, 0, 0) in set(main.crop(box).getdata()), "active text is black"


def test_a_grid_over_the_limit_is_refused_up_front() -> None:
    check_grid_size(512, 512, 10, 10, 1, None, 0)  # 26 MP: fine
    with pytest.raises(InvalidParams, match=r"The grid would be 51200x51200 pixels \(2621 megapixels\); the limit is "
                                            r"200 megapixels"):
        check_grid_size(512, 512, 100, 100, 1, GridLegend(["x"] * 100, ["y"] * 100, [""]), 0)
    with pytest.raises(InvalidParams, match="the limit is 10 megapixels"):
        check_grid_size(1024, 1024, 3, 3, 2, None, 0, limit_mp=10)
    with pytest.raises(ValueError, match="5 cells for a 2x2x1 grid"):
        draw_xyz_grid(_cells(5), 2, 2, 1, None)
