"""The X/Y/Z plot: axis values (values.py), axis types (axes.py), the grid picture (grid_image.py) and the
script that runs it (plot.py and its helpers). Importing the package loads nothing heavy.

    from modules.xyz import parse_axis_values
    parse_axis_values("Steps", "1-5 (+2)")   # [1, 3, 5]
"""

from modules.xyz.values import parse_axis_values, parse_values

__all__ = ["parse_axis_values", "parse_values"]
