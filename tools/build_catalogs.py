"""Build the small shipped catalogs that come from published FHIR resources.

Writes CSV files (``code,display,display_en``) to ``src/benhan/terminology/data/``:

* ``ethnicity.csv`` — the 54 ethnic groups (+ 55 foreigner, 99 unknown) from the VN Core IG CodeSystem
  ``vn-core-race`` (the IG's ``vn-core-ethic`` is, despite its name, a list of religions).
* ``occupation-4069.csv`` — VN Core IG CodeSystem ``vn-core-occupation-4069`` (QĐ 4069/2011/QĐ-BYT).
* ``countries.csv`` — ISO 3166-1 alpha-2 codes with English names, from the IG copy of the FHIR value set
  ``iso3166-1-2``.
* ``gender.csv`` — FHIR R4 ``administrative-gender`` (English from the spec, Vietnamese ours).

Usage::

    python tools/build_catalogs.py [--ig /work/shared/data/vn-core-ig] [--fhir /work/shared/data/fhir-r4]
"""

from __future__ import annotations

import argparse
import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

NS = {"f": "http://hl7.org/fhir"}
OUT = Path(__file__).resolve().parent.parent / "src/benhan/terminology/data"
GENDER_VI = {"male": "Nam", "female": "Nữ", "other": "Khác", "unknown": "Không rõ"}


def _concepts(path: Path) -> list[tuple[str, str]]:
    root = ET.parse(path).getroot()
    out = []
    for node in root.iter("{http://hl7.org/fhir}concept"):
        code = node.find("f:code", NS)
        display = node.find("f:display", NS)
        if code is not None:
            out.append((code.get("value", ""), display.get("value", "") if display is not None else ""))
    return out


def _write(name: str, header: str, rows: list[tuple[str, ...]]) -> None:
    path = OUT / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "display", "display_en"])
        writer.writerows(rows)
    print(f"wrote {path.name}: {len(rows)} codes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ig", type=Path, default=Path("/work/shared/data/vn-core-ig"))
    parser.add_argument("--fhir", type=Path, default=Path("/work/shared/data/fhir-r4"))
    args = parser.parse_args()
    ig = args.ig
    _write("ethnicity.csv", "# VN Core IG CodeSystem vn-core-race v1.0 (hl7vn/vn-core-ig@8e6b6e07): ethnic groups\n",
           [(c, d, "") for c, d in _concepts(ig / "CodeSystem-vn-core-race-v1.0.xml")])
    _write("occupation-4069.csv", "# VN Core IG CodeSystem vn-core-occupation-4069 v1.0 (QĐ 4069/2011/QĐ-BYT)\n",
           [(c, d, "") for c, d in _concepts(ig / "CodeSystem-vn-core-occupation-4069-v1.0.xml")])
    vs = ET.parse(ig / "valueset-iso3166-1-2.xml").getroot()
    countries = [(c.find("f:code", NS).get("value"), "", c.find("f:display", NS).get("value"))
                 for c in vs.iter("{http://hl7.org/fhir}concept")]
    _write("countries.csv", "# ISO 3166-1 alpha-2, FHIR R4 ValueSet iso3166-1-2 (copy in hl7vn/vn-core-ig@8e6b6e07)\n",
           countries)
    bundle = json.loads((args.fhir / "valuesets.json").read_text("utf-8"))
    gender = next(e["resource"] for e in bundle["entry"]
                  if e["resource"].get("url") == "http://hl7.org/fhir/administrative-gender"
                  and e["resource"]["resourceType"] == "CodeSystem")
    _write("gender.csv", "# FHIR R4 4.0.1 CodeSystem administrative-gender; Vietnamese displays ours\n",
           [(c["code"], GENDER_VI[c["code"]], c["display"]) for c in gender["concept"]])


if __name__ == "__main__":
    main()
