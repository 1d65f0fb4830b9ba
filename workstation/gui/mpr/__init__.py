"""Multiplanar reconstruction in the GUI: the MPR window (window.py), its crosshair tool and its 3D view."""
