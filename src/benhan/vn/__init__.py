"""Vietnamese rules as pure functions: identifiers (CCCD, CMND, passport, BHYT card), facility and
department codes, personal names, and the identifier check the FHIR write path runs.

Every parser raises :class:`benhan.vn.errors.InvalidValue` (a rule id, the characters at fault and a
bilingual message); :func:`benhan.vn.rules.check_resource` turns those into OperationOutcome issues.
"""
