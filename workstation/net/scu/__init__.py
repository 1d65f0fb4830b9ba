"""The DICOM client side (SCU): echo/find sessions, C-MOVE/C-GET retrieve and ingest, C-STORE send.

Nothing is imported here on purpose: ``workstation retrieve`` starts faster when it loads only the modules it uses.
"""
