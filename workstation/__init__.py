"""A desktop DICOM workstation: local archive, viewer, DICOM network node and command line."""

__version__ = "0.1.0"
