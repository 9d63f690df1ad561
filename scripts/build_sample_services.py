#!/usr/bin/env python3
"""Write corpus/services/services.jsonl from the service sources in scripts/sample_sources/.

Plain Python, no dependencies. Run from anywhere: ``python3 scripts/build_sample_services.py``.
Output is deterministic (records in source order, keys in a fixed order, UTF-8, one object per line).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "sample_sources"))

import services_other_langs  # noqa: E402
import services_uz_latn  # noqa: E402

OUT = ROOT / "corpus" / "services" / "services.jsonl"
FIELDS = ("summary", "who_may_apply", "documents", "fee", "time_limit", "result", "channels", "authority",
          "legal_basis", "appeal")
SUFFIX = {"ru": "ru", "uz-Cyrl": "uz-cyrl", "en": "en"}


def apostrophes(text: str, style: str) -> str:
    """Uzbek Latin apostrophes: 'proper' = oʻ gʻ (U+02BB) and tutuq ʼ (U+02BC); 'curly' = o‘ g‘ and ’;
    'plain' = ASCII ' left as typed (as many real portal pages have it)."""
    if style == "plain":
        return text
    turned, tutuq = ("\u02bb", "\u02bc") if style == "proper" else ("\u2018", "\u2019")
    text = re.sub(r"([oOgG])['\u02bc]", lambda m: m.group(1) + turned, text)
    text = re.sub(r"(?<=\w)['\u02bc]", tutuq, text)
    return text.replace(" - ", " \u2014 ") if style == "proper" else text


def record(src: dict, lang: str, base: dict | None, work_id: str) -> dict:
    style = src.get("style", "proper") if lang == "uz-Latn" else "none"
    conv = (lambda s: apostrophes(s, style)) if lang == "uz-Latn" else (lambda s: s)
    rid = work_id if lang == "uz-Latn" else f"{work_id}.{SUFFIX[lang]}"
    fields: dict[str, str] = {}
    for name in FIELDS:
        key = "authority_f" if name == "authority" else name
        if key in src and src[key] is not None:
            fields[name] = conv(src[key])
    origin = base or src
    return {
        "id": rid,
        "work_id": work_id,
        "lang": lang,
        "title": conv(src["title"]),
        "authority": conv(src["authority"]),
        "category": conv(src["category"]),
        "url": src.get("url", origin.get("url", "")),
        "status": "in_force",
        "legal_basis_refs": list(src.get("refs", origin.get("refs", []))),
        "fields": fields,
    }


def main() -> int:
    by_id = {s["id"]: s for s in services_uz_latn.SERVICES}
    records = [record(s, "uz-Latn", None, s["id"]) for s in services_uz_latn.SERVICES]
    for s in services_other_langs.SERVICES:
        base = by_id[s["work"]]
        records.append(record(s, s["lang"], base, s["work"]))
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "duplicate service ids"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    langs: dict[str, int] = {}
    for r in records:
        langs[r["lang"]] = langs.get(r["lang"], 0) + 1
    incomplete = [r["id"] for r in records if any(not r["fields"].get(f) for f in FIELDS)]
    print(f"wrote {len(records)} services to {OUT.relative_to(ROOT)}: {langs}")
    print(f"incomplete ({len(incomplete)}): {', '.join(incomplete)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
