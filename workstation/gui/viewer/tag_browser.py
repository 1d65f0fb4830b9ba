"""Tag browser: every element of one instance as a tree (sequences nested, private tags marked), with a filter."""

from __future__ import annotations

import os

import pydicom
from PySide6 import QtCore, QtGui, QtWidgets
from superqt.utils import create_worker

Qt = QtCore.Qt
MAX_VALUE_CHARS = 200


def _value_text(elem) -> str:
    if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") or elem.tag == 0x7FE00010:
        try:
            n = len(elem.value) if elem.value is not None else 0
        except TypeError:
            n = 0
        return f"<{elem.VR}, {n} bytes>"
    try:
        text = str(elem.value)
    except Exception:  # noqa: BLE001
        text = repr(elem.value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


class _Plurals(QtCore.QObject):
    """Counted texts through Qt's plural forms (lupdate finds ``tr`` with ``n`` in a class)."""

    def items(self, n: int) -> str:
        return self.tr("%n item(s)", "", n)

    def item(self, number: int) -> str:
        return self.tr("Item %1").replace("%1", str(number))


def _read(path: str):
    return path, pydicom.dcmread(path, stop_before_pixels=True, force=True)


def dataset_rows(ds, depth: int = 0):
    """Yield ``(depth, tag_text, name, vr, value, is_private, is_sequence)`` for every element, depth-first."""
    for elem in ds:
        tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
        private = elem.tag.is_private
        name = elem.name if not private or elem.name != "Private tag data" else "Private tag"
        if elem.VR == "SQ":
            yield depth, tag, name, "SQ", _Plurals().items(len(elem.value)), private, True
            for i, item in enumerate(elem.value):
                yield depth + 1, "", _Plurals().item(i + 1), "", "", private, True
                yield from dataset_rows(item, depth + 2)
        else:
            yield depth, tag, name, elem.VR, _value_text(elem), private, False


class TagBrowser(QtWidgets.QWidget):
    """A tree of a dataset's elements with a filter box (matches tag, name or value, case-insensitive)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.filter = QtWidgets.QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Filter tags (name, tag or value)…"))
        self.filter.setClearButtonEnabled(True)
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels([self.tr("Tag"), self.tr("Name"), self.tr("VR"), self.tr("Value")])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.filter)
        lay.addWidget(self.tree)
        self.filter.textChanged.connect(self.apply_filter)
        self.path: str | None = None

    def load_path(self, path) -> None:
        """Show the elements of the file at ``path`` (pixel data is not read)."""
        if path is not None and os.fspath(path) == self.path:
            return
        self.path = os.fspath(path) if path is not None else None
        if path is None:
            self.tree.clear()
            return
        # Reading a header can take a while (big private blocks, network drives): off the GUI thread.
        path = self.path
        worker = create_worker(_read, path)
        worker.returned.connect(self._on_read)
        worker.errored.connect(self._on_error)
        self._worker = worker
        worker.start()

    def _on_read(self, result) -> None:
        path, ds = result
        if path == self.path:
            self.load_dataset(ds)

    def _on_error(self, exc) -> None:
        self.tree.clear()
        self.tree.addTopLevelItem(QtWidgets.QTreeWidgetItem(["", self.tr("Cannot read: %1").replace("%1", str(exc)), "", ""]))

    def load_dataset(self, ds) -> None:
        self.tree.clear()
        parents: list[QtWidgets.QTreeWidgetItem | None] = [None]
        meta = getattr(ds, "file_meta", None)
        rows = list(dataset_rows(meta)) if meta else []
        rows += list(dataset_rows(ds))
        private_brush = QtGui.QBrush(QtGui.QColor(170, 90, 200))
        items = []
        for depth, tag, name, vr, value, private, seq in rows:
            del parents[depth + 1:]
            parent = parents[depth] if depth < len(parents) else parents[-1]
            item = QtWidgets.QTreeWidgetItem([tag, ("[private] " if private and tag else "") + name, vr, value])
            item.setToolTip(1, item.text(1))
            item.setToolTip(3, value[:2000])
            item.setData(0, Qt.UserRole, bool(private))
            if private:
                for col in range(4):
                    item.setForeground(col, private_brush)
            if parent is None:
                items.append(item)
            else:
                parent.addChild(item)
            if seq:
                while len(parents) <= depth + 1:
                    parents.append(None)
                parents[depth + 1] = item
        self.tree.addTopLevelItems(items)
        self.tree.expandAll()
        for col in range(3):
            self.tree.resizeColumnToContents(col)
        # The value is what one opens the tags for: long names (nested sequence items, "[private] ...") sized to
        # their contents pushed it past the dock's right edge. Cut them; the tooltip has the whole text.
        caps = {0: 150, 1: 190}
        for col, cap in caps.items():
            if self.tree.columnWidth(col) > cap:
                self.tree.setColumnWidth(col, cap)
        self.apply_filter(self.filter.text())

    def apply_filter(self, text: str) -> None:
        needle = (text or "").strip().lower()

        def visit(item) -> bool:
            child_match = False
            for i in range(item.childCount()):
                child_match |= visit(item.child(i))
            own = not needle or any(needle in item.text(c).lower() for c in range(4))
            item.setHidden(not (own or child_match))
            return own or child_match

        for i in range(self.tree.topLevelItemCount()):
            visit(self.tree.topLevelItem(i))

    def visible_rows(self) -> list[tuple[str, str]]:
        """(tag, name) of every visible row, depth-first (for tests)."""
        out = []

        def walk(item):
            if item.isHidden():
                return
            out.append((item.text(0), item.text(1)))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out
