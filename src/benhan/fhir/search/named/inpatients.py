"""``Encounter?_query=current-inpatients``: the patients in hospital now (bệnh nhân đang điều trị nội trú).

An inpatient stay is an Encounter of class IMP (or its v3 specialisations ACUTE and NONAC, as some systems
send them) whose status is ``in-progress``, or ``onleave``: a patient on leave (về phép) keeps the bed and
the stay, and is counted in the ward's census. The demo hospital and the ward workflows write stays this way
(class IMP, ``in-progress`` until discharge, then ``finished``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from ..query import parse_name
from ..sql import Context
from . import Crit, Criterion, NamedQuery, Parameter

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLASSES = ("IMP", "ACUTE", "NONAC")
STATUSES = ("in-progress", "onleave")


def _compile(ctx: Context, others: list[Crit], criterion: Criterion) -> list[ColumnElement[bool]]:
    out = []
    for raw, values in (("status", list(STATUSES)), ("class", [f"{ACT_CODE}|{c}" for c in CLASSES])):
        cond = criterion(ctx, parse_name(raw), values, raw)
        assert cond is not None  # both are indexed Encounter parameters
        out.append(cond)
    return out


QUERY = NamedQuery(
    code="current-inpatients",
    resource="Encounter",
    title="Current inpatients / Bệnh nhân đang điều trị nội trú",
    description=("Inpatient stays in progress: Encounters of class IMP, ACUTE or NONAC "
                 "(http://terminology.hl7.org/CodeSystem/v3-ActCode) whose status is in-progress or onleave. "
                 "Every other search parameter of Encounter may be added and is ANDed. / Các lượt điều trị nội trú "
                 "đang diễn ra (kể cả bệnh nhân về phép)."),
    parameters=(
        Parameter("location", "reference", 0, "*",
                  "The ward, room or bed (Encounter location parameter: any location of the stay) / khoa, phòng, "
                  "giường"),
        Parameter("service-provider", "reference", 0, "1",
                  "The department (Organization) responsible for the stay / khoa điều trị"),
    ),
    compile=_compile,
)
