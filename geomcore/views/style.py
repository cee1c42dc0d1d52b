"""The lecture's look in one place: colours, fonts, stroke widths and font sizes.

Every building block in :mod:`geomcore.views` takes its colours, fonts, stroke widths and
default font sizes from here, so a change of look is a change of this file only.

What it may import: Manim (for ``ManimColor``); nothing else from geomcore.

Units: stroke widths are Manim's (1 = 0.01 scene units wide in the Cairo renderer); font
sizes are Manim's ``font_size`` (48 is Manim's default).
"""

from __future__ import annotations

import manim as mn
import numpy as np

__all__ = [
    "AXIS_LABEL_FONT_SIZE_DROP",
    "BOUNDARY_COLOR",
    "BOUNDARY_STROKE",
    "CAPTION_FONT_SIZE",
    "CHAPTER_CARD_FONT_SIZE",
    "CLASS_COLORS",
    "CURSOR_STROKE",
    "CURVE_STROKE",
    "DECISION_LINE_STROKE",
    "ELLIPSE_COLOR",
    "ELLIPSE_STROKE",
    "FAINT_GRID_STROKE",
    "FOLD_COLOR",
    "FOLD_STROKE",
    "FONT",
    "FRAME_STROKE",
    "GRID_COLOR",
    "GRID_STROKE",
    "LABEL_FONT_SIZE",
    "MONO_FONT",
    "NARRATION_FONT_SIZE",
    "OKABE_ITO",
    "PLOT_FRAME_STROKE",
    "READOUT_FONT_SIZE",
    "REGION_FILL_OPACITY",
    "SMALL_FONT_SIZE",
    "SURFACE_STROKE",
    "TEXT_COLOR",
    "TINY_FONT_SIZE",
    "TITLE_FONT_SIZE",
    "WARNING_COLOR",
    "ZERO_LINE_STROKE",
    "class_colors",
    "classes_of",
]

# -- colours ----------------------------------------------------------------------------------

#: One colour per class, the same in every scene: class 0 (inner ring), class 1 (outer ring).
CLASS_COLORS = {0: mn.ManimColor("#FF9F43"), 1: mn.ManimColor("#48A9E6")}
#: The Okabe–Ito palette ("Color Universal Design", M. Okabe and K. Ito, 2008,
#: https://jfly.uni-koeln.de/color/), readable for viewers with the common colour-vision
#: deficiencies, in its published order. Its black is replaced by white: the lecture's
#: background is dark.
OKABE_ITO = (
    mn.ManimColor("#E69F00"),  # orange
    mn.ManimColor("#56B4E9"),  # sky blue
    mn.ManimColor("#009E73"),  # bluish green
    mn.ManimColor("#F0E442"),  # yellow
    mn.ManimColor("#0072B2"),  # blue
    mn.ManimColor("#D55E00"),  # vermillion
    mn.ManimColor("#CC79A7"),  # reddish purple
    mn.ManimColor("#FFFFFF"),  # white, in place of the palette's black
)
#: Fill opacity of a class's decision region (K > 2 classes): faint, the points stay visible.
REGION_FILL_OPACITY = 0.18


def class_colors(classes: int) -> dict[int, mn.ManimColor]:
    """One colour per class: :data:`CLASS_COLORS` for two classes (the lecture's look stays
    as it is), the first ``classes`` colours of :data:`OKABE_ITO` for 3 to 8.

    Raises
    ------
    ValueError
        If ``classes`` is not from 2 to 8.
    """
    if classes == 2:
        return dict(CLASS_COLORS)
    if not 2 < classes <= len(OKABE_ITO):
        raise ValueError(f"expected 2 to {len(OKABE_ITO)} classes. Received: {classes}")
    return dict(enumerate(OKABE_ITO[:classes]))


def classes_of(labels: np.ndarray) -> int:
    """Number of classes drawn for ``labels`` (shape ``(n,)``, ints 0..K-1): at least 2."""
    return max(2, int(np.max(labels)) + 1) if np.size(labels) else 2


#: The decision boundary, in both planes: stands out against both classes and the grid.
BOUNDARY_COLOR = mn.ManimColor("#FFE66D")
#: Grid lines and frames.
GRID_COLOR = mn.ManimColor("#8A8F98")
#: Text.
TEXT_COLOR = mn.ManimColor("#EDEDED")
#: Warnings on screen (a run that diverged).
WARNING_COLOR = mn.ManimColor("#FF6B6B")
#: Fold curves (where the map to a 2-unit layer stops being locally invertible).
FOLD_COLOR = mn.ManimColor("#E056C1")
#: The unit circle and its image under a kernel.
ELLIPSE_COLOR = mn.ManimColor("#7BE0AD")

# -- fonts ------------------------------------------------------------------------------------

#: Captions, titles and labels (Pango font name).
FONT = "DejaVu Sans"
#: Numbers that change every frame (:class:`~geomcore.views.primitives.GlyphText`).
MONO_FONT = "DejaVu Sans Mono"

# -- stroke widths ----------------------------------------------------------------------------

#: Frames of planes; also the default of a polyline.
FRAME_STROKE = 1.5
#: Frames of plots (loss curve, curve plots).
PLOT_FRAME_STROKE = 1.2
#: A warped grid in a hidden layer.
GRID_STROKE = 1.2
#: The faint grid of the input plane, the cube and grid of a 3-D layer.
FAINT_GRID_STROKE = 1.0
#: The decision line in a 2-unit layer.
DECISION_LINE_STROKE = 5.0
#: The decision boundary pulled back to the input plane.
BOUNDARY_STROKE = 4.0
#: Fold curves.
FOLD_STROKE = 4.0
#: Curves of plots (loss, determinants).
CURVE_STROKE = 2.5
#: The moving epoch cursor of a plot.
CURSOR_STROKE = 2.0
#: The zero line of a plot.
ZERO_LINE_STROKE = 1.5
#: The unit circle, its image and the ellipse's semi-axes.
ELLIPSE_STROKE = 3.0
#: The wireframe of a decision surface in a 3-D layer.
SURFACE_STROKE = 1.4

# -- font sizes -------------------------------------------------------------------------------

#: Default of :func:`~geomcore.views.primitives.caption`.
CAPTION_FONT_SIZE = 26
#: Titles of planes and 3-D views; class legends.
TITLE_FONT_SIZE = 22
#: Axis labels of a plane are this much smaller than its title.
AXIS_LABEL_FONT_SIZE_DROP = 4
#: Narration captions at the bottom of the frame.
NARRATION_FONT_SIZE = 22
#: The epoch / accuracy / loss readout.
READOUT_FONT_SIZE = 24
#: Small labels: axis names in 3-D, plot titles, on-screen notices.
LABEL_FONT_SIZE = 20
#: The loss curve's label.
SMALL_FONT_SIZE = 18
#: Tick and legend text of plots.
TINY_FONT_SIZE = 16
#: A chapter's title card.
CHAPTER_CARD_FONT_SIZE = 40
