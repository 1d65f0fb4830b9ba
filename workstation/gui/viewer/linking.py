"""Slice sync and view linking between a viewer window's viewports (a mixin of ViewerWindow).

Which planes follow which is decided headless (workstation.reading.sync: near-parallel planes, offsets across Frames
of Reference fixed when Sync is switched on); this applies it: the slice, and zoom/pan/W-L between linked parallel
viewports. A viewport can be unlinked (Ctrl+U).
"""

from __future__ import annotations

from PySide6 import QtCore

from workstation.gui.viewer.series import sync_geometry
from workstation.gui.viewer.viewport import StackViewport

# What follows between linked viewports besides the slice (see _follow_view).
LINKED_VIEW = frozenset({"zoom", "pan", "center", "width"})


class SyncLinking:
    """Mixed into ViewerWindow; uses its ``viewports``, ``visible_viewports``, ``active``, ``sync`` (SliceSync),
    ``sync_enabled``, ``_sync_geometries``, ``_windows``, ``_syncing`` and ``statusBar()``."""

    # -- sync ------------------------------------------------------------------------------------------------------
    def _sync_geometry(self, stack):
        geo = self._sync_geometries.get(stack)
        if geo is None:
            geo = self._sync_geometries[stack] = sync_geometry(stack)
        return geo

    def set_sync(self, enabled: bool) -> None:
        """Switch slice sync on or off. Switching on fixes the offsets between stacks of different Frames of
        Reference from the slices shown now (workstation.reading.sync)."""
        self.sync_enabled = bool(enabled)
        if hasattr(self, "sync_action") and self.sync_action.isChecked() != self.sync_enabled:
            self.sync_action.setChecked(self.sync_enabled)
        if self.sync_enabled:
            self.sync.engage({vp: (self._sync_geometry(vp.stack), vp.state.frame)
                              for vp in self.visible_viewports if vp.stack is not None})

    def _linked_targets(self, source: StackViewport) -> dict:
        """The other visible viewports that follow ``source``: sync on, both linked, another stack."""
        if not self.sync_enabled or source.stack is None or not getattr(source, "sync_linked", True):
            return {}
        return {vp: self._sync_geometry(vp.stack) for vp in self.visible_viewports
                if vp is not source and vp.stack is not None and vp.stack is not source.stack
                and getattr(vp, "sync_linked", True)}

    def _follow_view(self, source: StackViewport, changed: set) -> None:
        """Zoom, pan and W/L follow between linked viewports of parallel planes (current and prior read alike):
        W/L only within one modality, pan only between images of one size (its unit is the image pixel)."""
        targets = self._linked_targets(source)
        st = source.state
        # W/L follows to the viewports that showed the same window as this one (a prior beside its current read
        # in the same window), not to one the reader or a hanging protocol set apart (lung beside mediastinum).
        before = self._windows.get(source)
        self._windows[source] = (st.center, st.width)
        if not targets:
            return
        geo = self._sync_geometry(source.stack)
        modality = str(source.header.get("Modality") or "")
        size = source._image_size() if hasattr(source, "_image_size") else None
        self._syncing = True
        try:
            for vp, other in targets.items():
                if not self.sync.linked(geo, other):
                    continue
                values = {}
                if "zoom" in changed:
                    values["zoom"] = st.zoom
                if "pan" in changed and size is not None and vp._image_size() == size:
                    values["pan"] = st.pan
                if changed & {"center", "width"} and str(vp.header.get("Modality") or "") == modality \
                        and before is not None and (vp.state.center, vp.state.width) == before:
                    values["center"], values["width"] = st.center, st.width
                if values:
                    vp.state.update(**values)
                    self._windows[vp] = (vp.state.center, vp.state.width)
        finally:
            self._syncing = False

    def toggle_link(self, vp: StackViewport | None = None) -> bool:
        """Unlink the active viewport from sync (it no longer follows nor leads), or link it again."""
        vp = vp or self.active
        if vp is None:
            return False
        vp.sync_linked = not getattr(vp, "sync_linked", True)
        if vp.sync_linked and self.sync_enabled:
            self.set_sync(True)  # its offset to the others is fixed from the slices shown now
        vp.canvas.viewport().update()
        self.statusBar().showMessage(QtCore.QCoreApplication.translate("ViewerWindow", "Viewport linked to sync") if vp.sync_linked
                                     else QtCore.QCoreApplication.translate("ViewerWindow", "Viewport unlinked: it no longer follows the others"), 5000)
        return vp.sync_linked

    def _on_frame(self, source: StackViewport) -> None:
        if source is self.active:
            self._refresh_tags()
        if not self._syncing:
            # After the followers have moved (below), once per scroll step: the lines follow the slices shown.
            QtCore.QTimer.singleShot(0, self.reference_lines.update)
        if self._syncing:
            return
        targets = self._linked_targets(source)
        if not targets:
            return
        moves = self.sync.follow(source, self._sync_geometry(source.stack), source.state.frame, targets)
        self._syncing = True
        try:
            for vp, frame in moves.items():
                vp.state.update(frame=frame)
        finally:
            self._syncing = False

    def _on_view_changed(self, vp, changed):
        if changed & LINKED_VIEW and not self._syncing:
            self._follow_view(vp, changed & LINKED_VIEW)
        if "tool" in changed and not getattr(self, "_tool_sync", False):
            # A shortcut typed in one viewport selects the tool everywhere, like the tool bar does.
            self._tool_sync = True
            try:
                self.set_tool(vp.state.tool)
            finally:
                self._tool_sync = False
        if vp is self.active and changed & {"playing", "fps", "overlay", "planes", "tool"}:
            self._sync_toolbar()

