"""The FHIR R4 search engine (https://hl7.org/fhir/R4/search.html) over the typed index tables.

Public API: :func:`search` (type, system and compartment searches), :func:`find_ids`
(conditional interactions), :func:`everything` (``Patient/$everything``) and
:func:`shape_resource` (``_summary``/``_elements`` on a single read).
"""

from __future__ import annotations

from .engine import find_ids, search
from .everything import everything
from .shaping import shape_resource

__all__ = ["everything", "find_ids", "search", "shape_resource"]
