"""The FHIR R4 (4.0.1) core: definitions, validation, repository, search and REST routing."""
