"""FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a ``Parameters`` body of ``operation``s.

Each operation has parts ``type`` (add | insert | delete | replace | move), ``path`` (FHIRPath), and as
the type needs ``name``, ``value``, ``index``, ``source``, ``destination``. Paths are evaluated here over
the resource's JSON with the location of every element kept (its parent, JSON key and list index), so an
operation can change the element the path selects; ``where(...)`` criteria are evaluated by the FHIRPath
compiler (:mod:`benhan.fhir.fhirpath`). The element model (:mod:`benhan.fhir.definitions`) decides JSON
names of choice elements (``value`` → ``valueQuantity``) and whether an added element is a list.

Rules of the specification enforced: a path must select a single element (``delete`` may select none),
``resolve()`` may not leave the resource, ``add`` to a non-repeating element only when it is absent,
``insert``/``move`` indexes within the list. The patched resource is then validated like any update by
the repository. Errors: a malformed patch document is 400, an operation that cannot be applied 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import definitions
from .errors import FhirError, invalid
from .fhirpath import compile_path
from .fhirpath_parser import FhirPathSyntaxError, Node, parse

TYPES = frozenset({"add", "insert", "delete", "replace", "move"})
_PARTS = frozenset({"type", "path", "name", "value", "index", "source", "destination"})


@dataclass(slots=True)
class Located:
    """An element of the resource and where it sits: ``parent.value[key]`` (``[index]`` in a list).

    ``owner``/``inner`` are its place in the element model (type name, path inside it), as in
    :func:`benhan.fhir.definitions.resolve`; ``code`` is its concrete type.
    """

    value: Any
    parent: Located | None
    key: str | None
    index: int | None
    owner: str
    inner: str
    code: str
    element: definitions.ElementDef | None = None


def is_fhirpath_patch(body: Any) -> bool:
    """Whether a PATCH body is a FHIRPath Patch (a ``Parameters`` resource) rather than a JSON Patch."""
    return isinstance(body, dict) and body.get("resourceType") == "Parameters"


def apply(resource: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A patched copy of ``resource``; operations apply in order, all or none."""
    import copy

    result = copy.deepcopy(resource)
    for n, param in enumerate(patch.get("parameter") or []):
        where = f"Parameters.parameter[{n}]"
        if not isinstance(param, dict) or param.get("name") != "operation":
            raise invalid("Mỗi tham số của FHIRPath Patch phải tên là 'operation'",
                          "Each FHIRPath Patch parameter must be named 'operation'", where)
        _apply_one(result, _operation(param, where), where)
    return result


# --- the operation document --------------------------------------------------------------------------


def _operation(param: dict[str, Any], where: str) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for part in param.get("part") or []:
        name = part.get("name") if isinstance(part, dict) else None
        if name not in _PARTS:
            raise invalid(f"Phần '{name}' không có trong FHIRPath Patch", f"Unknown FHIRPath Patch part '{name}'",
                          f"{where}.part")
        if name in parts:
            raise invalid(f"Phần '{name}' lặp lại", f"The part '{name}' is repeated", f"{where}.part")
        parts[name] = part
    kind = _primitive(parts.get("type"))
    if kind not in TYPES:
        raise invalid(f"Loại thao tác '{kind}' không hợp lệ (add, insert, delete, replace, move)",
                      f"Invalid operation type '{kind}' (expected add, insert, delete, replace or move)",
                      f"{where}.part")
    needed = {"add": ("path", "name", "value"), "insert": ("path", "value", "index"), "delete": ("path",),
              "replace": ("path", "value"), "move": ("path", "source", "destination")}[kind]
    missing = [p for p in needed if p not in parts]
    if missing:
        raise invalid(f"Thao tác {kind} thiếu phần: {', '.join(missing)}",
                      f"The {kind} operation is missing: {', '.join(missing)}", f"{where}.part")
    out: dict[str, Any] = {"type": kind, "path": _primitive(parts["path"])}
    for name in ("name", "index", "source", "destination"):
        if name in parts:
            out[name] = _primitive(parts[name])
    if "value" in parts:
        out["value"] = parts["value"]
    for name in ("index", "source", "destination"):
        if name in out and (not isinstance(out[name], int) or isinstance(out[name], bool) or out[name] < 0):
            raise invalid(f"'{name}' phải là số nguyên không âm", f"'{name}' must be a non-negative integer",
                          f"{where}.part")
    if not isinstance(out["path"], str) or not out["path"]:
        raise invalid("'path' phải là chuỗi FHIRPath", "'path' must be a FHIRPath string", f"{where}.part")
    return out


def _primitive(part: dict[str, Any] | None) -> Any:
    if part is None:
        return None
    return next((v for k, v in part.items() if k.startswith("value")), None)


# --- applying ----------------------------------------------------------------------------------------


def _fail(vi: str, en: str, where: str) -> FhirError:
    return FhirError.one(422, "processing", f"Không áp dụng được FHIRPath Patch: {vi}",
                         f"FHIRPath Patch could not be applied: {en}", where)


def _apply_one(resource: dict[str, Any], op: dict[str, Any], where: str) -> None:
    kind, path = op["type"], op["path"]
    try:
        tree = parse(path)
    except FhirPathSyntaxError as exc:
        raise invalid(f"Đường dẫn FHIRPath không hợp lệ: {path}", f"Invalid FHIRPath '{path}': {exc}",
                      f"{where}.part") from exc
    root = Located(resource, None, None, None, resource["resourceType"], "", resource["resourceType"])
    if kind in ("insert", "move"):
        _list_operation(root, tree, op, where)
        return
    found = _evaluate(tree, [root], root, path, where)
    if kind == "delete":
        if len(found) > 1:
            raise _fail(f"'{path}' chọn {len(found)} phần tử, chỉ xoá được một",
                        f"'{path}' selects {len(found)} elements; only one can be deleted", where)
        if found:
            _remove(found[0], where)
        return
    if len(found) != 1:
        raise _fail(f"'{path}' phải chọn đúng một phần tử (chọn {len(found)})",
                    f"'{path}' must select exactly one element (it selects {len(found)})", where)
    target = found[0]
    if kind == "replace":
        _replace(target, op["value"], where)
    else:
        _add(target, op["name"], op["value"], where)


def _add(target: Located, name: Any, value_part: dict[str, Any], where: str) -> None:
    if not isinstance(target.value, dict):
        raise _fail("chỉ thêm được vào một phần tử phức hợp", "content can only be added to a complex element", where)
    if not isinstance(name, str) or not name:
        raise invalid("'name' phải là tên thuộc tính", "'name' must be a property name", f"{where}.part")
    key, element, code = _property_for(target, name, value_part, where)
    value = _value(value_part, target, element, code, where)
    current = target.value.get(key)
    if element.is_array:
        target.value[key] = (current if isinstance(current, list) else []) + [value]
    elif current is not None:
        raise _fail(f"'{name}' đã có giá trị và không lặp lại được (dùng replace)",
                    f"'{name}' already has a value and does not repeat (use replace)", where)
    else:
        target.value[key] = value


def _replace(target: Located, value_part: dict[str, Any], where: str) -> None:
    parent = target.parent
    if parent is None or target.key is None:
        raise _fail("không thay được cả tài nguyên", "the whole resource cannot be replaced", where)
    key, code = target.key, target.code
    if target.element is not None and target.element.is_choice:
        suffix = _value_type(value_part)
        if suffix is None:
            raise _fail("phần tử lựa chọn cần một value[x] có kiểu", "a choice element needs a typed value[x]", where)
        code = _code_of(target.element, suffix, where)
        key = definitions.choice_key(target.element.name, code)
    value = _value(value_part, parent, target.element, code, where)
    if target.index is not None:
        parent.value[key][target.index] = value
        return
    if key != target.key:
        del parent.value[target.key]
    parent.value[key] = value


def _remove(target: Located, where: str) -> None:
    parent = target.parent
    if parent is None or target.key is None:
        raise _fail("không xoá được cả tài nguyên", "the whole resource cannot be deleted", where)
    if target.index is not None:
        items = parent.value[target.key]
        del items[target.index]
        if items:
            return
    del parent.value[target.key]
    if parent.parent is not None and parent.value == {}:  # no empty objects left behind (ele-1)
        _remove(parent, where)


def _list_operation(root: Located, tree: Node, op: dict[str, Any], where: str) -> None:
    """``insert`` and ``move``: the path names a list (``Patient.identifier``), possibly still absent."""
    if tree[0] == "dot" and tree[2][0] == "ident":
        owners, name = _evaluate(tree[1], [root], root, op["path"], where), tree[2][1]
    elif tree[0] == "ident" and tree[1] != root.owner:
        owners, name = [root], tree[1]
    else:
        raise _fail("đường dẫn phải kết thúc bằng tên một danh sách", "the path must end with the name of a list",
                    where)
    if len(owners) != 1 or not isinstance(owners[0].value, dict):
        raise _fail(f"'{op['path']}' phải thuộc đúng một phần tử (có {len(owners)})",
                    f"'{op['path']}' must belong to exactly one element (found {len(owners)})", where)
    owner = owners[0]
    key, element, code = _property_for(owner, name, op.get("value") or {}, where)
    if not element.is_array:
        raise _fail(f"'{name}' không phải danh sách", f"'{name}' is not a list", where)
    items = owner.value.get(key) or []
    if op["type"] == "insert":
        if op["index"] > len(items):
            raise _fail(f"vị trí {op['index']} lớn hơn số phần tử ({len(items)})",
                        f"index {op['index']} is beyond the {len(items)} elements of the list", where)
        items = list(items)
        items.insert(op["index"], _value(op["value"], owner, element, code, where))
        owner.value[key] = items
        return
    source, destination = op["source"], op["destination"]
    if source >= len(items) or destination >= len(items):
        raise _fail(f"vị trí ngoài danh sách ({len(items)} phần tử)",
                    f"source or destination is outside the list ({len(items)} elements)", where)
    items = list(items)
    items.insert(destination, items.pop(source))
    owner.value[key] = items


# --- values from Parameters ----------------------------------------------------------------------------


def _value_type(value_part: dict[str, Any]) -> str | None:
    """``valueQuantity`` → ``Quantity``; None when the value is given as parts."""
    key = next((k for k in value_part if k.startswith("value") and len(k) > 5), None)
    return key[5:] if key else None


def _code_of(element: definitions.ElementDef, suffix: str, where: str) -> str:
    for code in element.types:
        if code[:1].upper() + code[1:] == suffix:
            return code
    raise _fail(f"kiểu {suffix} không dùng được cho {element.path}",
                f"type {suffix} is not allowed for {element.path}", where)


def _property_for(owner: Located, name: str, value_part: dict[str, Any],
                  where: str) -> tuple[str, definitions.ElementDef, str]:
    """The JSON key, element and type for a child ``name`` of ``owner`` (choice names take the value's type)."""
    props = _properties(owner)
    if name in props and not props[name][0].is_choice:
        return name, props[name][0], props[name][1]
    for key, (element, code) in props.items():
        if element.is_choice and (key == name or element.name == f"{name}[x]"):
            suffix = _value_type(value_part) if element.name == f"{name}[x]" else key[len(element.name) - 3:]
            if suffix is None:
                raise _fail(f"'{name}' là phần tử lựa chọn, cần value[x] có kiểu",
                            f"'{name}' is a choice element and needs a typed value[x]", where)
            code = _code_of(element, suffix, where)
            return definitions.choice_key(element.name, code), element, code
    raise _fail(f"'{name}' không phải thuộc tính của {owner.owner}", f"'{name}' is not a property of {owner.owner}",
                where)


def _properties(node: Located) -> dict[str, tuple[definitions.ElementDef, str]]:
    try:
        return dict(definitions.json_properties(_owner(node), node.inner))
    except KeyError:
        return {}


def _value(value_part: dict[str, Any], parent: Located, element: definitions.ElementDef | None, code: str,
           where: str) -> Any:
    """The JSON value of a ``value`` part: its ``value[x]``, or for backbone elements its sub-``part``s."""
    typed = next((v for k, v in value_part.items() if k.startswith("value") and len(k) > 5), None)
    if typed is not None:
        return typed
    parts = value_part.get("part")
    if not parts or element is None:
        raise invalid("'value' cần value[x] hoặc các part", "'value' needs a value[x] or parts", f"{where}.part")
    owner, inner = _place(parent, element, code)
    node = Located({}, parent, None, None, owner, inner, code, element)
    out: dict[str, Any] = {}
    for part in parts:
        name = part.get("name")
        key, child, child_code = _property_for(node, name, part, where)
        value = _value(part, node, child, child_code, where)
        if child.is_array:
            out.setdefault(key, []).append(value)
        elif key in out:
            raise invalid(f"'{name}' lặp lại nhưng không phải danh sách", f"'{name}' is repeated but is not a list",
                          f"{where}.part")
        else:
            out[key] = value
    return out


# --- locating elements -----------------------------------------------------------------------------------


def _evaluate(tree: Node, context: list[Located], root: Located, path: str, where: str) -> list[Located]:
    kind = tree[0]
    if kind == "ident":
        name = tree[1]
        if context == [root] and name == root.owner:
            return [root]
        return [child for node in context for child in _children(node, name)]
    if kind == "dot":
        return _evaluate(tree[2], _evaluate(tree[1], context, root, path, where), root, path, where)
    if kind == "index" and tree[2][0] == "lit" and isinstance(tree[2][1], int):
        found = _evaluate(tree[1], context, root, path, where)
        return [found[tree[2][1]]] if tree[2][1] < len(found) else []
    if kind == "func":
        name, args = tree[1], tree[2]
        if name == "resolve":
            raise _fail("resolve() không được dùng: patch chỉ sửa chính tài nguyên này",
                        "resolve() is not allowed: a patch may only change the resource being patched", where)
        if name in ("first", "last") and not args:
            return context[:1] if name == "first" else context[-1:]
        if name == "where" and len(args) == 1:
            criterion = compile_path(_unparse(args[0]))
            return [node for node in context
                    if criterion.evaluate(node.value, root.value) == [True]]
        if name == "ofType" and len(args) == 1 and args[0][0] == "ident":
            return [node for node in context if _is_type(node, args[0][1])]
        if name == "extension" and len(args) == 1 and args[0][0] == "lit":
            return [child for node in context for child in _children(node, "extension")
                    if isinstance(child.value, dict) and child.value.get("url") == args[0][1]]
    raise FhirError.one(400, "not-supported", f"Đường dẫn '{path}' dùng cú pháp FHIRPath chưa hỗ trợ trong patch",
                        f"The path '{path}' uses FHIRPath this server does not support in a patch "
                        "(member names, [n], where(), first(), last(), ofType(), extension())", f"{where}.part")


def _is_type(node: Located, name: str) -> bool:
    if isinstance(node.value, dict) and node.value.get("resourceType"):
        return bool(node.value["resourceType"] == name)
    return node.code.lower() == name.lower()


def _children(node: Located, name: str) -> list[Located]:
    if not isinstance(node.value, dict):
        return []
    out: list[Located] = []
    for key, (element, code) in _properties(node).items():
        if key not in node.value or not (key == name or (element.is_choice and element.name == f"{name}[x]")):
            continue
        owner, inner = _place(node, element, code)
        value = node.value[key]
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            kind = item.get("resourceType") if owner in _ABSTRACT and isinstance(item, dict) else None
            out.append(Located(item, node, key, index, kind or owner, inner, code, element))
    return out


_ABSTRACT = frozenset({"Resource", "DomainResource"})


def _owner(node: Located) -> str:
    """The model type of ``node`` (a contained resource's own type rather than ``Resource``)."""
    if node.owner in _ABSTRACT and isinstance(node.value, dict) and node.value.get("resourceType"):
        return str(node.value["resourceType"])
    return node.owner


def _place(parent: Located, element: definitions.ElementDef, code: str) -> tuple[str, str]:
    """Model place of a child: inside the parent's type for backbone elements, else its own type."""
    owner = _owner(parent)
    if definitions.has_children(owner, element.path):
        return owner, element.content_reference or element.path
    return code, ""


def _unparse(tree: Node) -> str:
    """FHIRPath text of a syntax tree (for ``where()`` criteria, compiled by :func:`compile_path`)."""
    kind = tree[0]
    if kind == "ident":
        return f"`{tree[1]}`"
    if kind == "lit":
        value = tree[1]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return str(value)
    if kind == "date":
        return f"@{tree[1]}"
    if kind == "var":
        return str(tree[1])
    if kind == "empty":
        return "{}"
    if kind == "dot":
        return f"{_unparse(tree[1])}.{_unparse(tree[2])}"
    if kind == "index":
        return f"{_unparse(tree[1])}[{_unparse(tree[2])}]"
    if kind == "func":
        return f"{tree[1]}({', '.join(_unparse(a) for a in tree[2])})"
    if kind == "op":
        return f"({_unparse(tree[2])} {tree[1]} {_unparse(tree[3])})"
    if kind == "type":
        return f"({_unparse(tree[2])} {tree[1]} {tree[3]})"
    if kind == "neg":
        return f"(-{_unparse(tree[1])})"
    raise ValueError(f"unknown FHIRPath node {kind}")
