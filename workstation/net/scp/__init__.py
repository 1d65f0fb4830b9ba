"""The DICOM server side (SCP): the association server, its Find/Move/Get handlers and the Store handler.

Nothing is imported here on purpose: importing the client must not load the server.
"""
