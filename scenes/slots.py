"""Named places on the 16:9 frame (14.2 x 8 scene units), so storyboards say where, not numbers.

Every position a chapter uses lives here, in scene units, origin at the frame's centre. The
bottom 0.9 units belong to the narration captions; the top 0.8 units to the chapter heading
(:data:`TITLE_BUFF` from the top edge).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CUT_RINGS",
    "CUT_SHIFT",
    "DET_PLOT",
    "FAR_LEFT_PANEL",
    "FAR_LEFT_LOW",
    "LEFT_PANEL",
    "LEFT_SPACE",
    "LEFT_STAGE",
    "RIGHT_LEGEND",
    "RIGHT_NOTE",
    "RIGHT_READOUT",
    "RIGHT_RESULT",
    "RIGHT_TEXT",
    "RIGHT_TOP_TEXT",
    "RIGHT_MIDDLE_TEXT",
    "RIGHT_EQUATIONS",
    "RIGHT_EQUATIONS_WIDTH",
    "TITLE_BUFF",
    "halves",
    "thirds",
    "MEASURE_PLANE",
    "MEASURE_READOUT",
    "MEASURE_LOSS",
    "MEASURE_NOTE",
    "MEASURE_COUNT",
]


def _at(x: float, y: float) -> np.ndarray:
    return np.array((x, y, 0.0))


#: Gap (scene units) between the top edge and a chapter heading.
TITLE_BUFF = 0.3

# Left: the picture of a chapter (centre of a plane or space view).
#: A data plane, 5.2 units wide (the data chapter).
LEFT_PANEL = _at(-2.2, -0.1)
#: A layer-by-layer plane, 5.0 units wide (looking inside a layer).
LEFT_STAGE = _at(-2.3, -0.15)
#: A 3-D hidden space (the space chapters).
LEFT_SPACE = _at(-2.3, -0.2)
#: A plane pushed further left, leaving room for equations (the decision line).
FAR_LEFT_PANEL = _at(-3.6, -0.2)
#: A plane pushed left and down, under a tall right column (topology).
FAR_LEFT_LOW = _at(-3.6, -0.5)

# Right: words and small plots beside the picture.
#: The class legend of the data chapter; the data facts follow under it.
RIGHT_LEGEND = _at(3.6, 1.2)
#: The explanation beside a layer-by-layer plane.
RIGHT_TEXT = _at(3.9, -0.3)
#: The equations and coefficients of the decision line chapter.
RIGHT_EQUATIONS = _at(3.3, -0.2)
#: Widest the decision line chapter's right column may be (scene units).
RIGHT_EQUATIONS_WIDTH = 6.9
#: The topology statement, top right.
RIGHT_TOP_TEXT = _at(3.2, 1.3)
#: The "would need a cut" note, middle right.
RIGHT_MIDDLE_TEXT = _at(3.4, -0.5)
#: Centre of the illustrated rings under that note; the inner ring leaves by CUT_SHIFT.
CUT_RINGS = _at(2.6, -2.2)
#: How far (scene units, to the right) the illustrated inner ring is pulled out.
CUT_SHIFT = 2.1
#: The det W plot of the topology chapter, 3.6 x 1.6 units.
DET_PLOT = _at(2.9, -0.95)
#: The final accuracy under a training replay's readout.
RIGHT_RESULT = _at(5.4, -0.9)
#: Top-left corner of the metrics readout in the space chapters.
RIGHT_READOUT = _at(2.6, 2.3)
#: Top-left corner of the note in the space chapters.
RIGHT_NOTE = _at(2.6, 0.9)

# The measuring chapter: a plane on the left, live measures on the right.
#: A plane 4.4 units wide (hidden layer, the inner ring's region, the ReLU regions), clear
#: of three lines of captions.
MEASURE_PLANE = _at(-3.3, -0.05)
#: Top-left corner of the winding readout.
MEASURE_READOUT = _at(1.0, 2.1)
#: The loss curve with the nesting event, 4.4 x 1.5 units.
MEASURE_LOSS = _at(3.8, 0.0)
#: Top-left corner of a note under the readouts.
MEASURE_NOTE = _at(1.0, 1.4)
#: Left end of the baseline of the region count.
MEASURE_COUNT = _at(1.0, 2.1)


def halves(y: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of two side-by-side panels (4 units wide) at height ``y`` scene units."""
    return _at(-3.4, y), _at(3.4, y)


def thirds(y: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of three side-by-side panels (3.6 units wide) at height ``y`` scene units."""
    return _at(-4.5, y), _at(0.0, y), _at(4.5, y)
