"""A combo box for choosing one remote node or several (the Query/Retrieve panel's node list)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

Qt = QtCore.Qt


class NodeChooser(QtWidgets.QComboBox):
    """A combo box whose entries are check boxes: choose one node or several. Clicking an entry toggles it and
    keeps the list open; the closed box shows the chosen names. ``checkedChanged`` when the choice changes."""

    checkedChanged = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setModel(QtGui.QStandardItemModel(self))
        self.view().viewport().installEventFilter(self)
        self.model().dataChanged.connect(lambda *_: (self.update(), self.checkedChanged.emit()))
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(20)

    def add_node(self, label: str, name: str, checked: bool = False) -> None:
        item = QtGui.QStandardItem(label)
        item.setData(name, Qt.UserRole)
        item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
        item.setData(Qt.Checked if checked else Qt.Unchecked, Qt.CheckStateRole)
        self.model().appendRow(item)

    def names(self) -> list[str]:
        return [self.itemData(i) for i in range(self.count())]

    def checked_names(self) -> list[str]:
        m = self.model()
        return [m.item(i).data(Qt.UserRole) for i in range(m.rowCount())
                if m.item(i).checkState() == Qt.Checked]

    def set_checked(self, names) -> None:
        wanted = set(names)
        m = self.model()
        with QtCore.QSignalBlocker(m):
            for i in range(m.rowCount()):
                m.item(i).setCheckState(Qt.Checked if m.item(i).data(Qt.UserRole) in wanted else Qt.Unchecked)
        self.update()
        self.checkedChanged.emit()

    def toggle(self, row: int) -> None:
        item = self.model().item(row)
        if item is not None:
            item.setCheckState(Qt.Unchecked if item.checkState() == Qt.Checked else Qt.Checked)

    def showPopup(self) -> None:
        self._pressed_row = -1
        super().showPopup()

    def summary(self) -> str:
        checked = self.checked_names()
        if not self.count():
            return self.tr("No node")
        if not checked:
            return self.tr("Choose node(s)…")
        if len(checked) == 1:
            return self.itemText(self.findData(checked[0]))
        if len(checked) == self.count():
            return self.tr("All %n nodes: ", "", len(checked)) + ", ".join(checked)
        return ", ".join(checked)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if obj is self.view().viewport():
            # Toggle on a press and release on the same entry. The release of the click that opened the list
            # arrives here too (the list pops up under the pointer) and must not toggle the entry under it.
            if event.type() == QtCore.QEvent.MouseButtonPress:
                self._pressed_row = self.view().indexAt(event.position().toPoint()).row()
                return True
            if event.type() == QtCore.QEvent.MouseButtonRelease:
                index = self.view().indexAt(event.position().toPoint())
                if index.isValid() and index.row() == getattr(self, "_pressed_row", -1):
                    self.toggle(index.row())
                self._pressed_row = -1
                return True  # keep the list open for the next choice
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == Qt.Key_Space and not self.view().isVisible():
            self.toggle(self.currentIndex())
            return
        super().keyPressEvent(event)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtWidgets.QStylePainter(self)
        opt = QtWidgets.QStyleOptionComboBox()
        self.initStyleOption(opt)
        opt.currentText = self.summary()
        opt.currentIcon = QtGui.QIcon()
        painter.drawComplexControl(QtWidgets.QStyle.CC_ComboBox, opt)
        painter.drawControl(QtWidgets.QStyle.CE_ComboBoxLabel, opt)
