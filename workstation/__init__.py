"""A desktop DICOM workstation: local archive, viewer, DICOM network node and command line."""

__version__ = "0.1.0"

import logging as _logging

# A library logs; the application decides where to (workstation.logs). Without this, an error logged before
# logging is set up would reach stderr twice through Python's last-resort handler.
_logging.getLogger("workstation").addHandler(_logging.NullHandler())
