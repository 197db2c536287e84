"""What the signed-in user may do on a page, asked of the access policy, never of role names.

``security/policy.toml`` is the one place that says who writes what (a nurse records vital signs and
allergies; diagnoses, the record text, orders, prescriptions and signatures are the doctor's) and which
screens a user sees (``[screens]``: what each screen needs to do). Pages ask :func:`allows` with the
resource types and interactions (SMART letters ``cruds``) the action writes or reads, and
:func:`may_open` / :func:`require_screen` for a whole screen, so the menu, the start page, showing a
form and accepting its POST follow the same rules as the FHIR API. These are type-level answers; which
patients' records may be read or written is still decided per record by the repository's guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from benhan.fhir.errors import FhirError
from benhan.security.access import Access

if TYPE_CHECKING:
    from .scope import Page

Needs = Mapping[str, str]  # resource type -> interactions, e.g. {"Condition": "cu", "Encounter": "u"}


def allows(page: Page, needs: Needs) -> bool:
    """Do the user's roles and session scopes allow every interaction of ``needs``?"""
    return access_allows(page.guard.access, needs)


def access_allows(access: Access, needs: Mapping[str, str | frozenset[str]],
                  patients: frozenset[str] | None = None) -> bool:
    """:func:`allows` for an :class:`Access`; ``patients``: the patient rules the answer must run under."""
    for rtype, letters in needs.items():
        for letter in letters:
            eff = access.effective(rtype, letter)
            if eff is None or (patients is not None and eff.patients not in patients):
                return False
    return True


def may_open(access: Access, screen: str) -> bool:
    """May this user see the screen ``screen`` of ``policy.toml`` (menu entry, start page)?"""
    spec = access.policy.screens.get(screen)
    return spec is not None and access_allows(access, spec.needs, spec.patients)


def require_screen(page: Page, screen: str) -> None:
    """403 for a user the policy does not give this screen (typed URL, old bookmark)."""
    if not may_open(page.guard.access, screen):
        raise FhirError.one(403, "forbidden", "Chức năng này không dành cho vai trò của bạn",
                            "This is not available to your role")


def attends(page: Page) -> bool:
    """Is the user the visit's attending clinician (participant ATND) rather than a helper (PART)?

    The one who may record the diagnosis attends: a doctor's act in ``policy.toml``, not a nurse's.
    """
    return allows(page, {"Condition": "c"})


__all__ = ["Needs", "access_allows", "allows", "attends", "may_open", "require_screen"]
