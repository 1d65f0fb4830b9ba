"""Errors raised by the imaging core; messages are one line, worded for the user."""

from __future__ import annotations


class ImagingError(Exception):
    """Base class for imaging failures."""


class NotAnImageError(ImagingError):
    """The object holds no pixel data (SR, PDF, waveform, RT plan...); the message says what it is."""


class DecodeError(ImagingError):
    """No available decoder could decode a frame."""


class DamagedHeader(ImagingError, ValueError):
    """The file cannot be read as an image: not a plain file, or an image attribute is damaged. A ValueError too,
    so callers that skip unreadable files (``except ValueError``) skip these."""
