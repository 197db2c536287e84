"""The registration form (phiếu đăng ký người bệnh) and the FHIR Patient and Coverage it becomes.

Pure: no I/O. Vietnamese rules on identifiers are applied again by the repository on write, so this
module only checks what the repository cannot see (the form's own fields) and shapes the resources
the VN Core IG way (identifier systems, nationality/ethnicity/occupation extensions, administrative
address with province + commune codes). URIs of our own (marked ``urn:benhan:``) are listed in
:data:`OWN_URIS` and documented in ``docs/registration.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from benhan.fhir.errors import FhirError, Issue
from benhan.vn import bhyt, cccd, systems
from benhan.vn.errors import InvalidValue
from benhan.vn.names import clean, split_name

from .mpi.scoring import normalize_phone

EXT_BHYT_REGISTERED_FACILITY = systems.EXT_BHYT_REGISTERED_FACILITY  # MA_DKBD, valueIdentifier
EXT_BHYT_FIVE_YEARS = systems.EXT_BHYT_FIVE_YEARS  # ngày đủ 5 năm liên tục, valueDate
OWN_URIS = (EXT_BHYT_REGISTERED_FACILITY, EXT_BHYT_FIVE_YEARS)
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
BHXH_PAYOR = {"display": "Bảo hiểm xã hội Việt Nam"}
GENDERS = ("male", "female", "other", "unknown")


@dataclass(slots=True)
class Coded:
    """A code from a catalog (dân tộc, nghề nghiệp, quốc tịch, đơn vị hành chính) and its display."""

    code: str
    display: str | None = None


@dataclass(slots=True)
class AddressForm:
    """Address after the 2025 reform: province + commune; ``district`` only for old addresses (kept as text)."""

    line: str | None = None  # số nhà, đường, thôn/ấp
    commune: Coded | None = None  # xã/phường/đặc khu (code per the administrative-unit catalog)
    province: Coded | None = None  # tỉnh/thành phố
    district: str | None = None  # quận/huyện of an old (pre-07/2025) address, as written
    text: str | None = None  # the whole address as written; built from the parts when absent


@dataclass(slots=True)
class ContactForm:
    """A relative or other person to contact (người nhà cần báo tin)."""

    name: str
    relationship: str | None = None  # as said: "Mẹ", "Chồng", ...
    relationship_code: str | None = None  # v3-RoleCode, e.g. MTH, FTH, HUSB, WIFE, SON, DAU
    phone: str | None = None
    address: str | None = None


@dataclass(slots=True)
class BhytCardForm:
    """The BHYT card as presented (or as the BHXH portal returned it)."""

    number: str  # 15-character code or 10-digit mã số BHXH
    valid_from: date | None = None  # GT_THE_TU
    valid_to: date | None = None  # GT_THE_DEN
    registered_facility: str | None = None  # MA_DKBD, 5 characters
    five_years_from: date | None = None  # ngày đủ 5 năm liên tục


@dataclass(slots=True)
class PatientForm:
    """What reception enters; ``birth_date`` is a FHIR date (``1985``, ``1985-03``, ``1985-03-12``)."""

    name: str
    gender: str
    birth_date: str | None = None
    national_id: str | None = None  # CCCD / số định danh cá nhân
    cmnd: str | None = None
    passport: str | None = None
    phone: str | None = None
    address: AddressForm | None = None
    ethnicity: Coded | None = None  # dân tộc
    occupation: Coded | None = None  # nghề nghiệp
    nationality: Coded | None = None  # quốc tịch, ISO 3166-1 alpha-2 (VN)
    contacts: list[ContactForm] = field(default_factory=list)
    bhyt: BhytCardForm | None = None
    family_words: int | None = None  # how many leading words are the family name, if the form knows

    def card(self) -> bhyt.BhytCard | None:
        """The parsed BHYT card, or None; raises FhirError 422 naming the field."""
        if self.bhyt is None:
            return None
        try:
            return bhyt.parse_number(bhyt.normalize(self.bhyt.number))
        except InvalidValue as problem:
            raise FhirError(422, [problem.to_issue("bhyt.number")]) from problem


def check_form(form: PatientForm) -> None:
    """Raise FhirError 422 listing every problem with the form's own fields."""
    issues: list[Issue] = []
    if not isinstance(form.name, str) or not form.name.strip():
        issues.append(Issue("required", "Họ và tên không được để trống", "Name must not be empty", "name"))
    if form.gender not in GENDERS:
        issues.append(Issue("value", "Giới tính phải là male, female, other hoặc unknown",
                            "Gender must be male, female, other or unknown", "gender"))
    if form.birth_date is not None and not _is_fhir_date(form.birth_date):
        issues.append(Issue("value", "Ngày sinh phải có dạng yyyy, yyyy-mm hoặc yyyy-mm-dd",
                            "Birth date must be yyyy, yyyy-mm or yyyy-mm-dd", "birthDate"))
    if form.phone is not None and not 9 <= len(normalize_phone(form.phone)) <= 11:
        issues.append(Issue("value", "Số điện thoại không hợp lệ", "Invalid phone number", "phone"))
    if form.bhyt is not None and form.bhyt.registered_facility:
        try:
            bhyt.parse_registered_facility(form.bhyt.registered_facility)
        except InvalidValue as problem:
            issues.append(problem.to_issue("bhyt.registeredFacility"))
    for i, contact in enumerate(form.contacts):
        if not contact.name or not contact.name.strip():
            issues.append(Issue("required", "Tên người nhà không được để trống", "Contact name must not be empty",
                                f"contacts[{i}].name"))
    if issues:
        raise FhirError(422, issues)
    form.card()


def _is_fhir_date(value: str) -> bool:
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    if not isinstance(value, str) or len(value) not in formats:
        return False
    from datetime import datetime

    try:
        datetime.strptime(value, formats[len(value)])
    except ValueError:
        return False
    return True


def _identifier(system: str, value: str, **extra: Any) -> dict[str, Any]:
    ident: dict[str, Any] = {"use": "official",
                             "type": {"coding": [{"system": systems.V2_IDENTIFIER_TYPE,
                                                  "code": systems.IDENTIFIER_TYPE[system]}]},
                             "system": system, "value": value}
    ident.update(extra)
    return ident


def patient_code_identifier(code: str, facility_code: str) -> dict[str, Any]:
    """The facility's patient management code (mã bệnh nhân), assigned by the facility."""
    return _identifier(systems.PATIENT_INTERNAL_ID, code, use="usual",
                       assigner={"identifier": {"system": systems.PROVIDER_CODE, "value": facility_code}})


def form_identifiers(form: PatientForm) -> list[dict[str, Any]]:
    """CCCD, CMND, passport and the 10-digit BHXH number of the form, in that order."""
    idents: list[dict[str, Any]] = []
    if form.national_id:
        idents.append(_identifier(systems.NATIONAL_ID, cccd.normalize(form.national_id)))
    if form.cmnd:
        idents.append(_identifier(systems.CITIZEN_ID, cccd.normalize(form.cmnd), use="old"))
    if form.passport:
        idents.append(_identifier(systems.PASSPORT_NUMBER, form.passport.strip().upper()))
    card = form.card()
    if card is not None:
        idents.append(_identifier(systems.INSURANCE_NUMBER, card.social_insurance_number))
    return idents


def _concept(system: str, coded: Coded) -> dict[str, Any]:
    coding = {"system": system, "code": coded.code}
    if coded.display:
        coding["display"] = coded.display
    concept: dict[str, Any] = {"coding": [coding]}
    if coded.display:
        concept["text"] = coded.display
    return concept


def to_address(form: AddressForm) -> dict[str, Any]:
    """A VN Core Address: province/commune names in ``state``/``city``, their codes in the extension."""
    address: dict[str, Any] = {"use": "home"}
    parts = []
    admin: list[dict[str, Any]] = []
    if form.line:
        address["line"] = [clean(form.line)]
        parts.append(clean(form.line))
    if form.commune is not None:
        if form.commune.display:
            address["city"] = form.commune.display
            parts.append(form.commune.display)
        admin.append({"url": "ward", "valueCodeableConcept": _concept(systems.ADMINISTRATIVE_ADDRESS, form.commune)})
    if form.district:
        address["district"] = clean(form.district)
        parts.append(clean(form.district))
    if form.province is not None:
        if form.province.display:
            address["state"] = form.province.display
            parts.append(form.province.display)
        admin.insert(0, {"url": "state",
                         "valueCodeableConcept": _concept(systems.ADMINISTRATIVE_ADDRESS, form.province)})
    address["text"] = clean(form.text) if form.text else ", ".join(parts)
    address["country"] = "VN"
    if admin:
        address["extension"] = [{"url": systems.EXT_ADMINISTRATIVE_ADDRESS, "extension": admin}]
    return address


def to_contact(form: ContactForm) -> dict[str, Any]:
    relationship: dict[str, Any] = {"coding": [{"system": V2_CONTACT_ROLE, "code": "N", "display": "Next-of-Kin"}]}
    if form.relationship_code:
        relationship["coding"].append({"system": V3_ROLE_CODE, "code": form.relationship_code})
    if form.relationship:
        relationship["text"] = clean(form.relationship)
    contact: dict[str, Any] = {"relationship": [relationship], "name": split_name(form.name, use="usual")}
    if form.phone:
        contact["telecom"] = [{"system": "phone", "value": normalize_phone(form.phone)}]
    if form.address:
        contact["address"] = {"text": clean(form.address)}
    return contact


def to_patient(form: PatientForm) -> dict[str, Any]:
    """The Patient for ``form`` (no id, no facility code: the service adds them)."""
    patient: dict[str, Any] = {"resourceType": "Patient"}
    extensions = []
    if form.nationality is not None:
        extensions.append({"url": systems.EXT_NATIONALITY,
                           "valueCodeableConcept": _concept(systems.ISO_3166, form.nationality)})
    if form.ethnicity is not None:
        extensions.append({"url": systems.EXT_ETHNIC_GROUP,
                           "valueCodeableConcept": _concept(systems.ETHNIC_GROUP, form.ethnicity)})
    if form.occupation is not None:
        extensions.append({"url": systems.EXT_OCCUPATION,
                           "valueCodeableConcept": _concept(systems.OCCUPATION, form.occupation)})
    if extensions:
        patient["extension"] = extensions
    idents = form_identifiers(form)
    if idents:
        patient["identifier"] = idents
    patient["active"] = True
    patient["name"] = [split_name(form.name, family_words=form.family_words)]
    if form.phone:
        patient["telecom"] = [{"system": "phone", "value": normalize_phone(form.phone), "use": "mobile"}]
    patient["gender"] = form.gender
    if form.birth_date:
        patient["birthDate"] = form.birth_date
    if form.address is not None:
        patient["address"] = [to_address(form.address)]
    if form.contacts:
        patient["contact"] = [to_contact(c) for c in form.contacts]
    return patient


def to_coverage(form: BhytCardForm, card: bhyt.BhytCard, patient_ref: str) -> dict[str, Any]:
    """The BHYT Coverage of ``patient_ref``: card code, validity, payor BHXH, group and benefit level."""
    coverage: dict[str, Any] = {
        "resourceType": "Coverage",
        "identifier": [_identifier(systems.INSURANCE_NUMBER, card.value)],
        "status": "active",
        "type": {"coding": [{"system": V3_ACT_CODE, "code": "PUBLICPOL", "display": "public healthcare"}],
                 "text": "Bảo hiểm y tế (BHYT)"},
        "subscriberId": card.value,
        "beneficiary": {"reference": patient_ref},
        "relationship": {"coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": "self"}]},
        "payor": [dict(BHXH_PAYOR)],
    }
    extensions = []
    if form.registered_facility:
        extensions.append({"url": EXT_BHYT_REGISTERED_FACILITY,
                           "valueIdentifier": {"system": systems.PROVIDER_CODE, "value": form.registered_facility}})
    if form.five_years_from:
        extensions.append({"url": EXT_BHYT_FIVE_YEARS, "valueDate": form.five_years_from.isoformat()})
    if extensions:
        coverage = {"resourceType": "Coverage", "extension": extensions,
                    **{k: v for k, v in coverage.items() if k != "resourceType"}}
    period = {k: v.isoformat() for k, v in (("start", form.valid_from), ("end", form.valid_to)) if v}
    if period:
        coverage["period"] = period
    classes = []
    if card.group is not None:
        info = bhyt.group_info(card.group)
        group = {"type": {"coding": [{"system": COVERAGE_CLASS, "code": "group"}]}, "value": card.group}
        if info is not None and info.vi:
            group["name"] = info.vi
        classes.append(group)
    if card.benefit_digit is not None:
        level = bhyt.benefit(card)
        classes.append({"type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]},
                        "value": str(card.benefit_digit), "name": f"Mức hưởng {level.percent}%"})
    if classes:
        coverage["class"] = classes
    return coverage
