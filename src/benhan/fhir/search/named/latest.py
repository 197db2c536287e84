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

from sqlalchemy import ColumnElement, func, literal, select

from benhan.db import schema as s

from ..sql import Context
from . import Crit, Criterion, NamedQuery, Parameter

TYPE = "Observation"
_NEVER = -(2**62)  # the key of an Observation without an effective date: older than any date (µs since 1970)


def _recency(ctx: Context, res: Any) -> ColumnElement[Any]:
    """The end of ``res``'s effective date (latest ``high`` of its ``date`` rows), or :data:`_NEVER`."""
    d = s.idx_date.alias(ctx.alias_name("latest_date"))
    newest = (select(func.max(d.c.high)).where(d.c.res_pk == res.c.pk, d.c.res_type == TYPE, d.c.param == "date")
              .correlate(res))
    return func.coalesce(newest.scalar_subquery(), literal(_NEVER))


def _compile(ctx: Context, others: list[Crit], criterion: Criterion) -> list[ColumnElement[bool]]:
    """The current row is not among the Observations ranked below another for some (patient, coding).

    One uncorrelated subquery, computed once per search: each coding of each matching Observation, ranked
    within its patient and coding by recency (``dense_rank``: a coding repeated in one Observation ranks
    once). A correlated "no newer one" (NOT EXISTS over two joins of index rows) was tried first: on a
    fresh PostgreSQL database without statistics its estimates of one row per scan made it a nest of loops
    that ran for minutes over 70 Observations; the ranking has no join order to get wrong.
    """
    other = s.resource.alias(ctx.alias_name("latest_res"))
    # the matching Observations, compiled at the same depth: this is the same search, not a link of a chain
    sub = Context(other, TYPE, ctx.dialect, ctx.base_url, ctx.now, ctx.strict, ctx.warnings, ctx.depth,
                  ctx.aliases, ctx.access, ctx.conn)
    matches = [m for m in (criterion(sub, name, values, raw) for raw, name, values in others) if m is not None]
    code = s.idx_token.alias(ctx.alias_name("latest_code"))
    patient = s.idx_reference.alias(ctx.alias_name("latest_patient"))
    rank = func.dense_rank().over(
        partition_by=[patient.c.target_type, patient.c.target_id, code.c.code, func.coalesce(code.c.system, "")],
        order_by=[_recency(ctx, other).desc(), other.c.pk.desc()])  # more recent first; a tie: stored later
    ranked = (
        select(other.c.pk.label("pk"), rank.label("rank"))
        .select_from(other.join(code, code.c.res_pk == other.c.pk).join(patient, patient.c.res_pk == other.c.pk))
        .where(code.c.res_type == TYPE, code.c.param == "code", code.c.code.is_not(None),
               patient.c.res_type == TYPE, patient.c.param == "patient", patient.c.target_id.is_not(None),
               other.c.type == TYPE, other.c.deleted.is_(False), *matches, *ctx.visible(other, TYPE))
        .subquery(ctx.alias_name("ranked"))
    )
    return [ctx.res.c.pk.not_in(select(ranked.c.pk).where(ranked.c.rank > 1))]


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
