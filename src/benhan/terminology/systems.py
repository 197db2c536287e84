"""Code-system and value-set URIs of the terminology service that are not in :mod:`benhan.vn.systems`.

:mod:`benhan.vn.systems` stays the one place for the Ministry's (VN Core IG) URIs; this module adds
only what that module does not hold:

* ICD-10: ``http://hl7.org/fhir/sid/icd-10``, the system FHIR R4 names for ICD-10 and the one the VN Core
  IG ValueSet ``vn-core-condition-code`` includes (the IG's ``CodeSystem-icd10.xml`` is THO's resource
  ``http://terminology.hl7.org/CodeSystem/icd10``, content ``not-present``; its codings still use the
  ``sid`` URI). The Vietnamese lists (QĐ 4469/2020, later TT 06/2026) are told apart by ``version``,
  never by a different system, so codes written today stay comparable with codes written in 2021.
* International systems FHIR itself defines (administrative gender, v3 RoleCode, v2-0131).
* Lists with no published FHIR URI (BHYT department codes) and value sets without a published URL: a
  ``urn:benhan:`` name of ours, declared in :mod:`benhan.vn.systems` with our other URIs and re-exported here.
"""

from __future__ import annotations

from typing import Final

from benhan.vn import systems as _vn

ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
ADMINISTRATIVE_GENDER: Final = "http://hl7.org/fhir/administrative-gender"
V3_ROLE_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

# Our own names, for lists without an official FHIR URI (declared in benhan.vn.systems).
DEPARTMENT_BHYT: Final = _vn.DEPARTMENT_BHYT  # mã khoa BHYT (QĐ 1804/QĐ-BYT), see data/SOURCE.md

# ValueSets ("all codes of ...") that have no published URL; the IG's own ValueSets are used where they exist.
VS_ICD10: Final = _vn.VS_ICD10
VS_DEPARTMENT: Final = _vn.VS_DEPARTMENT
VS_RELATIONSHIP: Final = _vn.VS_RELATIONSHIP
VS_GENDER: Final = "http://hl7.org/fhir/ValueSet/administrative-gender"
VS_COUNTRY: Final = "http://hl7.org/fhir/ValueSet/iso3166-1-2"
VS_ETHNICITY: Final = "http://fhir.ehealth.gov.vn/core/ValueSet/vn-core-race"
VS_OCCUPATION: Final = "http://fhir.ehealth.gov.vn/core/ValueSet/vn-core-occupation"
VS_ADMINISTRATIVE_ADDRESS: Final = "http://fhir.ehealth.gov.vn/core/ValueSet/vn-core-administrative-address"
