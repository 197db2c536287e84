"""Realistic synthetic Vietnamese hospital data (``benhan demo``), written through the normal FHIR
write path or to NDJSON / transaction-Bundle files. Sources of every distribution: the module
docstrings and data/SOURCE.md.
"""

from .files import write_files
from .generator import DEFAULT_FACILITY, DemoSpec, Generator
from .small import load_small_demo
from .writer import load

__all__ = ["DEFAULT_FACILITY", "DemoSpec", "Generator", "load", "load_small_demo", "write_files"]
