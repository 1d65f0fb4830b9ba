"""Event helpers: real QMouseEvent/QWheelEvent/QKeyEvent sent to the viewport's canvas."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtTest import QTest

Qt = QtCore.Qt


def _send(widget, ev):
    QtWidgets.QApplication.sendEvent(widget, ev)


def _mouse(kind, widget, pos, button, buttons):
    p = QtCore.QPointF(pos)
    g = QtCore.QPointF(widget.mapToGlobal(p.toPoint()))
    return QtGui.QMouseEvent(kind, p, g, button, buttons, Qt.NoModifier)


def drag(vp, start, end, button=Qt.LeftButton, steps=6):
    """Press at ``start``, move to ``end`` in steps, release (canvas pixel coordinates)."""
    w = vp.canvas.viewport()
    start, end = QtCore.QPointF(*start), QtCore.QPointF(*end)
    _send(w, _mouse(QtCore.QEvent.MouseButtonPress, w, start, button, button))
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        _send(w, _mouse(QtCore.QEvent.MouseMove, w, p, Qt.NoButton, button))
    _send(w, _mouse(QtCore.QEvent.MouseButtonRelease, w, end, button, Qt.NoButton))


def click(vp, pos, button=Qt.LeftButton):
    w = vp.canvas.viewport()
    p = QtCore.QPointF(*pos)
    _send(w, _mouse(QtCore.QEvent.MouseButtonPress, w, p, button, button))
    _send(w, _mouse(QtCore.QEvent.MouseButtonRelease, w, p, button, Qt.NoButton))


def hover(vp, pos):
    w = vp.canvas.viewport()
    _send(w, _mouse(QtCore.QEvent.MouseMove, w, QtCore.QPointF(*pos), Qt.NoButton, Qt.NoButton))


def wheel(vp, notches: int, pos=None):
    """Positive ``notches`` = wheel up (away from the user)."""
    w = vp.canvas.viewport()
    p = QtCore.QPointF(*(pos or (w.width() / 2, w.height() / 2)))
    ev = QtGui.QWheelEvent(p, QtCore.QPointF(w.mapToGlobal(p.toPoint())), QtCore.QPoint(0, 0),
                           QtCore.QPoint(0, 120 * notches), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    _send(w, ev)


def key(vp, k, modifiers=Qt.NoModifier):
    QTest.keyClick(vp.canvas, k, modifiers)


def centre(vp):
    w = vp.canvas.viewport()
    return (w.width() / 2, w.height() / 2)
