"""The one place for the identifier-system, code-system and extension URIs: national ones and our own.

Source: the draft VN Core IG (``hl7vn/vn-core-ig`` commit 8e6b6e07, copied to
``shared/data/vn-core-ig/``): its NamingSystems' ``uniqueId`` where one exists, otherwise the
``fixedUri`` of the profile slice. The IG is a draft, not a mandated standard (no legal obligation to
use FHIR; see ``shared/domain/catalogs-and-standards.md`` §6), so every URI lives here and nowhere else.

Inconsistencies found in the IG (and what we do):

1. Driver's licence: NamingSystem ``sid/driver-license-number`` vs Patient profile slice BangLaiXe
   ``sid/driver_license_number``. We write the NamingSystem spelling and read both
   (:data:`ALIASES`).
2. NamingSystem ``sid-provider-code`` (facility code, mã cơ sở KCB) declares the uniqueId
   ``sid/provider-medical-license-number``, the same URI as NamingSystem
   ``sid-provider-medical-license-number`` (operating licence). The Provider profile slice MaCSKCB
   uses ``sid/provider-code``; we follow the profile, so facility codes have a URI of their own.
3. Separators are mixed: ``national_id``, ``citizen_id``, ``insurance_number``, ``passport_number``
   use underscores; ``patient-internal-id``, ``driver-license-number``, ``provider-*`` use hyphens.
   We copy each exactly; do not "fix" them.
4. Every NamingSystem except citizen_id declares jurisdiction M49 ``826`` (United Kingdom) instead
   of ``704`` (Viet Nam): a template left-over, harmless to us.
5. NamingSystem passport_number has type text "Citizen Identifier" and usage "số CMTND" (copied from
   citizen_id); national_id and citizen_id share the v2-0203 type ``NI``.
6. Profiles use systems with no NamingSystem: Practitioner ``healthworker-employee-number``,
   Encounter ``MRN``, ``VisitNumber``, ``ArchiveNumber`` (CamelCase, unlike all others).
7. insurance_number does not say whether the value is the 15-character card code or the 10-digit
   BHXH number; we accept both (:func:`benhan.vn.bhyt.parse_number`).
"""

from __future__ import annotations

from typing import Final

_SID: Final = "http://fhir.ehealth.gov.vn/core/sid/"
_CS: Final = "http://fhir.ehealth.gov.vn/core/CodeSystem/"
_SD: Final = "http://fhir.ehealth.gov.vn/core/StructureDefinition/"

# --- Identifier systems (NamingSystem uniqueId) ------------------------------------------------
NATIONAL_ID: Final = _SID + "national_id"  # số định danh cá nhân / thẻ căn cước (CCCD), 12 digits
CITIZEN_ID: Final = _SID + "citizen_id"  # chứng minh nhân dân (CMND), old ID card
INSURANCE_NUMBER: Final = _SID + "insurance_number"  # mã thẻ BHYT (15 chars) or mã số BHXH (10 digits)
PASSPORT_NUMBER: Final = _SID + "passport_number"  # số hộ chiếu (any country)
PATIENT_INTERNAL_ID: Final = _SID + "patient-internal-id"  # mã bệnh nhân tại cơ sở KCB
DRIVER_LICENSE_NUMBER: Final = _SID + "driver-license-number"  # giấy phép lái xe (NamingSystem spelling)
PROVIDER_LICENSE_NUMBER: Final = _SID + "provider-license-number"  # số đăng ký kinh doanh of a facility
PROVIDER_MEDICAL_LICENSE_NUMBER: Final = _SID + "provider-medical-license-number"  # giấy phép hoạt động KCB

# --- Identifier systems used by profiles without a NamingSystem ---------------------------------
PROVIDER_CODE: Final = _SID + "provider-code"  # mã cơ sở KCB (BHYT facility code, 5 chars); see note 2
HEALTHWORKER_EMPLOYEE_NUMBER: Final = _SID + "healthworker-employee-number"  # mã số nhân viên
ENCOUNTER_MRN: Final = _SID + "MRN"  # mã hồ sơ bệnh án
ENCOUNTER_VISIT_NUMBER: Final = _SID + "VisitNumber"  # mã lượt khám
ENCOUNTER_ARCHIVE_NUMBER: Final = _SID + "ArchiveNumber"  # số lưu trữ

# Spellings found in the IG that mean the same system as a canonical constant above.
ALIASES: Final[dict[str, str]] = {
    _SID + "driver_license_number": DRIVER_LICENSE_NUMBER,  # Patient profile slice BangLaiXe
}


def canonical(system: str) -> str:
    """``system`` with IG misspellings mapped to the URI we write (see :data:`ALIASES`)."""
    return ALIASES.get(system, system)


# --- Code systems (CodeSystem.url) ---------------------------------------------------------------
# The IG's names are misleading: "vn-core-race" lists the 54 ethnic groups (dân tộc: Kinh, Tày, Thái, ...)
# and "vn-core-ethic" lists religions (tôn giáo: Phật giáo, Công giáo, ...). We name them by their content.
ETHNIC_GROUP: Final = _CS + "vn-core-race"  # dân tộc
RACE: Final = ETHNIC_GROUP  # the IG's own name for the same code system
RELIGION: Final = _CS + "vn-core-ethic"  # tôn giáo
EDUCATION_LEVEL: Final = _CS + "vn-core-education-level"  # trình độ học vấn
OCCUPATION: Final = _CS + "vn-core-occupation"  # nghề nghiệp
OCCUPATION_4069: Final = _CS + "vn-core-occupation-4069"  # nghề nghiệp theo QĐ 4069
ADMINISTRATIVE_ADDRESS: Final = _CS + "vn-core-administrative-address"  # địa danh hành chính (GSO)
MEDICATION_CODE: Final = _CS + "vn-core-medicationCode"  # mã thuốc
PROCEDURE_CODE: Final = _CS + "vn-core-procedureCode"  # mã dịch vụ kỹ thuật

# --- Extensions (StructureDefinition.url) --------------------------------------------------------
EXT_NATIONALITY: Final = _SD + "extension-nationality"  # quốc tịch: valueCodeableConcept, ISO 3166-1 alpha-2
EXT_ETHNIC_GROUP: Final = _SD + "extension-race"  # dân tộc (bound to vn-core-race)
EXT_RACE: Final = EXT_ETHNIC_GROUP
EXT_RELIGION: Final = _SD + "extension-ethic"  # tôn giáo (bound to vn-core-ethic)
EXT_OCCUPATION: Final = _SD + "extension-occupation"
EXT_EDUCATION_LEVEL: Final = _SD + "extension-education-level"
EXT_ADMINISTRATIVE_ADDRESS: Final = _SD + "extension-administrative-address"

# --- International systems the profiles bind to --------------------------------------------------
ISO_3166: Final = "urn:iso:std:iso:3166"  # country codes (nationality)
V2_IDENTIFIER_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v2-0203"
# Identifier.type code the IG fixes for each system (NamingSystem.type / profile slice).
IDENTIFIER_TYPE: Final[dict[str, str]] = {
    NATIONAL_ID: "NI",
    CITIZEN_ID: "NI",
    INSURANCE_NUMBER: "SB",
    PASSPORT_NUMBER: "PPN",
    PATIENT_INTERNAL_ID: "PI",
    DRIVER_LICENSE_NUMBER: "DL",
    PROVIDER_CODE: "LN",
    PROVIDER_LICENSE_NUMBER: "LN",
    PROVIDER_MEDICAL_LICENSE_NUMBER: "LN",
}

# --- Our own URIs (urn:benhan:...) ------------------------------------------------------------------
# Bệnh Án's names for what has no national (VN Core IG) or HL7 URI. They are stored in every database
# and in the demo data, so their values never change; three spellings co-exist from different sessions
# (``urn:benhan:fhir:StructureDefinition/x``, ``urn:benhan:fhir:extension:x``,
# ``urn:benhan:fhir:CodeSystem:x``) and are kept as written. New ones follow ``urn:benhan:fhir:<kind>:<name>``
# for code systems and ``urn:benhan:fhir:StructureDefinition/<name>`` for extensions. Replace one by a
# published URI (keeping an alias) once the Ministry publishes it.
_OURS: Final = "urn:benhan:fhir:"

# Identifier systems (ours)
QUEUE_NUMBER: Final = _OURS + "queue-number"  # Encounter.identifier: số thứ tự khám (per exam room, per day)
PRESCRIPTION_CODE: Final = "urn:benhan:sid:ma-don-thuoc"  # mã đơn thuốc (TT 26/2025 format): groupIdentifier

# Code systems (ours)
RECORD_STATE: Final = _OURS + "record-state"  # meta.tag code "signed": the record is signed (ký số); signing only
RECORD_FORM: Final = _OURS + "record-form"  # Composition.category: the Ministry's form code (15/BV1)
QUEUE_PRIORITY: Final = _OURS + "queue-priority"  # legal priority groups, Luật KCB 2023 Art. 3 cl. 2
VISIT_OUTCOME: Final = _OURS + "visit-outcome"  # dischargeDisposition of a visit: home | admit | transfer
PRESCRIPTION_CHECK: Final = _OURS + "prescription-check"  # DetectedIssue.code: allergy, duplicate, duration, ...
SERVICE_CATALOG: Final = _OURS + "CodeSystem:dich-vu"  # danh mục dịch vụ kỹ thuật (hospital-local codes)
DRUG_CATALOG: Final = _OURS + "CodeSystem:thuoc"  # danh mục thuốc (hospital-local codes)
DEPARTMENT_BHYT: Final = _OURS + "CodeSystem:ma-khoa"  # mã khoa BHYT (QĐ 1804/QĐ-BYT): no published URI
AUDIT_EVENT_TYPE: Final = "urn:benhan:audit-event-type"  # AuditEvent.type/subtype: our audit actions

# Definitions (ours): the OperationDefinitions of our named queries (_query), + "<Type>-<code>"
OPERATION_DEFINITION: Final = _OURS + "OperationDefinition:"

# Value sets ("all codes of ...") without a published URL (ours)
VS_ICD10: Final = _OURS + "ValueSet:icd-10-vn"  # ICD-10 as used in Viet Nam (QĐ 4469, later TT 06/2026)
VS_DEPARTMENT: Final = _OURS + "ValueSet:ma-khoa"  # mã khoa BHYT
VS_RELATIONSHIP: Final = _OURS + "ValueSet:contact-relationship"  # contact relationship (v3 RoleCode subset)

# Extensions (ours)
EXT_PAYMENT_CATEGORY: Final = _OURS + "StructureDefinition/payment-category"  # Encounter: valueCode bhyt | fee
EXT_QUEUE_PRIORITY: Final = _OURS + "StructureDefinition/queue-priority"  # Encounter: valueCoding, per group
EXT_QUEUE_REQUEUED: Final = _OURS + "StructureDefinition/queue-requeued"  # Encounter: valueDateTime sent back
EXT_COUNTER_VALUE: Final = _OURS + "extension:counter-value"  # counter Basic (before migration 0013)
EXT_COUNTER_DAY: Final = _OURS + "extension:counter-day"  # daily counter Basic (before 0013)
EXT_BHYT_REGISTERED_FACILITY: Final = _OURS + "extension:bhyt-registered-facility"  # Coverage: MA_DKBD
EXT_BHYT_FIVE_YEARS: Final = _OURS + "extension:bhyt-five-years-from"  # Coverage: ngày đủ 5 năm liên tục

# Other names (ours)
SIGNATURE_PURPOSE: Final = "urn:benhan:signature:record:1"  # "purpose" inside a signed record's JWS payload
USER_ID: Final = "urn:benhan:user"  # AuditEvent.agent.who.identifier: a user account's username
CLIENT_ID: Final = "urn:benhan:client"  # AuditEvent.agent.who.identifier: a registered app's client_id
