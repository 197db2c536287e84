"""What a FHIR request is, in access-control terms: an action (for the audit trail), the SMART
interaction letter it needs (c r u d s), the resource type and id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interaction:
    action: str  # read, vread, search, create, update, patch, delete, history, operation, transaction, ...
    letter: str | None  # c r u d s; None when the entries decide (bundles) or nothing is needed (metadata)
    rtype: str | None = None
    rid: str | None = None
    level: str = "type"  # system | type | instance | compartment

    def entity(self, query: str = "") -> str:
        path = "/".join(p for p in (self.rtype, self.rid) if p) or "/"
        return f"{path}?{query}" if query else path


def classify(method: str, path: str, body: object = None) -> Interaction:
    """Classify ``method path`` (relative to the FHIR base) like the router dispatches it."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1].startswith("$"):
        name = parts[-1]
        rtype = parts[0] if len(parts) >= 2 else None
        rid = parts[1] if len(parts) == 3 else None
        letter = {"$meta-add": "u", "$meta-delete": "u", "$validate": None}.get(name, "r" if rid else "s")
        level = "instance" if rid else ("type" if rtype else "system")
        return Interaction(f"operation{name}", letter, rtype, rid, level)
    if not parts:
        if method == "POST":
            kind = body.get("type") if isinstance(body, dict) else None
            return Interaction(kind if kind in ("transaction", "batch") else "bundle", None, level="system")
        return Interaction("search", "s", level="system")
    if parts[0] == "metadata":
        return Interaction("capabilities", None, level="system")
    if parts[0] == "_history":
        return Interaction("history", "s", level="system")
    rtype = parts[0]
    if len(parts) == 1:
        letter, action = {"GET": ("s", "search"), "POST": ("c", "create"), "PUT": ("u", "update"),
                          "DELETE": ("d", "delete"), "PATCH": ("u", "patch")}.get(method, ("s", method.lower()))
        return Interaction(action, letter, rtype)
    if parts[1] == "_search":
        return Interaction("search", "s", rtype)
    if parts[1] == "_history":
        return Interaction("history", "s", rtype)
    rid = parts[1]
    if len(parts) == 2:
        letter, action = {"GET": ("r", "read"), "PUT": ("u", "update"), "PATCH": ("u", "patch"),
                          "DELETE": ("d", "delete")}.get(method, ("r", method.lower()))
        return Interaction(action, letter, rtype, rid, "instance")
    if parts[2] == "_history":
        return Interaction("vread" if len(parts) == 4 else "history", "r", rtype, rid, "instance")
    return Interaction("search", "s", parts[2], None, "compartment")
