"""The font grids and legends are drawn with: Noto Sans CJK SC, Regular weight, which has Latin and Chinese
(Japanese, Korean) glyphs, so a legend in any of them is legible.

    font = legend_font(24)           # a PIL FreeTypeFont, 24 px
    draw.text((x, y), "CFG Scale: 7 / 提示词", font=font, fill="black")

The font file comes with the manimgx-fonts-cjk package (requirements.txt; SIL Open Font License): a
variable font collection (NotoSansCJK-VF.otf.ttc) whose face 2 is Simplified Chinese; a variable font
starts at its lightest weight (Thin), so the Regular instance is picked. A missing package is a UserError
saying how to install it.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import ImageFont

FONT_PACKAGE = "manimgx_fonts_cjk"
FONT_FILE = "NotoSansCJK-VF.otf.ttc"
FACE_SC = 2  # faces: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK
WEIGHT = b"Regular"


def font_path() -> Path:
    """The Noto Sans CJK file; UserError when its package is not installed."""
    try:
        folder = resources.files(FONT_PACKAGE)
    except ModuleNotFoundError:
        raise UserError(msg("fonts_missing")) from None
    path = Path(str(folder / FONT_FILE))
    if not path.is_file():
        raise UserError(msg("fonts_missing"))
    return path


@functools.lru_cache(maxsize=64)
def legend_font(size: int) -> ImageFont.FreeTypeFont:
    """Noto Sans CJK SC Regular at size pixels (loaded once per size; a font is only read after loading)."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path()), max(1, int(size)), index=FACE_SC)
    font.set_variation_by_name(WEIGHT)
    return font
