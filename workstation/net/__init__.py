"""DICOM networking, no Qt. :mod:`.scu` is the client side, :mod:`.scp` the server side; the pieces both use stay here
(:mod:`.dimse_bytes`, :mod:`.guard`, :mod:`.transcode`, :mod:`.nodes`)."""
