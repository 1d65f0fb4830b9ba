"""Thin helpers over pydicom: header reading and checks, decoded text, dumps, DICOMDIR. No database, no Qt."""
