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
* sheets ``A3.1`` … ``A3.10`` (some sheets hold several annexes, each under its own "Phụ lục A3.x …"
  heading): codes valid only in an age range. The range is read from the heading, e.g. "(tuổi hợp lệ: 8 –
  19 tuổi)", and stored as an offset from the birth date (see ``parse_age``); each annex is one flag bit. A
  rule on a code covers its subdivisions (``R95`` → ``R95.0``, ``R95.9``), as ICD-10 reads.
* sheet ``A1``: dagger (†) / asterisk (*) pairs that "always go together"; written to a small file
  beside the list (``icd10-4469-2020-rules.json``) with the age annexes: asterisk → permitted daggers.
* rule-sheet codes absent from sheet ``ICD10`` (e.g. ``F00.00``) are counted and reported, not invented.

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
RULES_OUT = OUT.with_name("icd10-4469-2020-rules.json")

# Flag bits; the same numbers as benhan.terminology.model.Flag.
NOT_MAIN, FEMALE_ONLY, MALE_ONLY, DAGGER, ASTERISK = 1, 2, 4, 8, 16
SHEETS = {"A2 Mã ICD10 ko mã bệnh chính": NOT_MAIN, "A4.1": FEMALE_ONLY, "A4.2": MALE_ONLY}
# Age annexes of QĐ 4469 Phụ lục A3, one bit each (the same numbers as benhan.terminology.model.Flag).
AGE_BITS = {"A3.1": 32, "A3.2": 64, "A3.3": 128, "A3.4": 256, "A3.5": 512, "A3.6": 1024, "A3.7": 2048,
            "A3.8": 4096, "A3.9": 8192, "A3.10": 16384}
CODE = re.compile(r"[A-Z]\d\d(\.\d{1,2})?")
DOTLESS = re.compile(r"[A-Z]\d\d\d{0,2}")
HEADING = re.compile(r"Phụ lục (A3\.\d+)\s+(.*?)\s*\(\s*(?:tuổi hợp lệ|phù hợp tuổi)\s*:\s*(.*?)\s*\)$")
_NUM = r"(\d+)\s*(ngày|tuổi)"


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _dotted(dotless: str) -> str:
    return dotless if len(dotless) == 3 else f"{dotless[:3]}.{dotless[3:]}"


def _offset(n: int, unit: str) -> list[int]:
    """``n`` days or years after the birth date as ``[years, days]``."""
    return [0, n] if unit == "ngày" else [n, 0]


def parse_age(text: str) -> tuple[list[int] | None, list[int] | None]:
    """The valid age range of a heading as ``(min, max)`` offsets ``[years, days]`` from the birth date.

    A day is valid when ``birth + min <= day <= birth + max`` (``None``: no bound). Ages in years are
    completed years: "8 – 19 tuổi" runs from the 8th birthday to the day before the 20th; "trên 15 tuổi"
    starts the day after the 15th birthday; "trên 27 ngày" on day 28; "1 tuổi trở lên" on the 1st birthday.
    """
    text = text.replace("–", "-").strip()
    if m := re.fullmatch(r"trên\s+" + _NUM + r"(?:\s+tuổi)?", text):
        low = _offset(int(m[1]), m[2])
        return [low[0], low[1] + 1], None
    if m := re.fullmatch(_NUM + r"\s+trở lên", text):
        return _offset(int(m[1]), m[2]), None
    if m := re.fullmatch(r"(\d+)\s*(ngày|tuổi)?\s*-\s*" + _NUM, text):
        unit_low = m[2] or m[4]
        high = int(m[3])
        return _offset(int(m[1]), unit_low), ([0, high] if m[4] == "ngày" else [high + 1, -1])
    raise ValueError(f"age range not understood: {text!r}")


def read_age_annexes(wb: Any) -> dict[str, dict[str, Any]]:
    """Annex id -> heading, title, parsed range and listed dotless codes (every sheet named ``A3*``)."""
    annexes: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for sheet in (n for n in wb.sheetnames if n.startswith("A3")):
        for row in wb[sheet].iter_rows(values_only=True):
            first = _text(row[0])
            if first.startswith("Phụ lục"):
                m = HEADING.fullmatch(first)
                if m is None:
                    raise ValueError(f"unexpected heading {first!r} in sheet {sheet!r}")
                low, high = parse_age(m[3])
                current = annexes.setdefault(m[1], {"sheet": sheet, "heading": first, "title": m[2], "range": m[3],
                                                    "min": low, "max": high, "codes": []})
            elif DOTLESS.fullmatch(first) and current is not None:
                current["codes"].append(first)
    if set(annexes) != set(AGE_BITS):
        raise ValueError(f"age annexes {sorted(annexes)} differ from {sorted(AGE_BITS)}")
    return annexes


def read_pairs(wb: Any) -> list[tuple[str, str]]:
    """Sheet ``A1``: (dagger, asterisk) dotless pairs; checks the header and that "PDx" is the asterisk."""
    rows = wb["A1"].iter_rows(min_row=3, values_only=True)
    header = [_text(v) for v in next(rows)]
    if header[0] != "Dagger (†)" or header[2] != "Asterix (*)" or header[4] != "PDx":
        raise ValueError(f"unexpected A1 header {header!r}")
    pairs = []
    for row in rows:
        dagger, asterisk, pdx = _text(row[0]), _text(row[2]), _text(row[4])
        if not dagger and not asterisk:
            continue
        if not (DOTLESS.fullmatch(dagger) and DOTLESS.fullmatch(asterisk)) or pdx != asterisk:
            raise ValueError(f"unexpected A1 row {row!r}")
        pairs.append((dagger, asterisk))
    return pairs


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
    annexes = read_age_annexes(wb)
    stats: dict[str, dict[str, int]] = {}
    for annex, info in annexes.items():
        listed = info["codes"]
        covered = {k for k in codes for c in listed if k.startswith(c)}
        for k in covered:
            codes[k]["flags"] |= AGE_BITS[annex]
        absent = [c for c in listed if c not in codes]
        if absent:
            unknown.setdefault(annex, []).extend(absent)
        stats[annex] = {"rows": len(listed), "distinct": len(set(listed)), "absent": len(set(absent)),
                        "flagged": len(covered), "subdivisions": len(covered - set(listed))}
    pairs = read_pairs(wb)
    for label, i in (("A1 dagger", 0), ("A1 asterisk", 1)):
        absent = sorted({p[i] for p in pairs if p[i] not in codes})
        if absent:
            unknown[label] = absent
    return {"chapters": chapters, "blocks": blocks, "codes": list(codes.values()), "unknown": unknown,
            "annexes": annexes, "annex_stats": stats, "pairs": pairs,
            "dotted": {k: v["code"] for k, v in codes.items()}}


def compact(data: dict[str, Any]) -> dict[str, Any]:
    """The shipped shape: short rows, chapter and block names once."""
    return {
        "source": "QĐ 4469/QĐ-BYT (28/10/2020), Phụ lục 1 + A2, A3.1-A3.10, A4.1, A4.2 (Phu.lu.c.4469.xlsx)",
        "columns": ["code", "vi", "en", "chapter", "block", "flags"],
        "flags": {"not_main": NOT_MAIN, "female_only": FEMALE_ONLY, "male_only": MALE_ONLY, "dagger": DAGGER,
                  "asterisk": ASTERISK, **{f"age_{k}": v for k, v in AGE_BITS.items()}},
        "chapters": {k: v for k, v in data["chapters"].items()},  # range -> [roman, vi, en]
        "blocks": {k: v for k, v in data["blocks"].items()},  # range -> [vi, en]
        "concepts": [[c["code"], c["vi"], c["en"], c["chapter"], c["block"], c["flags"]] for c in data["codes"]],
    }


def rules(data: dict[str, Any]) -> dict[str, Any]:
    """The small rules file: age annexes (bit, heading, range) and A1 asterisk -> dagger codes (dotted).

    Pair codes keep the workbook's spelling (dot added) even when sheet ICD10 lacks them (``F02.80``):
    the check matches codes by prefix, so such rows still apply to the code that is in the list.
    """
    dotted = data["dotted"]
    pairs: dict[str, set[str]] = {}
    for dagger, asterisk in data["pairs"]:
        pairs.setdefault(dotted.get(asterisk, _dotted(asterisk)), set()).add(dotted.get(dagger, _dotted(dagger)))
    return {
        "source": "QĐ 4469/QĐ-BYT (28/10/2020), Phụ lục A1, A3.1-A3.10 (Phu.lu.c.4469.xlsx)",
        "version": "4469-2020",
        "age": {annex: {"flag": AGE_BITS[annex], "heading": info["heading"], "title": info["title"],
                        "range": info["range"], "min": info["min"], "max": info["max"]}
                for annex, info in sorted(data["annexes"].items(), key=lambda kv: AGE_BITS[kv[0]])},
        "pairs": {a: sorted(d) for a, d in sorted(pairs.items())},
    }


def _write_rules(payload: dict[str, Any], out: Path) -> None:
    """One line per age annex and per asterisk code, so a rebuild's diff is readable."""
    lines = ["{", f' "source": {json.dumps(payload["source"], ensure_ascii=False)},',
             f' "version": {json.dumps(payload["version"])},', ' "age": {']
    age = [f'  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}' for k, v in payload["age"].items()]
    lines += [",\n".join(age), " },", ' "pairs": {']
    lines += [",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in payload["pairs"].items()), " }", "}"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if json.loads(out.read_text(encoding="utf-8")) != payload:
        raise AssertionError("rules file does not read back")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--rules-out", type=Path, default=RULES_OUT)
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
    for annex, st in data["annex_stats"].items():
        info = data["annexes"][annex]
        print(f"  {annex} ({info['range']}: min {info['min']}, max {info['max']}): {st}")
    payload_rules = rules(data)
    n_pairs = sum(len(v) for v in payload_rules["pairs"].values())
    print(f"  A1: {len(data['pairs'])} rows, {len(set(data['pairs']))} distinct pairs, "
          f"{len(payload_rules['pairs'])} asterisk codes, {n_pairs} pairs written")
    _write_rules(payload_rules, args.rules_out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), {args.rules_out} "
          f"({args.rules_out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
