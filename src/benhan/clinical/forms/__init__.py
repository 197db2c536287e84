"""View models of the printed legal forms, built from the FHIR resources of one visit.

* :mod:`.record` — bệnh án ngoại trú (outpatient record), MS 15/BV1 (TT 32/2023);
* :mod:`.prescription` — đơn thuốc (prescription), TT 26/2025 Annex I.

They only read (through the caller's repository: access-checked and audited) and hold plain strings
ready for a template; the layout lives in ``web/templates/print/``.
"""
