"""The picture of an X/Y/Z plot (and of the Prompt matrix): cells in a grid with their legends.

    main, subs = draw_xyz_grid(cells, nx, ny, nz, GridLegend(x=["Steps: 10", "Steps: 20"], y=[""], z=[""]))

One sub-grid per Z value: X values are columns, Y values rows (cell ix + iy*nx + iz*nx*ny; None is a
blank cell). X legends go above the columns, Y legends in a column on the left (3/4 of a cell wide, as
A1111), Z legends as titles above each sub-grid; the sub-grids stand side by side in the main grid (with
one Z value and no Z legend the main grid is the sub-grid). `margin` pixels separate cells and sub-grids.

Legends are drawn with Noto Sans CJK (modules/fonts.py) at (cell width + cell height) / 25 px (A1111's
size, at least MIN_FONT), wrapped to their box (between words, or between characters for Chinese and
words wider than the box), shrunk down to SMALLEST_FONT when they would be taller than the cell; what
is still taller makes its header or row taller, so no text is ever cut or overlaps. A legend longer than
MAX_LEGEND_CHARS is shortened with an ellipsis. A legend entry is a str, or a tuple of Labels drawn one
under another, those with active=False grey and struck through (the Prompt matrix's parts that are off).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image, ImageFont

MIN_FONT = 12
SMALLEST_FONT = 10
MAX_LEGEND_CHARS = 400
MAX_GRID_MP = 200
ACTIVE, INACTIVE = (0, 0, 0), (153, 153, 153)


@dataclass(frozen=True)
class Label:
    """One piece of a legend entry: inactive pieces are drawn grey and struck through."""

    text: str
    active: bool = True


Entry = str | tuple[Label, ...]


@dataclass(frozen=True)
class GridLegend:
    """The legend of each X, Y and Z value ("" for none: a Nothing axis)."""

    x: Sequence[Entry]
    y: Sequence[Entry]
    z: Sequence[Entry]


@dataclass(frozen=True)
class TextLine:
    """One line of legend text where it is drawn: (x, y) is the top left of its line box."""

    x: int
    y: int
    text: str
    size: int
    active: bool
    box: tuple[int, int, int, int]  # the legend box it belongs to (left, top, right, bottom)


@dataclass(frozen=True)
class Layout:
    """Where everything of the main grid goes: its size, each cell's top left (by cell index), the text."""

    width: int
    height: int
    cells: list[tuple[int, int]]
    lines: list[TextLine]
    sub_size: tuple[int, int]  # one sub-grid's size
    sub_origins: list[tuple[int, int]]  # each sub-grid's top left in the main grid


@dataclass(frozen=True)
class _Block:
    lines: list[tuple[str, bool]]  # (text, active)
    size: int
    line_height: int

    @property
    def height(self) -> int:
        return len(self.lines) * self.line_height


def _pieces(entry: Entry) -> list[Label]:
    labels = [Label(entry)] if isinstance(entry, str) else list(entry)
    return [Label(_shortened(p.text), p.active) for p in labels if p.text.strip()]


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_LEGEND_CHARS else text[: MAX_LEGEND_CHARS - 1] + "\u2026"


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """text in lines no wider than width: broken between words, else between characters (Chinese, a word
    wider than a line). Lines are filled by the characters' advances, then measured whole; a paragraph
    whose measured line is too wide (kerning) is wrapped again the exact, slower way."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        fast = _wrap_by_advances(paragraph, font, width)
        lines += fast if all(font.getlength(line) <= width for line in fast) else _wrap_exact(paragraph, font, width)
    return [line for line in lines if line.strip()] or [""]


def _wrap_by_advances(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    advance = {ch: font.getlength(ch) for ch in set(paragraph)}
    lines: list[str] = []
    current, used = "", 0.0
    for ch in paragraph:
        if used + advance[ch] > width and current.strip() and ch != " ":
            space = current.rfind(" ")
            if space > 0 and current[:space].strip():  # break after the last word that fits
                lines.append(current[:space].rstrip())
                current = current[space + 1:]
            else:  # one word (or Chinese text) wider than the line: break between characters
                lines.append(current.rstrip())
                current = ""
            current = current.lstrip()
            used = sum(advance[c] for c in current)
        if ch == " " and not current:
            continue
        current += ch
        used += advance[ch]
    lines.append(current.rstrip())
    return lines


def _wrap_exact(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in paragraph.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if font.getlength(word) <= width:  # it fits a line of its own
            if current:
                lines.append(current)
            current = word
            continue
        rest = word  # wider than a line: fill this line, then whole lines, character by character
        prefix = f"{current} " if current else ""
        while rest:
            n = _fitting(prefix, rest, font, width)
            if n == 0:
                lines.append(prefix.rstrip())
                prefix = ""
                continue
            if n == len(rest):
                break
            lines.append(prefix + rest[:n])
            prefix, rest = "", rest[n:]
        current = prefix + rest
    lines.append(current)
    return lines


def _fitting(prefix: str, word: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    """How many characters of word fit after prefix on a line (at least 1 on an empty line)."""
    low, high = 0, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(prefix + word[:mid]) <= width:
            low = mid
        else:
            high = mid - 1
    return max(low, 1) if not prefix.strip() else low


@functools.lru_cache(maxsize=4096)  # pure: a plot lays its legends out twice (size check, drawing)
def _block(entry: Entry, width: int, max_height: int, size: int) -> _Block:
    """entry wrapped to width at size, shrunk (down to SMALLEST_FONT) while taller than max_height."""
    from modules.fonts import legend_font

    pieces = _pieces(entry)
    while True:
        font = legend_font(size)
        ascent, descent = font.getmetrics()
        lines = [(line, p.active) for p in pieces for line in wrap(p.text, font, max(width, 1))]
        block = _Block(lines, size, ascent + descent + max(1, size // 8))
        if block.height <= max_height or size <= SMALLEST_FONT:
            return block
        # the text's area goes with the square of the size: aim at once, then keep shrinking a little
        aim = int(size * min(0.9, max(0.5, (max_height / block.height) ** 0.5)))
        size = max(SMALLEST_FONT, aim)


def _hashable(entry: Entry | Sequence[Label] | None) -> Entry:
    if entry is None:
        return ""
    return entry if isinstance(entry, str) else tuple(entry)


def font_size(cell_w: int, cell_h: int) -> int:
    return max(MIN_FONT, (cell_w + cell_h) // 25)


def grid_layout(cell_w: int, cell_h: int, nx: int, ny: int, nz: int, legend: GridLegend | None,
                margin: int = 0) -> Layout:
    """The main grid's layout (see the module doc)."""
    size = font_size(cell_w, cell_h)
    pad = max(2, size // 3)
    margin = max(0, int(margin))
    x_height = max(cell_h // 2, 5 * size)  # taller X legends shrink; the header grows for what still does not fit
    xs = [_block(_hashable(e), cell_w - 2 * pad, x_height, size) for e in (legend.x if legend else [])]
    ys = [_block(_hashable(e), 3 * cell_w // 4 - 2 * pad, cell_h - 2 * pad, size) for e in (legend.y if legend else [])]
    header_h = max((b.height + 2 * pad for b in xs if _drawn(b)), default=0)
    left_w = 3 * cell_w // 4 if any(_drawn(b) for b in ys) else 0
    row_h = [max(cell_h, ys[iy].height + 2 * pad if iy < len(ys) and _drawn(ys[iy]) else 0) for iy in range(ny)]
    sub_w = left_w + nx * cell_w + (nx - 1) * margin
    sub_h = header_h + sum(row_h) + (ny - 1) * margin
    zs = [_block(_hashable(e), sub_w - 2 * pad, sub_h, size) for e in (legend.z if legend else [])]
    title_h = max((b.height + 2 * pad for b in zs if _drawn(b)), default=0)
    width = nz * sub_w + (nz - 1) * margin
    height = title_h + sub_h
    cells: list[tuple[int, int]] = [(0, 0)] * (nx * ny * nz)
    lines: list[TextLine] = []
    origins = []
    for iz in range(nz):
        ox, oy = iz * (sub_w + margin), title_h
        origins.append((ox, oy))
        if iz < len(zs):
            lines += _place(zs[iz], (ox, 0, ox + sub_w, title_h), pad)
        for ix in range(nx):
            left = ox + left_w + ix * (cell_w + margin)
            if ix < len(xs):
                lines += _place(xs[ix], (left, oy, left + cell_w, oy + header_h), pad)
        top = oy + header_h
        for iy in range(ny):
            if iy < len(ys):
                lines += _place(ys[iy], (ox, top, ox + left_w, top + row_h[iy]), pad)
            for ix in range(nx):
                left = ox + left_w + ix * (cell_w + margin)
                cells[ix + iy * nx + iz * nx * ny] = (left, top + (row_h[iy] - cell_h) // 2)
            top += row_h[iy] + margin
    return Layout(width, height, cells, lines, (sub_w, sub_h), origins)


def _drawn(block: _Block) -> bool:
    return any(text.strip() for text, _active in block.lines)


def _place(block: _Block, box: tuple[int, int, int, int], pad: int) -> list[TextLine]:
    """The lines of block centred in box."""
    from modules.fonts import legend_font

    if not _drawn(block) or box[2] <= box[0] or box[3] <= box[1]:
        return []
    font = legend_font(block.size)
    y = box[1] + max(pad, (box[3] - box[1] - block.height) // 2)
    placed = []
    for text, active in block.lines:
        x = box[0] + max(pad, int((box[2] - box[0] - font.getlength(text)) // 2))
        placed.append(TextLine(x, y, text, block.size, active, box))
        y += block.line_height
    return placed


def grid_pixels(cell_w: int, cell_h: int, nx: int, ny: int, nz: int, legend: GridLegend | None,
                margin: int = 0) -> int:
    """The main grid's pixel count (legends and margins included)."""
    layout = grid_layout(cell_w, cell_h, nx, ny, nz, legend, margin)
    return layout.width * layout.height


def check_grid_size(cell_w: int, cell_h: int, nx: int, ny: int, nz: int, legend: GridLegend | None,
                    margin: int = 0, limit_mp: float = MAX_GRID_MP) -> None:
    """InvalidParams with the size when the main grid would be over limit_mp megapixels (cells alone are
    counted first, so an absurd plot is refused without laying out its legends)."""
    bare = (nx * cell_w + (nx - 1) * margin) * nz * (ny * cell_h + (ny - 1) * margin)
    if bare > limit_mp * 1_000_000:
        width, height = nz * nx * cell_w, ny * cell_h
    else:
        layout = grid_layout(cell_w, cell_h, nx, ny, nz, legend, margin)
        width, height = layout.width, layout.height
    if width * height > limit_mp * 1_000_000:
        raise InvalidParams(msg("xyz_grid_too_large", width=width, height=height, mp=width * height / 1e6,
                                limit=limit_mp))


def draw_xyz_grid(cells: list[Image.Image | None], nx: int, ny: int, nz: int, legend: GridLegend | None,
                  margin: int = 0, background: str = "#ffffff") -> tuple[Image.Image, list[Image.Image]]:
    """(the main grid, one sub-grid per Z value); cells in index order ix + iy*nx + iz*nx*ny, None blank.
    The cell size is the largest cell's; smaller cells are centred in theirs."""
    from PIL import Image, ImageColor, ImageDraw

    from modules.fonts import legend_font

    if len(cells) != nx * ny * nz or not nx or not ny or not nz:
        raise ValueError(f"{len(cells)} cells for a {nx}x{ny}x{nz} grid")
    present = [c for c in cells if c is not None]
    cell_w = max((c.width for c in present), default=64)
    cell_h = max((c.height for c in present), default=64)
    check_grid_size(cell_w, cell_h, nx, ny, nz, legend, margin)
    layout = grid_layout(cell_w, cell_h, nx, ny, nz, legend, margin)
    color = ImageColor.getcolor(background, "RGB")
    grid = Image.new("RGB", (layout.width, layout.height), color=color)
    for cell, (left, top) in zip(cells, layout.cells, strict=True):
        if cell is not None:
            image = cell if cell.mode == "RGB" else cell.convert("RGB")
            grid.paste(image, (left + (cell_w - cell.width) // 2, top + (cell_h - cell.height) // 2))
    draw = ImageDraw.Draw(grid)
    for line in layout.lines:
        font = legend_font(line.size)
        draw.text((line.x, line.y), line.text, font=font, fill=ACTIVE if line.active else INACTIVE)
        if not line.active:
            ascent, _descent = font.getmetrics()
            middle = line.y + ascent - line.size // 3  # through the middle of lower-case letters
            draw.line((line.x, middle, line.x + int(font.getlength(line.text)), middle), fill=INACTIVE,
                      width=max(1, line.size // 12))
    sub_w, sub_h = layout.sub_size
    return grid, [grid.crop((ox, oy, ox + sub_w, oy + sub_h)) for ox, oy in layout.sub_origins]
