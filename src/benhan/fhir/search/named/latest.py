"""``Observation?_query=latest&patient=...``: a patient's most recent Observation of each code (kết quả mới nhất).

What a chart shows beside each vital sign and test: the last value. An Observation is the latest of its code
when no other Observation of the same patient that shares a coding (same system and code) with it and
matches the request's other parameters is more recent. More recent: a later end of ``effective[x]`` (the
``date`` parameter, compared as ``_sort=-date`` does), an Observation without one counting as older than any
with one; on a tie, the one stored last. The other Observation must be one the caller may see: a hidden
result never hides a visible one. ``patient`` is required, which keeps the comparison to one patient's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, select, tuple_

from benhan.db import schema as s

from ..sql import Context
from . import Crit, Criterion, NamedQuery, Parameter

TYPE = "Observation"
_NEVER = -(2**62)  # the key of an Observation without an effective date: older than any date (µs since 1970)


def _recency(ctx: Context, res: Any) -> ColumnElement[Any]:
    """The end of ``res``'s effective date (latest ``high`` of its ``date`` rows), or :data:`_NEVER`."""
    d = s.idx_date.alias(ctx.alias_name("latest_date"))
    newest = (select(func.max(d.c.high)).where(d.c.res_pk == res.c.pk, d.c.res_type == TYPE, d.c.param == "date")
              .correlate(res))  # explicit: the candidate's row is two levels up
    return func.coalesce(newest.scalar_subquery(), literal(_NEVER))


def _compile(ctx: Context, others: list[Crit], criterion: Criterion) -> list[ColumnElement[bool]]:
    res = ctx.res
    other = s.resource.alias(ctx.alias_name("newer"))
    # the other Observation is compiled at the same depth: it is the same search, not a link of a chain
    sub = Context(other, TYPE, ctx.dialect, ctx.base_url, ctx.now, ctx.strict, ctx.warnings, ctx.depth,
                  ctx.aliases, ctx.access, ctx.conn)
    matches = [criterion(sub, name, values, raw) for raw, name, values in others]
    mine, theirs = s.idx_token.alias(ctx.alias_name("code")), s.idx_token.alias(ctx.alias_name("code"))
    my_patient = s.idx_reference.alias(ctx.alias_name("patient"))
    their_patient = s.idx_reference.alias(ctx.alias_name("patient"))
    mine_key, theirs_key = _recency(ctx, res), _recency(ctx, other)
    joined = (other.join(theirs, theirs.c.res_pk == other.c.pk)
              .join(their_patient, their_patient.c.res_pk == other.c.pk)
              .join(mine, and_(mine.c.res_pk == res.c.pk, mine.c.code == theirs.c.code,
                               func.coalesce(mine.c.system, "") == func.coalesce(theirs.c.system, "")))
              .join(my_patient, and_(my_patient.c.res_pk == res.c.pk,
                                     my_patient.c.target_type == their_patient.c.target_type,
                                     my_patient.c.target_id == their_patient.c.target_id)))
    newer = select(literal(1)).select_from(joined).where(
        mine.c.res_type == TYPE, mine.c.param == "code", theirs.c.res_type == TYPE, theirs.c.param == "code",
        my_patient.c.res_type == TYPE, my_patient.c.param == "patient",
        their_patient.c.res_type == TYPE, their_patient.c.param == "patient",
        other.c.type == TYPE, other.c.deleted.is_(False), other.c.pk != res.c.pk,
        tuple_(theirs_key, other.c.pk) > tuple_(mine_key, res.c.pk),  # more recent; a tie: stored later
        *[m for m in matches if m is not None], *ctx.visible(other, TYPE))
    return [~exists(newer)]


QUERY = NamedQuery(
    code="latest",
    resource=TYPE,
    title="Latest observation of each code / Kết quả mới nhất theo từng mã",
    description=("For one patient, the most recent Observation of each code (coding system and code) among the "
                 "Observations matching the other parameters: a later end of effective[x] is more recent, none "
                 "counts as oldest, ties go to the one stored last. / Kết quả mới nhất của từng mã xét nghiệm, "
                 "dấu hiệu sinh tồn của một người bệnh."),
    parameters=(
        Parameter("patient", "reference", 1, "*", "The patient (Observation patient parameter) / người bệnh"),
        Parameter("code", "token", 0, "*", "Only these codes (Observation code parameter) / chỉ các mã này"),
    ),
    compile=_compile,
)
