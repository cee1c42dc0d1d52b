"""Manim building blocks for replaying trajectories: the one place in geomcore that draws.

This is the only part of geomcore that imports Manim (the numpy core never does, and
``import geomcore`` does not import this package). Blocks read a
:class:`~geomcore.replay.Replay` (or a network) through a ``ValueTracker`` and redraw
themselves from the numpy side's geometry at that value, so several views driven by the
same tracker always agree. Laid out like Manim's own ``mobject/``, one family a module:

- :mod:`~geomcore.views.style`: colours, fonts, stroke widths, font sizes (one place);
- :mod:`~geomcore.views.primitives`: plane maps, polylines, grid lines, class point
  clouds, text;
- :mod:`~geomcore.views.layered`: static/dynamic layering (draw once, update per frame);
- :mod:`~geomcore.views.replay_panel`: input plane, hidden plane, readout, loss curve, the
  replay panel;
- :mod:`~geomcore.views.anatomy`: a layer's steps, layers in 3-D, curve plots, fold panel;
- :mod:`~geomcore.views.topology`: winding readout, nesting event mark, the inner ring's
  decision region, exact linear regions of a ReLU network;
- :mod:`~geomcore.views.narrator`: captions, subcaptions and the optional voice;
- :mod:`~geomcore.views.replay_scenes`: whole no-code scenes (``geomcore render`` and
  ``compare``) and their vector stills.

What it may import: Manim, numpy and the numpy side of geomcore (never TensorFlow). Within
the package a module imports only those listed before it.

Units: *data units* are the input plane's coordinates, *layer units* a hidden layer's
activations, *scene units* Manim's frame coordinates (the frame is 14.22 x 8 at 16:9).
Points are one ``PMobject`` per class; grids and curves one ``VMobject`` with sub-paths.

Every name is re-exported here: ``from geomcore.views import ReplayPanel``.
"""

from __future__ import annotations

from geomcore.anatomy import SpaceContent
from geomcore.extents import layer_box
from geomcore.views.anatomy import (
    CurvePlot,
    FoldPanel,
    LayerMorphView,
    SpaceView,
    StageView,
    embed_scene,
    face_color,
)
from geomcore.views.layered import Layered, add_layered
from geomcore.views.narrator import Narrator, add_section_audio, mux_audio
from geomcore.views.primitives import (
    ClassPoints,
    GlyphText,
    GridLines,
    PlaneMap,
    Polylines,
    caption,
    caption_markup,
    class_legend,
    frame_rect,
    markup_escape,
    polylines_to_bezier,
    simplify_polylines,
)
from geomcore.views.replay_panel import (
    DataPlaneView,
    HiddenPlaneView,
    InputPlaneView,
    LossCurve,
    MetricsReadout,
    ReplayPanel,
)
from geomcore.views.replay_scenes import (
    BOUNDED_BOX,
    HOLD_SHARE,
    ReplaySpaceView,
    SpaceReplayPanel,
    compare_scene_class,
    default_title,
    draw_vector,
    render_scene,
    replay_scene_class,
)
from geomcore.views.style import (
    BOUNDARY_COLOR,
    CLASS_COLORS,
    ELLIPSE_COLOR,
    FOLD_COLOR,
    FONT,
    GRID_COLOR,
    MONO_FONT,
    TEXT_COLOR,
    WARNING_COLOR,
)
from geomcore.views.topology import (
    LinearRegionsView,
    RegionOfRingView,
    WindingReadout,
    nesting_event_mark,
)

# Sorted (plain str order). SpaceContent and layer_box live on the numpy side; they stay
# importable from here as they were from the single-module geomcore.views.
__all__ = [
    "BOUNDARY_COLOR",
    "BOUNDED_BOX",
    "CLASS_COLORS",
    "ClassPoints",
    "CurvePlot",
    "DataPlaneView",
    "ELLIPSE_COLOR",
    "FOLD_COLOR",
    "FONT",
    "FoldPanel",
    "GRID_COLOR",
    "GlyphText",
    "GridLines",
    "HOLD_SHARE",
    "HiddenPlaneView",
    "InputPlaneView",
    "LayerMorphView",
    "Layered",
    "LinearRegionsView",
    "LossCurve",
    "MONO_FONT",
    "MetricsReadout",
    "Narrator",
    "PlaneMap",
    "Polylines",
    "RegionOfRingView",
    "ReplayPanel",
    "ReplaySpaceView",
    "SpaceContent",
    "SpaceReplayPanel",
    "SpaceView",
    "StageView",
    "TEXT_COLOR",
    "WARNING_COLOR",
    "WindingReadout",
    "add_layered",
    "add_section_audio",
    "caption",
    "caption_markup",
    "class_legend",
    "compare_scene_class",
    "default_title",
    "draw_vector",
    "embed_scene",
    "face_color",
    "frame_rect",
    "layer_box",
    "markup_escape",
    "mux_audio",
    "nesting_event_mark",
    "polylines_to_bezier",
    "render_scene",
    "replay_scene_class",
    "simplify_polylines",
]
