"""Terminology service: versioned code systems (ICD-10 QĐ 4469, national catalogs) stored as FHIR
CodeSystem/ValueSet resources plus a concept index for lookup, validation and type-ahead.

Public API:

* :func:`benhan.terminology.loader.load_catalogs` / :func:`benhan.terminology.catalogs.shipped`
* :func:`benhan.terminology.diagnosis.check_diagnosis` / :func:`benhan.terminology.diagnosis.check_resource`
* :func:`benhan.terminology.expand.search`, :mod:`benhan.terminology.concepts`
* CLI: :func:`benhan.terminology.cli.add_terminology_parser`
"""
