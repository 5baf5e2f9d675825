"""Reading a shape's kind (circle, square, triangle or "other") the way the eye does, from its coverage map.

The input is a soft coverage map (0: background, 1: shape; anti-aliased edges in between) of one shape.
From the coverage-weighted centroid, the shape's radius is measured at ANGLES directions (the coverage
integrated along each ray, which is sub-pixel exact for a shape that every ray leaves once). That
radius-by-angle profile is compared with the profile of each ideal kind, drawn as shapes.render draws
it (an axis-aligned square, an apex-up triangle 1.1 wide for 1 high, a circle), scaled to fit: the
relative RMS difference is the kind's `error`. Three shape measures back the profile up:

- solidity: the profile polygon's area over its convex hull's area. Circles, squares and triangles are
  convex (about 1.0); a four-lobed blob is concave between its lobes;
- fill: the profile polygon's area over its bounding box's area (square 1.0, circle 0.785, triangle 0.5);
- lobes: local maxima of the (lightly smoothed) profile that stand out by more than LOBE_PROMINENCE of
  the mean radius. A circle has none (up to 2: noise, or an oval), a square 4 at its corners, a triangle 3.

A kind is read only when its profile error is small and the measures agree with it; anything else
(a four-lobed blob, a very rounded square, noise) is "other", which never matches a prompt's kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ANGLES = 72  # directions of the radius profile
OTHER = "other"
LOBE_PROMINENCE = 0.06  # a lobe stands out by this share of the mean radius ...
LOBE_PIXELS = 0.6  # ... and by at least this many pixels (a small shape's pixel steps are no lobes)
# Limits per kind, set on drawn shapes and on the demo model's 40-image sheet (docs/images/demo-40.png):
# the model draws triangles with concave sides, which the eye still reads as triangles (solidity 0.79-0.97),
# while a square must have straight sides (a four-pointed star or pincushion is not clearly a square).
MAX_ERROR = MappingProxyType({"circle": 0.08, "square": 0.085, "triangle": 0.16})  # relative RMS profile error
MIN_SOLIDITY = MappingProxyType({"circle": 0.97, "square": 0.90, "triangle": 0.78})
FILL = MappingProxyType({"circle": (0.70, 0.86), "square": (0.82, 1.01), "triangle": (0.40, 0.66)})
LOBES = MappingProxyType({"circle": (0, 2), "square": (4, 4), "triangle": (3, 3)})  # allowed lobe counts
MIN_PIXELS = 12.0  # a coverage sum below this is too small to have a kind


@dataclass(frozen=True)
class KindReading:
    """The kind read from a coverage map and the measures behind it."""

    kind: str  # "circle", "square", "triangle" or OTHER
    errors: dict[str, float]  # relative RMS difference of the radius profile from each ideal kind's
    solidity: float  # area / convex-hull area of the profile polygon
    fill: float  # area / bounding-box area
    lobes: int  # outstanding maxima of the radius profile

    @property
    def fit(self) -> float:
        """1 - the read kind's profile error (1.0: a perfect shape; 0.0 for OTHER)."""
        return 0.0 if self.kind == OTHER else max(0.0, 1.0 - self.errors[self.kind])


def _polygon_profile(vertices: list[tuple[float, float]], theta: np.ndarray) -> np.ndarray:
    """Distance from the polygon's area centroid to its edge in each direction theta (image axes, y down)."""
    import numpy as np

    v = np.array(vertices, dtype=np.float64)
    x, y = v[:, 0], v[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2
    v = v - [((x + xn) * cross).sum() / (6 * area), ((y + yn) * cross).sum() / (6 * area)]
    d = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    best = np.full(len(theta), np.inf)
    for a, b in zip(v, np.roll(v, -1, axis=0), strict=True):
        e = b - a
        # a + s*e = t*d  ->  solve for t (ray length) and s (position on the edge)
        det = d[:, 0] * (-e[1]) - d[:, 1] * (-e[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (a[0] * (-e[1]) - a[1] * (-e[0])) / det
            s = (d[:, 0] * a[1] - d[:, 1] * a[0]) / det
        ok = (np.abs(det) > 1e-12) & (t > 0) & (s >= -1e-9) & (s <= 1 + 1e-9)
        best = np.where(ok & (t < best), t, best)
    return best


def ideal_profiles(theta: np.ndarray) -> dict[str, np.ndarray]:
    """Unit-scale radius profiles of the kinds shapes.render draws, about their area centroids."""
    import numpy as np

    return {
        "circle": np.ones_like(theta),
        "square": _polygon_profile([(-1, -1), (1, -1), (1, 1), (-1, 1)], theta),
        "triangle": _polygon_profile([(0, -1), (1.1, 1), (-1.1, 1)], theta),
    }


def radius_profile(coverage: np.ndarray, angles: int = ANGLES) -> tuple[np.ndarray, np.ndarray, float]:
    """(theta, radius in pixels per direction, area in pixels) of a coverage map, about its centroid."""
    import numpy as np
    from scipy import ndimage

    cov = np.clip(coverage.astype(np.float64), 0.0, 1.0)
    area = float(cov.sum())
    h, w = cov.shape
    ys, xs = np.mgrid[0:h, 0:w]
    cy, cx = float((ys * cov).sum() / area), float((xs * cov).sum() / area)
    theta = np.arange(angles) * (2 * math.pi / angles)
    step = 0.25
    reach = math.hypot(h, w)
    r = np.arange(step / 2, reach, step)
    py = cy + np.sin(theta)[:, None] * r[None, :]
    px = cx + np.cos(theta)[:, None] * r[None, :]
    samples = ndimage.map_coordinates(cov, [py.ravel(), px.ravel()], order=1, mode="constant", cval=0.0)
    return theta, samples.reshape(angles, -1).sum(axis=1) * step, area


def _solidity_and_fill(theta: np.ndarray, radius: np.ndarray) -> tuple[float, float]:
    """(area / convex-hull area, area / bounding-box area) of the polygon a radius profile traces."""
    import numpy as np
    from scipy.spatial import ConvexHull, QhullError

    points = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    x, y = points[:, 0], points[:, 1]
    area = abs(float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())) / 2
    box = float((x.max() - x.min()) * (y.max() - y.min()))
    try:
        hull = float(ConvexHull(points).volume)
    except (QhullError, ValueError):
        return 0.0, 0.0
    return (area / hull if hull > 0 else 0.0), (area / box if box > 0 else 0.0)


def count_lobes(radius: np.ndarray, prominence: float = LOBE_PROMINENCE) -> int:
    """Local maxima of a circular radius profile that rise above both neighbouring minima by more than
    prominence x the mean radius and LOBE_PIXELS pixels (after a 3-tap circular smoothing)."""
    import numpy as np

    r = (np.roll(radius, 1) + radius + np.roll(radius, -1)) / 3
    limit = max(prominence * float(r.mean()), LOBE_PIXELS)
    n = len(r)
    lobes = 0
    for i in range(n):
        if not (r[i] > r[i - 1] and r[i] >= r[(i + 1) % n]):
            continue
        # walk both ways to the lowest point before a higher value
        drops = []
        for direction in (1, -1):
            low, j = r[i], i
            for _ in range(n - 1):
                j = (j + direction) % n
                if r[j] > r[i]:
                    break
                low = min(low, r[j])
            drops.append(r[i] - low)
        if min(drops) > limit:
            lobes += 1
    return lobes


def read_kind(coverage: np.ndarray) -> KindReading:
    """The kind of the one shape in a coverage map (values 0..1), or OTHER when it is not clearly one."""
    import numpy as np

    if float(np.clip(coverage, 0, 1).sum()) < MIN_PIXELS:
        return KindReading(OTHER, {}, 0.0, 0.0, 0)
    theta, radius, _area = radius_profile(coverage)
    errors = {}
    for kind, model in ideal_profiles(theta).items():
        scale = float((radius * model).sum() / (model * model).sum())
        errors[kind] = float(np.sqrt(((radius - scale * model) ** 2).mean()) / radius.mean())
    solidity, fill = _solidity_and_fill(theta, radius)
    lobes = count_lobes(radius)
    best = min(errors, key=errors.__getitem__)  # only the best-fitting kind is a candidate
    clear = (errors[best] <= MAX_ERROR[best] and solidity >= MIN_SOLIDITY[best]
             and FILL[best][0] <= fill <= FILL[best][1] and LOBES[best][0] <= lobes <= LOBES[best][1])
    return KindReading(best if clear else OTHER, errors, solidity, fill, lobes)
