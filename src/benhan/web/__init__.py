"""The clinician web app (server-rendered Jinja2 + HTMX): reception, queue, exam room, orders,
e-prescription, conclusion and signing, patient chart, printed forms.

Pages read and write only through the services and the FHIR repository, inside :func:`page_scope`
(``web/scope.py``), so the access policy and the audit trail cover every page.
"""
