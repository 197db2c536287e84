"""What the FHIRPath compiler needs to know about R4 element types, and reference resolution.

The element paths, types and choice elements come from the R4 model that ships with ``fhirpathpy``
(generated from the official StructureDefinitions). The compiler uses it at compile time only, to
turn ``Observation.value`` into the JSON keys ``valueQuantity``, ``valueString``... and to know
the type of each result (a HumanName is indexed differently from a string).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# FHIRPath System types, as FHIR primitive types that they cover (lenient: the R4 search parameters
# write ``ofType(DateTime)`` where they mean the FHIR type ``dateTime``).
SYSTEM_TYPES: dict[str, frozenset[str]] = {
    "String": frozenset({"string", "code", "id", "markdown", "uri", "url", "canonical", "oid", "uuid",
                         "base64Binary"}),
    "Boolean": frozenset({"boolean"}),
    "Integer": frozenset({"integer", "positiveInt", "unsignedInt"}),
    "Decimal": frozenset({"decimal"}),
    "Date": frozenset({"date"}),
    "DateTime": frozenset({"dateTime", "instant"}),
    "Time": frozenset({"time"}),
}
_SYSTEM_TO_FHIR = {"System.String": "string", "System.Boolean": "boolean", "System.Integer": "integer",
                   "System.Decimal": "decimal", "System.Date": "date", "System.DateTime": "dateTime",
                   "System.Time": "time"}
_BACKBONE = frozenset({"BackboneElement", "Element"})


class TypeModel:
    """Element lookups over the R4 model: ``children(path, name)`` is the core of navigation."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.path_types: dict[str, str] = model["path2Type"]
        self.choices: dict[str, list[str]] = model["choiceTypePaths"]
        self.elsewhere: dict[str, str] = model["pathsDefinedElsewhere"]
        self.parents: dict[str, str] = model["type2Parent"]
        backbones: set[str] = set()
        for path in self.path_types:
            parts = path.split(".")
            backbones.update(".".join(parts[:end]) for end in range(2, len(parts)))
        self.backbones = frozenset(backbones)
        self.resource_types = frozenset(
            name for name in self.parents if self.is_subtype(name, "Resource") and name[0].isupper()
        ) | {"Resource", "DomainResource"}

    def is_subtype(self, name: str | None, ancestor: str) -> bool:
        """``name`` is ``ancestor`` or derives from it (``Age`` is a ``Quantity``)."""
        if name is None:
            return False
        if ancestor in SYSTEM_TYPES and ancestor not in self.parents:
            return name in SYSTEM_TYPES[ancestor]
        seen = 0
        current: str | None = name
        while current is not None and seen < 16:
            if current == ancestor:
                return True
            current = self.parents.get(current)
            seen += 1
        return False

    def is_type_name(self, name: str) -> bool:
        return name in self.parents or name in SYSTEM_TYPES or name in ("Resource", "Element")

    def children(self, path: str | None, name: str) -> list[tuple[str, str | None, str | None]]:
        """``(json key, FHIR type, model path)`` for each way ``name`` can appear under ``path``.

        A choice element gives one entry per type; an unknown path gives one untyped entry.
        """
        if path is None:
            return [(name, None, None)]
        owner: str | None = path
        while owner is not None:
            found = self._own_children(owner, name)
            if found is not None:
                return found
            # Inherited elements: Age.value is Quantity.value, Patient.meta is Resource.meta.
            owner = self.parents.get(owner) if "." not in owner else "BackboneElement"
        return [(name, None, None)]

    def _own_children(self, owner: str, name: str) -> list[tuple[str, str | None, str | None]] | None:
        full = f"{owner}.{name}"
        if full in self.choices:
            entries = []
            for suffix in self.choices[full]:
                key = name + suffix[0].upper() + suffix[1:]
                fhir_type = self.fhir_type(self.path_types.get(f"{owner}.{key}") or suffix)
                entries.append((key, fhir_type, self.navigable(fhir_type, f"{owner}.{key}")))
            return entries
        declared = self.path_types.get(full)
        if declared is None:
            if full in self.elsewhere:
                return [(name, "BackboneElement", self.elsewhere[full])]
            if full in self.backbones:
                return [(name, "BackboneElement", full)]
            return None
        fhir_type = self.fhir_type(declared)
        return [(name, fhir_type, self.navigable(fhir_type, full))]

    @staticmethod
    def fhir_type(declared: str) -> str:
        if declared in _SYSTEM_TO_FHIR:
            return _SYSTEM_TO_FHIR[declared]
        return declared[0].lower() + declared[1:] if declared in ("DateTime", "String", "Boolean") else declared

    def navigable(self, fhir_type: str, full_path: str) -> str:
        """The model path children of this element are looked up under."""
        if fhir_type in _BACKBONE:
            return full_path
        return fhir_type


@cache
def r4_model() -> TypeModel:
    from fhirpathpy.models import models  # heavy import, needed only when compiling

    return TypeModel(models["r4"])


_HISTORY = re.compile(r"/_history/[^/]*$")


def reference_type(value: Any, root: Any = None) -> str | None:
    """The resource type a Reference (or reference/canonical string) points at, without a database.

    ``Patient/1``, ``http://x/fhir/Patient/1/_history/2`` -> ``Patient``; ``#id`` -> the type of the
    contained resource in ``root``; otherwise ``Reference.type`` if given.
    """
    explicit = None
    if type(value) is dict:
        explicit = value.get("type")
        value = value.get("reference")
    if type(value) is str and value:
        if value[0] == "#":
            for contained in (root.get("contained") or ()) if type(root) is dict else ():
                if type(contained) is dict and contained.get("id") == value[1:]:
                    return contained.get("resourceType")
        elif not value.startswith(("urn:", "#")):
            parts = _HISTORY.sub("", value.split("|", 1)[0]).split("/")
            if len(parts) >= 2 and parts[-2] in r4_model().resource_types and parts[-1]:
                return parts[-2]
    return explicit if type(explicit) is str else None
