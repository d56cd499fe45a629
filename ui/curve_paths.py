"""Rendered and drawn curves of a part, cut to the selected notes' spans, as polylines for the views to draw."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from PyQt5.QtCore import QPointF
from PyQt5.QtGui import QPainterPath

from readdsp.core.curve_overrides import Curve
from readdsp.ui.document import PanelDocument

RELEASE_S = 0.1  # shown past a note's offset, so the release is visible


def selected_spans(document: PanelDocument) -> list[tuple[float, float]]:
    return [(document.notes[i].onset, document.notes[i].offset + RELEASE_S) for i in sorted(document.selection)]


def rendered_curve(document: PanelDocument, kind: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(times, values) pieces of the last render's `kind` ('f0_midi' or 'loudness_db') over the selected notes."""
    pieces = []
    spans = selected_spans(document)
    for segment in getattr(document, "rendered", {}).get(document.part_index, []):
        times = segment.times()
        values = getattr(segment, kind)
        for start, stop in spans:
            inside = (times >= start) & (times <= stop)
            if inside.sum() > 1:
                pieces.append((times[inside], values[inside]))
    return pieces


def drawn_curves(document: PanelDocument, kind: str) -> list[Curve]:
    curves = document.curves.get(document.part_index)
    return list(getattr(curves, kind)) if curves else []


def polyline(
    times: Iterable[float], values: Iterable[float], x_of: Callable[[float], float], y_of: Callable[[float], float]
) -> QPainterPath:
    """A path through (x_of(t), y_of(v)) for each point."""
    path = QPainterPath()
    for k, (t, v) in enumerate(zip(times, values, strict=True)):
        point = QPointF(x_of(float(t)), y_of(float(v)))
        path.moveTo(point) if k == 0 else path.lineTo(point)
    return path
