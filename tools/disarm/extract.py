"""Extract the DISARM techniques CivicShield ships from the DISARM STIX 2.1 bundle (build time).

    python tools/disarm/extract.py ../shared/reference/disarm/DISARM.json src/civicshield/data/disarm/techniques.json

Keeps, per technique (``attack-pattern``): its DISARM id (``T0002``, ``T0087.001``), name, tactic (the kill
chain phase), page URL and STIX id, so exports can carry the framework's own objects. DISARM is
CC BY-SA 4.0 by the DISARM Foundation: the output says so, and ``LICENSE.md`` travels beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(source: Path, target: Path) -> None:
    bundle = json.loads(source.read_text(encoding="utf-8"))
    techniques = []
    for obj in bundle["objects"]:
        if obj.get("type") != "attack-pattern" or obj.get("revoked"):
            continue
        ref = next(r for r in obj["external_references"] if r.get("external_id"))
        techniques.append(
            {
                "id": ref["external_id"],
                "name": obj["name"],
                "tactic": obj["kill_chain_phases"][0]["phase_name"] if obj.get("kill_chain_phases") else "",
                "url": ref.get("url", ""),
                "stix_id": obj["id"],
                "created": obj["created"],
                "modified": obj["modified"],
            }
        )
    out = {
        "source": "DISARMFoundation/DISARMframeworks generated_files/DISARM_STIX/DISARM.json @ 49df5f6",
        "attribution": "DISARM Framework by the DISARM Foundation, CC BY-SA 4.0",
        "techniques": sorted(techniques, key=lambda t: [int(p) if p.isdigit() else p for p in t["id"][1:].split(".")]),
    }
    target.write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{target}: {len(techniques)} techniques")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
