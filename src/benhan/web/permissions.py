"""What the signed-in user may do on a page, asked of the access policy, never of role names.

``security/policy.toml`` is the one place that says who writes what (a nurse records vital signs and
allergies; diagnoses, the record text, orders, prescriptions and signatures are the doctor's). Pages
ask :func:`allows` with the resource types and interactions (SMART letters ``cruds``) the action
writes or reads, so showing a form and accepting its POST follow the same rules as the FHIR API.
These are type-level answers; which patients' records may be written is still decided per record by
the repository's guard when the page writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from .scope import Page

Needs = Mapping[str, str]  # resource type -> interactions, e.g. {"Condition": "cu", "Encounter": "u"}


def allows(page: Page, needs: Needs) -> bool:
    """Do the user's roles and session scopes allow every interaction of ``needs``?"""
    access = page.guard.access
    return all(access.effective(rtype, letter) is not None for rtype, letters in needs.items() for letter in letters)


__all__ = ["Needs", "allows"]
