"""Window/level typed in: a small dialog with width and level (or the lowest and highest value shown).

It applies to the viewport it was opened for, live while the numbers change, and "Cancel" puts the window back.
Values are in the modality's units (HU for CT), as the corner text shows them.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class WindowLevelDialog(QtWidgets.QDialog):
    """Type a width and level (or low/high) for ``viewport``; changes apply as they are typed."""

    def __init__(self, viewport, parent=None):
        super().__init__(parent or viewport)
        self.setWindowTitle(self.tr("Window / level"))
        self.vp = viewport
        st = viewport.state
        self._start = (st.center, st.width, st.lut)
        self._updating = False

        def box(value: float, lo: float = -1e6) -> QtWidgets.QDoubleSpinBox:
            b = QtWidgets.QDoubleSpinBox(self)
            b.setRange(lo, 1e6)
            b.setDecimals(1)
            b.setKeyboardTracking(False)  # apply on Enter / focus out / arrows, not at every digit
            b.setValue(value)
            return b

        self.width_box = box(st.width, 0.001)
        self.level_box = box(st.center)
        self.low_box = box(st.center - st.width / 2)
        self.high_box = box(st.center + st.width / 2)
        unit = getattr(viewport.presentation, "unit", "") or ""
        for b in (self.width_box, self.level_box, self.low_box, self.high_box):
            if unit:
                b.setSuffix(f" {unit}")
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Width (W):"), self.width_box)
        form.addRow(self.tr("Level (L):"), self.level_box)
        form.addRow(self.tr("Lowest value shown:"), self.low_box)
        form.addRow(self.tr("Highest value shown:"), self.high_box)
        self.error = QtWidgets.QLabel(self)
        self.error.setStyleSheet("color: #c33;")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.width_box.valueChanged.connect(self._from_width_level)
        self.level_box.valueChanged.connect(self._from_width_level)
        self.low_box.valueChanged.connect(self._from_low_high)
        self.high_box.valueChanged.connect(self._from_low_high)

    def _set_boxes(self, center: float, width: float) -> None:
        self._updating = True
        try:
            self.width_box.setValue(width)
            self.level_box.setValue(center)
            self.low_box.setValue(center - width / 2)
            self.high_box.setValue(center + width / 2)
        finally:
            self._updating = False

    def set_window(self, center: float, width: float) -> bool:
        """Apply a window (also what the boxes do); False with a message for a width that is not positive."""
        if not width > 0:
            self.error.setText(self.tr("The width must be above 0."))
            return False
        self.error.setText("")
        self.vp.state.set_window(float(center), float(width))
        return True

    def _from_width_level(self, *_):
        if self._updating:
            return
        c, w = self.level_box.value(), self.width_box.value()
        if self.set_window(c, w):
            self._set_boxes(c, w)

    def _from_low_high(self, *_):
        if self._updating:
            return
        lo, hi = self.low_box.value(), self.high_box.value()
        if self.set_window((lo + hi) / 2, hi - lo):
            self._set_boxes((lo + hi) / 2, hi - lo)

    def reject(self) -> None:
        c, w, lut = self._start
        if lut is not None:
            self.vp.state.set_voi_lut(lut, c, w)
        else:
            self.vp.state.set_window(c, w)
        super().reject()


def open_window_level_dialog(viewport) -> WindowLevelDialog | None:
    """Open the dialog for ``viewport`` (None for a colour image or an empty viewport: nothing to window)."""
    if viewport is None or viewport.stack is None or viewport.presentation is None \
            or viewport.presentation.is_color:
        return None
    dlg = WindowLevelDialog(viewport)
    dlg.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    dlg.show()
    dlg.level_box.setFocus()
    dlg.level_box.selectAll()
    return dlg
