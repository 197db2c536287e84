"""Keep ``docs/performance.md`` in step with the results: one generated section per benchmark.

Each benchmark owns the text between ``<!-- BEGIN <name> -->`` and ``<!-- END <name> -->``; the
rest of the page (other benchmarks, hand-written notes) is left as it is.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE_MD = ROOT / "docs" / "performance.md"

HEADER = """# Performance

Measured, not guessed. Each section below belongs to one script in `benchmarks/`, which writes its
raw results as JSON to `benchmarks/results/` and regenerates its section of this page from all the
JSON files there (so a re-run updates the numbers). Machines are noisy: read medians and ratios,
and look at the machine line of each result before comparing two numbers.
"""


def update_section(name: str, body: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace (or append) the generated section ``name`` of the performance page."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
