"""DICOM networking: the client (SCU, :mod:`.client`) and the server (SCP, :mod:`.server`). No Qt here."""
