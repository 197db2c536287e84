"""Build the shipped ICD-10 list (QĐ 4469/QĐ-BYT, 2020) from the Ministry's workbook.

Reads ``Phu.lu.c.4469.xlsx`` (see ``shared/data/SOURCE.md``) and writes
``src/benhan/terminology/data/icd10-4469-2020.json.gz``: chapters, blocks and one row per code with the
Vietnamese and English names and the rule flags. The product reads only that file, never the workbook.

What the workbook says and what we do with it:

* sheet ``ICD10`` (header on row 3): column Q "MÃ BỆNH" is the code with its dot and, for 858 rows, a
  dagger (†) or asterisk (*) mark; column R is the code without dot. We store the dotted code without the
  mark and keep the mark as a flag. 83 categories appear twice (once plain, once with the mark, sometimes
  with a better name on the marked row); rows are merged by the dotless code, the marked row's names win.
* sheet ``A2``: codes not allowed as the main diagnosis (dotless codes; "(*)" column marks asterisk codes).
* sheets ``A4.1`` / ``A4.2``: codes only for females / only for males.
* flag-sheet codes absent from sheet ``ICD10`` (e.g. ``F00.00``) are counted and reported, not invented.

Usage::

    .venv/bin/pip install openpyxl      # build-time only (optional dependency group "tools")
    python tools/build_icd10.py [--source /work/shared/data/Phu.lu.c.4469.xlsx]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path
from typing import Any

DEFAULT_SOURCE = Path("/work/shared/data/Phu.lu.c.4469.xlsx")
OUT = Path(__file__).resolve().parent.parent / "src/benhan/terminology/data/icd10-4469-2020.json.gz"

# Flag bits; the same numbers as benhan.terminology.model.Flag.
NOT_MAIN, FEMALE_ONLY, MALE_ONLY, DAGGER, ASTERISK = 1, 2, 4, 8, 16
SHEETS = {"A2 Mã ICD10 ko mã bệnh chính": NOT_MAIN, "A4.1": FEMALE_ONLY, "A4.2": MALE_ONLY}
CODE = re.compile(r"[A-Z]\d\d(\.\d{1,2})?")


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def read_workbook(path: Path) -> dict[str, Any]:
    import openpyxl  # build-time dependency only

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    chapters: dict[str, list[str]] = {}
    blocks: dict[str, list[str]] = {}
    codes: dict[str, dict[str, Any]] = {}
    for row in wb["ICD10"].iter_rows(min_row=4, values_only=True):
        raw = _text(row[16])
        if not raw:
            continue
        mark = raw[-1] if raw[-1] in "†*" else ""
        code = raw.rstrip("†*").strip()
        dotless = _text(row[17])
        if not CODE.fullmatch(code) or code.replace(".", "") != dotless:
            raise ValueError(f"unexpected code {raw!r} / {dotless!r}")
        chapters.setdefault(_text(row[1]), [_text(row[0]), _text(row[3]), _text(row[2])])
        blocks.setdefault(_text(row[4]), [_text(row[6]), _text(row[5])])
        flags = DAGGER if mark == "†" else ASTERISK if mark == "*" else 0
        entry = {"code": code, "vi": _text(row[19]), "en": _text(row[18]), "chapter": _text(row[1]),
                 "block": _text(row[4]), "flags": flags}
        previous = codes.get(dotless)
        if previous is not None:
            entry["flags"] |= previous["flags"]
            if not mark:  # keep the names of the marked row (the code row proper)
                entry = {**previous, "flags": entry["flags"]}
        codes[dotless] = entry
    unknown: dict[str, list[str]] = {}
    for sheet, bit in SHEETS.items():
        for row in wb[sheet].iter_rows(min_row=4, values_only=True):
            dotless = _text(row[0])
            if not dotless:
                continue
            if dotless in codes:
                codes[dotless]["flags"] |= bit
            else:
                unknown.setdefault(sheet, []).append(dotless)
    return {"chapters": chapters, "blocks": blocks, "codes": list(codes.values()), "unknown": unknown}


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """The shipped shape: short rows, chapter and block names once."""
    return {
        "source": "QĐ 4469/QĐ-BYT (28/10/2020), Phụ lục 1 + A2, A4.1, A4.2 (Phu.lu.c.4469.xlsx)",
        "columns": ["code", "vi", "en", "chapter", "block", "flags"],
        "flags": {"not_main": NOT_MAIN, "female_only": FEMALE_ONLY, "male_only": MALE_ONLY, "dagger": DAGGER,
                  "asterisk": ASTERISK},
        "chapters": {k: v for k, v in data["chapters"].items()},  # range -> [roman, vi, en]
        "blocks": {k: v for k, v in data["blocks"].items()},  # range -> [vi, en]
        "concepts": [[c["code"], c["vi"], c["en"], c["chapter"], c["block"], c["flags"]] for c in data["codes"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = read_workbook(args.source)
    payload = json.dumps(compact(data), ensure_ascii=False, separators=(",", ":")).encode()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", mtime=0) as fh:  # mtime=0: the same input gives the same bytes
        fh.write(payload)
    counts = {name: sum(1 for c in data["codes"] if c["flags"] & bit) for name, bit in
              (("not_main", NOT_MAIN), ("female_only", FEMALE_ONLY), ("male_only", MALE_ONLY),
               ("dagger", DAGGER), ("asterisk", ASTERISK))}
    print(f"{len(data['codes'])} codes, {len(data['chapters'])} chapters, {len(data['blocks'])} blocks; {counts}")
    for sheet, codes in data["unknown"].items():
        print(f"  {sheet}: {len(codes)} codes not in sheet ICD10 (ignored), e.g. {', '.join(codes[:5])}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
