"""The drawing surface of a stack viewport: the canvas, what is painted over the image, and the export grab.

The canvas is a pyqtgraph ``GraphicsView`` that forwards every input event to the viewport's
:class:`workstation.gui.viewer.interaction.Interaction` (we want OsiriX-style buttons, not the ViewBox defaults) and
paints the annotations (corner texts, measurements: :func:`workstation.gui.viewer.overlay.paint_overlay`) in widget
coordinates on top of the scene. Series dropped on it are reported through the viewport's ``seriesDropped``.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from workstation.gui.viewer.dragdrop import SERIES_MIME, decode_series
from workstation.gui.viewer.key_images import paint_key_image
from workstation.gui.viewer.overlay import paint_overlay
from workstation.gui.viewer.scout_lines import paint_reference_lines

Qt = QtCore.Qt


class CountingImageItem(pg.ImageItem):
    """An ImageItem that counts the times it was actually painted (for tests and benchmarks)."""

    paints = 0

    def paint(self, p, *args):
        super().paint(p, *args)
        self.paints += 1


class Canvas(pg.GraphicsView):
    """The drawing surface: forwards input to its viewport and paints the annotations on top."""

    def __init__(self, viewport):
        super().__init__(background="k")
        self._vp = viewport
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAcceptDrops(True)
        self.draw_annotations = True
        self.exporting = False  # painting for an export/copy: no screen-only lines (the tool) in the picture

    # Input goes to the viewport's interaction, not to pyqtgraph's scene.
    def mousePressEvent(self, ev):
        self._vp.interaction.press(ev)

    def mouseMoveEvent(self, ev):
        self._vp.interaction.move(ev)

    def mouseReleaseEvent(self, ev):
        self._vp.interaction.release(ev)

    def mouseDoubleClickEvent(self, ev):
        self._vp.interaction.double_click(ev)

    def wheelEvent(self, ev):
        self._vp.interaction.wheel(ev)

    def keyPressEvent(self, ev):
        if not self._vp.handle_key(ev.key(), ev.modifiers()):
            super().keyPressEvent(ev)

    def leaveEvent(self, ev):
        self._vp.interaction.leave()
        super().leaveEvent(ev)

    def drawForeground(self, painter, rect):
        super().drawForeground(painter, rect)
        painter.save()
        painter.resetTransform()
        paint_foreground(self._vp, painter, self.draw_annotations)
        painter.restore()

    # Drops of thumbnails are handled by the viewport's owner through a signal.
    def dragEnterEvent(self, ev):
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev):
        if ev.mimeData().hasFormat(SERIES_MIME):
            ev.acceptProposedAction()

    def dragLeaveEvent(self, ev):
        # QGraphicsView's own handler never saw the enter (ours took it) and warned on stderr at every drag that
        # crossed a viewport.
        ev.accept()

    def dropEvent(self, ev):
        payload = decode_series(ev.mimeData())
        if payload is not None:
            ev.acceptProposedAction()
            self._vp.seriesDropped.emit(payload)


def paint_foreground(vp, painter: QtGui.QPainter, annotations: bool) -> None:
    """Everything drawn over the image: corner texts, scale, orientation, measurements (when ``annotations``)."""
    if vp.stack is None:
        return
    if not getattr(vp.canvas, "exporting", False):  # they concern the layout on the screen, not the image
        paint_reference_lines(vp, painter)
    paint_overlay(vp, painter, annotations and vp.state.overlay)
    if annotations and vp.state.overlay:
        paint_key_image(vp, painter)  # the star on a key image, the key-images stack's label


def grab_view(vp, annotations: bool = True) -> QtGui.QPixmap:
    """The viewport as the user sees it (with or without annotations), for export and the clipboard."""
    canvas = vp.canvas
    old = canvas.draw_annotations
    canvas.draw_annotations = annotations
    canvas.exporting = True
    try:
        canvas.viewport().repaint()
        return canvas.grab()
    finally:
        canvas.draw_annotations = old
        canvas.exporting = False
        canvas.viewport().update()
