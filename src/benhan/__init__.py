"""Bệnh Án: electronic medical record (bệnh án điện tử) and FHIR R4 core for Vietnamese hospitals."""

__version__ = "0.1.0"
