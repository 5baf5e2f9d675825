"""Read a shapes image back without a neural network: background colour, and the main (largest) shape's
colour, position, size and kind.

1. background: the most common named colour among the border pixels;
2. foreground: pixels far from the background's measured colour; the largest connected piece is the
   main shape and its colour is the named colour nearest to its median pixel;
3. the piece is re-cut as "closer to the shape's colour than to the background's" so anti-aliased
   edges count half, then position comes from its bounding-box centre and size from its area;
4. kind: the shape's soft coverage (0 on the background's colour, 1 on the shape's, in between on its
   edges) goes to modules.demo.shape_kind.read_kind, which compares its radius-by-angle profile with an
   ideal circle, square and triangle and checks roundness, corners and convexity: a blob that is not
   clearly one of them (four-lobed, a very rounded square) is "other", which never counts as right.
   (Until issue 28 the kind was the best of three bounding-box templates by IoU, which called any
   roundish blob a circle: 96.8% "right" on the benchmark where the eye saw about half.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.demo.shape_kind import read_kind
from modules.demo.shapes import ANCHORS, COLOURS, Scene, Shape

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

SPLIT_LOW = (ANCHORS["left"][0] + ANCHORS["centre"][0]) / 2  # between the left and centre anchors
SPLIT_HIGH = 1 - SPLIT_LOW
LARGE_AREA = 0.045  # area fraction between the largest small shape and the smallest large one
FOREGROUND_DISTANCE = 60.0  # RGB distance from the background that marks a pixel as foreground
MIN_AREA = 0.002  # a main shape smaller than this counts as no shape


@dataclass(frozen=True)
class Analysis:
    background: str
    shape: Shape | None  # None when the image shows no shape
    area: float = 0.0  # fraction of the image the main shape covers
    centre: tuple[float, float] = (0.5, 0.5)  # bounding-box centre, fractions of width and height
    fit: float = 0.0  # 1 - the read kind's radius-profile error (1.0: a perfect shape; 0.0: kind "other")

    def matches(self, scene: Scene) -> dict[str, bool | None]:
        """Per attribute of scene.main (and the background): whether this image shows it; None where
        the scene leaves the attribute open."""
        want = scene.main
        got = self.shape
        return {
            "background": None if scene.background is None else self.background == scene.background,
            "colour": None if not want.colour else got is not None and got.colour == want.colour,
            "position": None if want.position is None else got is not None and got.position == want.position,
            "size": None if want.size is None else got is not None and got.size == want.size,
            "kind": got is not None and got.kind == want.kind,
        }


def _palette() -> tuple[list[str], np.ndarray]:
    import numpy as np

    return list(COLOURS), np.array(list(COLOURS.values()), dtype=np.float32)


def nearest_colour(rgb: np.ndarray) -> np.ndarray:
    """Index into COLOURS of the nearest named colour for each [..., 3] RGB value."""
    import numpy as np

    _, palette = _palette()
    d = ((rgb[..., None, :].astype(np.float32) - palette) ** 2).sum(-1)
    return d.argmin(-1)


def _border(pixels: np.ndarray, width: int = 2) -> np.ndarray:
    import numpy as np

    return np.concatenate([pixels[:width].reshape(-1, 3), pixels[-width:].reshape(-1, 3),
                           pixels[:, :width].reshape(-1, 3), pixels[:, -width:].reshape(-1, 3)])


def position_name(x: float, y: float) -> str:
    horizontal = "left" if x < SPLIT_LOW else "right" if x > SPLIT_HIGH else ""
    vertical = "top" if y < SPLIT_LOW else "bottom" if y > SPLIT_HIGH else ""
    return " ".join(p for p in (vertical, horizontal) if p) or "centre"


def analyze(image: Image.Image) -> Analysis:
    import numpy as np
    from scipy import ndimage

    names, _ = _palette()
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w, _ = pixels.shape
    border = _border(pixels)
    border_names = nearest_colour(border)
    bg_index = int(np.bincount(border_names, minlength=len(names)).argmax())
    bg_rgb = np.median(border[border_names == bg_index], axis=0)

    far = np.sqrt(((pixels - bg_rgb) ** 2).sum(-1)) > FOREGROUND_DISTANCE
    labels, count = ndimage.label(far)
    if count == 0:
        return Analysis(names[bg_index], None)
    sizes = np.bincount(labels.ravel())[1:]
    main = labels == int(sizes.argmax()) + 1
    core = ndimage.binary_erosion(main) if main.sum() > 30 else main
    shape_rgb = np.median(pixels[core if core.any() else main], axis=0)
    colour = names[int(nearest_colour(shape_rgb))]

    # re-cut around the piece: a pixel belongs to the shape when it is closer to the shape's colour
    ys, xs = np.nonzero(main)
    y0, y1 = max(0, ys.min() - 2), min(h, ys.max() + 3)
    x0, x1 = max(0, xs.min() - 2), min(w, xs.max() + 3)
    crop = pixels[y0:y1, x0:x1]
    near_shape = ((crop - shape_rgb) ** 2).sum(-1) < ((crop - bg_rgb) ** 2).sum(-1)
    near_shape &= ndimage.binary_dilation(main[y0:y1, x0:x1], iterations=2)
    if not near_shape.any():
        near_shape = main[y0:y1, x0:x1]
    ys, xs = np.nonzero(near_shape)
    mask = near_shape[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    area = float(mask.sum()) / (h * w)
    if area < MIN_AREA:
        return Analysis(names[bg_index], None, area)
    cx = (x0 + (xs.min() + xs.max() + 1) / 2) / w
    cy = (y0 + (ys.min() + ys.max() + 1) / 2) / h
    shape_axis = shape_rgb - bg_rgb
    coverage = ((crop - bg_rgb) @ shape_axis) / max(float(shape_axis @ shape_axis), 1e-6)
    coverage = np.clip(coverage, 0.0, 1.0) * ndimage.binary_dilation(main[y0:y1, x0:x1], iterations=2)
    reading = read_kind(coverage)
    kind, fit = reading.kind, reading.fit
    size = "large" if area > LARGE_AREA else "small"
    return Analysis(names[bg_index], Shape(kind, colour, position_name(cx, cy), size), area, (cx, cy), fit)
