"""``_list`` (R4 search.html "_list"): the resources referenced by the entries of a List.

``Patient?_list=42`` keeps the patients some ``List/42`` entry points at. The List's ``item``
search parameter (``List.entry.item``) is already indexed in ``idx_reference``, so the condition is
one more correlated lookup: the reference rows of that List whose target is the current resource.
The List itself must be visible to the caller (the same access conditions as chained resources), so
a list one may not read never reveals which resources it holds. Several values (``_list=1,2``) are
ORed; repeated parameters are ANDed like any other.

Functional lists (``$current-allergies``, ``$current-problems``, ...) are not implemented and answer
400 ``not-supported`` naming the value, never an empty or unfiltered result.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.sql import literal

from benhan.db import schema as s

from ..errors import FhirError
from . import local_refs
from .problems import bad_modifier, bad_value
from .query import Name, unescape
from .refs import is_local
from .sql import Context, correlate

_ITEM = "item"  # List.entry.item, the R4 SearchParameter List-item


def list_id(raw: str, value: str) -> str:
    """The List id of one ``_list`` value (``42`` or ``List/42``)."""
    text = unescape(value).strip()
    if text.startswith("$"):
        raise FhirError.one(400, "not-supported",
                            f"Danh sách chức năng '{text}' của tham số _list chưa được hỗ trợ "
                            "(chỉ nhận id của một List đã lưu)",
                            f"The functional list '{text}' of _list is not supported "
                            "(only the id of a stored List)", raw)
    if text.startswith("List/"):
        text = text[len("List/"):]
    if not text or "/" in text or len(text) > 64:
        raise bad_value(raw, value, "cần id của một List (ví dụ 42 hoặc List/42)",
                        "expected the id of a List (e.g. 42 or List/42)")
    return text


def condition(ctx: Context, name: Name, values: list[str], raw: str) -> ColumnElement[bool]:
    """The current resource is an entry of one of the Lists ``values`` (visible to the caller)."""
    if name.modifier is not None:
        raise bad_modifier(raw, name.modifier)
    if name.chain is not None:
        raise bad_value(raw, ",".join(values), "_list không nối chuỗi được", "_list cannot be chained")
    ids = sorted({list_id(raw, v) for v in values})
    if local_refs.holder(ctx.res) is not None:  # a contained resource: only an entry "#id" of its container
        found = local_refs.referred_by_container(ctx, "List", _ITEM, lambda sub: sub.res.c.id.in_(ids))
        assert found is not None
        return found
    ref = s.idx_reference.alias(ctx.alias_name("list_ref"))
    lst = s.resource.alias(ctx.alias_name("list_res"))
    joined = ref.join(lst, lst.c.pk == ref.c.res_pk)
    conds = [ref.c.res_type == "List", ref.c.param == _ITEM, is_local(ref, ctx.base_url, ctx.dialect),
             lst.c.type == "List", lst.c.id.in_(ids) if len(ids) > 1 else lst.c.id == ids[0],
             lst.c.deleted.is_(False), *ctx.visible(lst, "List")]  # a hidden List must not reveal its members
    if ctx.rtype is None:  # system level: the type is a column of the outer row too
        return select(literal(1)).select_from(joined).where(
            ref.c.target_type == ctx.res.c.type, ref.c.target_id == ctx.res.c.id, *conds).exists()
    return correlate(ctx.dialect, joined, ref.c.target_id, ctx.res.c.id, ref.c.target_type == ctx.rtype, *conds)
