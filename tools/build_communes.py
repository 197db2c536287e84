"""Build ``src/benhan/terminology/data/communes-2025.csv``: the commune-level units from 01/07/2025.

The facts (GSO code, name, kind, parent province) are those of the commune list of the Government's draft
Decision on administrative-unit codes (chinhphu.vn draft 7546, ``Cap-xa.csv``). We read them from the
data file of the PyPI package ``vietnam-provinces``, which mirrors that list; only the facts are taken,
none of its code (the package is GPL-3.0; official administrative data is not copyrightable). Download the
wheel outside the project and pass it::

    pip download --no-deps vietnam-provinces -d /tmp/vnprov
    python tools/build_communes.py /tmp/vnprov/vietnam_provinces-2025.10.1-py3-none-any.whl

The script checks every parent province against ``provinces-2025.csv`` and refuses duplicate codes.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/benhan/terminology/data"
MEMBER = "vietnam_provinces/data/nested-divisions.json"
KINDS = {"phường": "Phường", "xã": "Xã", "đặc khu": "Đặc khu"}


def _provinces() -> set[str]:
    text = (OUT / "provinces-2025.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#"))))
    return {r["code"] for r in rows}


def build(wheel: Path, version: str) -> list[tuple[str, str, str, str]]:
    """(code, display, province, kind) for every commune, sorted by code."""
    with zipfile.ZipFile(wheel) as zf:
        data = json.loads(zf.read(MEMBER))
    known = _provinces()
    rows: dict[str, tuple[str, str, str, str]] = {}
    for province in data:
        pcode = f"{int(province['code']):02d}"
        if pcode not in known:
            raise SystemExit(f"province {pcode} is not in provinces-2025.csv")
        for ward in province["wards"]:
            code = f"{int(ward['code']):05d}"
            if code in rows:
                raise SystemExit(f"duplicate commune code {code}")
            kind = KINDS.get(str(ward["division_type"]).lower())
            if kind is None:
                raise SystemExit(f"unknown kind {ward['division_type']!r} for {code}")
            rows[code] = (code, " ".join(str(ward["name"]).split()), pcode, kind)
    return [rows[c] for c in sorted(rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--version", default="2025.10.1", help="version of the wheel read (recorded in the header)")
    args = ap.parse_args()
    rows = build(args.wheel, args.version)
    out = OUT / "communes-2025.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("# Commune-level units (phường, xã, đặc khu) from 01/07/2025 with their GSO codes and province.\n"
                 "# Source: commune list of the draft Decision on administrative-unit codes (chinhphu.vn draft 7546,\n"
                 f"# Cap-xa.csv), read from the data of PyPI vietnam-provinces {args.version}"
                 " by tools/build_communes.py.\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "display", "province", "kind"])
        w.writerows(rows)
    provinces = {r[2] for r in rows}
    print(f"{len(rows)} communes in {len(provinces)} provinces -> {out}")


if __name__ == "__main__":
    main()
