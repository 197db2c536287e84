"""fhirpathpy, for the FHIRPath the compiler in :mod:`benhan.fhir.fhirpath` does not implement.

fhirpathpy has no ``resolve()``: it is given one that returns a stand-in carrying only the target's
resource type, which is what search expressions ask of it (``where(resolve() is Patient)``). Results
are converted back to plain JSON values (dates as their text).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benhan.fhir.fhirpath_model import reference_type


def _plain(value: Any) -> Any:
    """fhirpathpy's result values as JSON values (FP_DateTime & co. become their text)."""
    if value is None or value.__class__ in (str, bool, int, float, Decimal):
        return value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value)


def compile_fhirpathpy(expression: str, base: str | None = None) -> Callable[[Any, Any], list[Any]]:
    """``evaluate(item, root)`` by fhirpathpy with the R4 model; ``base`` types a non-resource item."""
    import fhirpathpy
    from fhirpathpy.engine.nodes import ResourceNode
    from fhirpathpy.models import models

    root_holder: list[Any] = [None]

    def resolve(inputs: list[Any]) -> list[Any]:
        out = []
        for item in inputs:
            target = reference_type(item, root_holder[0])
            if target is not None:
                out.append(ResourceNode.create_node({"resourceType": target}, target))
        return out

    compiled = fhirpathpy.compile(
        expression, model=models["r4"], options={"userInvocationTable": {"resolve": {"fn": resolve}}}
    )

    def evaluate(item: Any, root: Any) -> list[Any]:
        root_holder[0] = root
        typed = base is not None and not (isinstance(item, dict) and "resourceType" in item)
        node = ResourceNode.create_node(item, base) if typed else item
        results = compiled(node, {"resource": root, "rootResource": root})
        return [_plain(value) for value in results if value is not None]

    return evaluate


def fhirpathpy_step(expression: str, base: str | None) -> Callable[[list[Any], Any], list[Any]]:
    """A compiler step (input collection, root) -> values that runs fhirpathpy on each input item."""
    evaluate = compile_fhirpathpy(expression, base)

    def step(items: list[Any], root: Any) -> list[Any]:
        out: list[Any] = []
        for item in items:
            out.extend(evaluate(item, root))
        return out

    return step
