"""The exam room (khám bệnh ngoại trú): what the doctor records during one outpatient visit.

Services, each in its own module, all writing through the caller's :class:`~benhan.fhir.repository.Repository`
inside the caller's transaction:

* :mod:`.vitals` — vital signs as ``Observation`` (LOINC, UCUM), BMI computed from height and weight;
* :mod:`.exam_note` — the record text (15/BV1) as one ``Composition`` per visit, sections by LOINC;
* :mod:`.diagnoses` — main and secondary ICD-10 diagnoses (``Condition`` + ``Encounter.diagnosis`` ranks);
* :mod:`.allergies` — the patient's ``AllergyIntolerance`` list.

Every service checks the whole form before it writes anything and raises :class:`FormInvalid` with
bilingual field errors; errors the repository raises while writing (ICD-10 rules) are turned into field
errors too, and the caller rolls the transaction back (``web.scope.Rerender``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository, WriteResult
from benhan.fhir.search import search

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@dataclass(frozen=True, slots=True)
class Message:
    """A field error, Vietnamese first."""

    vi: str
    en: str

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class FormInvalid(Exception):
    """The form cannot be saved: ``errors`` maps a form field name to its message."""

    def __init__(self, errors: dict[str, Message], cause: FhirError | None = None) -> None:
        super().__init__("; ".join(f"{k}: {m.en}" for k, m in errors.items()))
        self.errors = errors
        self.cause = cause

    def in_lang(self, lang: str) -> dict[str, str]:
        return {k: m.in_lang(lang) for k, m in self.errors.items()}


@dataclass(frozen=True, slots=True)
class VisitContext:
    """Who and when: the visit being recorded, its patient and the author of the entries."""

    encounter_id: str
    patient_id: str
    when: datetime  # aware
    author_id: str | None = None  # Practitioner id of the signed-in user
    author_name: str | None = None
    patient_gender: str | None = None
    patient_birth_date: str | None = None  # FHIR date (YYYY, YYYY-MM or YYYY-MM-DD): ICD-10 age rules

    @property
    def encounter_ref(self) -> dict[str, str]:
        return {"reference": f"Encounter/{self.encounter_id}"}

    @property
    def patient_ref(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.patient_id}"}

    @property
    def author_ref(self) -> dict[str, str] | None:
        if not self.author_id:
            return None
        ref = {"reference": f"Practitioner/{self.author_id}"}
        if self.author_name:
            ref["display"] = self.author_name
        return ref

    @property
    def timestamp(self) -> str:
        """FHIR dateTime in hospital time, seconds precision."""
        return fhir_datetime(self.when)


def fhir_datetime(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def search_all(repo: Repository, rtype: str, params: list[tuple[str, str]], count: int = 200) -> list[dict[str, Any]]:
    """The matches of one FHIR search (access-checked through the connection's guard), first ``count``."""
    repo.flush()
    bundle = search(repo.conn, rtype, [*params, ("_count", str(count)), ("_total", "none")],
                    base_url=repo.base_url, strict=True)
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def written(result: WriteResult) -> dict[str, Any]:
    """The resource as stored by a create or update."""
    assert result.stored is not None
    return result.stored.resource()


def coding_code(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c.get("code") for c in (concept or {}).get("coding") or [] if c.get("system") == system), None)


def clean_text(value: str | None, limit: int = 20_000) -> str:
    """Typed text with normalised line ends and no trailing blanks, cut at ``limit`` characters."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))[:limit]


__all__ = ["LOINC", "UCUM", "FormInvalid", "Message", "VisitContext", "clean_text", "coding_code", "fhir_datetime",
           "search_all", "written"]
