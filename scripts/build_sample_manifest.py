#!/usr/bin/env python3
"""Write corpus/manifest.csv and check that every legal_basis_ref of the services names an existing
article (or point) of a sample act. Plain Python: ``python3 scripts/build_sample_manifest.py``."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SRC = ROOT / "scripts" / "sample_sources"
COLUMNS = ["path", "id", "work_id", "title", "short_title", "kind", "number", "adopted", "lang", "authority",
           "status", "status_date", "url"]

# path, id, work_id, title, short_title, kind, number, adopted, lang, authority, status, status_date, url, text source
ACTS = [
    ("acts/murojaatlar-qonuni.uz-latn.txt", "law-appeals.uz-latn", "law-appeals",
     "Jismoniy va yuridik shaxslarning murojaatlari toʻgʻrisida", "Murojaatlar toʻgʻrisidagi qonun", "law",
     "XZ-Q-01", "2017-09-11", "uz-Latn", "Oʻzbekiston Respublikasi Oliy Majlisi", "in_force", "", "", None),
    ("acts/zakon-ob-obrashcheniyakh.ru.html", "law-appeals.ru", "law-appeals",
     "Об обращениях физических и юридических лиц", "Закон об обращениях", "law",
     "XZ-Q-01", "2017-09-11", "ru", "Олий Мажлис Республики Узбекистан", "in_force", "", "",
     "zakon-ob-obrashcheniyakh.ru.txt"),
    ("acts/pasport-nizomi.uz-latn.pdf", "reg-passport-id.uz-latn", "reg-passport-id",
     "Oʻzbekiston Respublikasi fuqarosining ID-kartasi va xorijga chiqish biometrik pasportini rasmiylashtirish tartibi toʻgʻrisida nizom",
     "Pasport nizomi", "regulation", "XZ-N-02", "2021-01-15", "uz-Latn", "Oʻzbekiston Respublikasi Vazirlar Mahkamasi",
     "in_force", "", "", "pasport-nizomi.uz-latn.txt"),
    ("acts/polozhenie-zags.ru.pdf", "reg-civil-status.ru", "reg-civil-status",
     "Об утверждении Положения о порядке государственной регистрации актов гражданского состояния",
     "Положение о ЗАГС", "resolution", "XZ-P-03", "2020-06-01", "ru", "Кабинет Министров Республики Узбекистан",
     "in_force", "", "", "polozhenie-zags.ru.txt"),
    ("acts/tadbirkorlik-royxat.uz-cyrl.docx", "reg-business-registration.uz-cyrl", "reg-business-registration",
     "Тадбиркорлик субъектларини давлат рўйхатидан ўтказиш тартиби тўғрисида низом",
     "Тадбиркорларни рўйхатдан ўтказиш низоми", "regulation", "XZ-N-04", "2017-03-28", "uz-Cyrl",
     "Ўзбекистон Республикаси Вазирлар Маҳкамаси", "in_force", "", "", "tadbirkorlik-royxat.uz-cyrl.txt"),
    ("acts/social-benefits.en.docx", "reg-social-benefits.en", "reg-social-benefits",
     "Regulation on the procedure for granting social benefits and material assistance to low-income families",
     "Social Benefits Regulation", "regulation", "XZ-N-05", "2023-07-01", "en",
     "Cabinet of Ministers of the Republic of Uzbekistan", "in_force", "", "", "social-benefits.en.txt"),
    ("acts/construction-permits.en.html", "reg-construction-permits.en", "reg-construction-permits",
     "Regulation on the procedure for issuing permits in the field of construction", "Construction Permits Regulation",
     "regulation", "XZ-N-06", "2022-04-01", "en", "Cabinet of Ministers of the Republic of Uzbekistan", "in_force",
     "", "", "construction-permits.en.txt"),
    ("acts/pensiya-taminoti-qonuni.uz-latn.md", "law-state-pensions.uz-latn", "law-state-pensions",
     "Fuqarolarning davlat pensiya taʼminoti toʻgʻrisida", "Pensiya taʼminoti toʻgʻrisidagi qonun", "law",
     "XZ-Q-07", "1993-09-03", "uz-Latn", "Oʻzbekiston Respublikasi Oliy Kengashi", "amended", "2024-01-01", "", None),
    ("acts/polozhenie-voditelskie-udostovereniya.ru.txt", "reg-driving-vehicles.ru", "reg-driving-vehicles",
     "Положение о порядке выдачи водительских удостоверений и государственной регистрации транспортных средств",
     "Положение о водительских удостоверениях", "regulation", "XZ-N-08", "2019-10-01", "ru",
     "Кабинет Министров Республики Узбекистан", "in_force", "", "", None),
    ("acts/davlat-xizmatlari-nizomi.uz-latn.md", "reg-public-services.uz-latn", "reg-public-services",
     "Davlat xizmatlari markazlari va Yagona interaktiv davlat xizmatlari portali orqali davlat xizmatlari koʻrsatish tartibi toʻgʻrisida nizom",
     "Davlat xizmatlari nizomi", "regulation", "XZ-N-09", "2023-05-01", "uz-Latn",
     "Oʻzbekiston Respublikasi Vazirlar Mahkamasi", "in_force", "", "", None),
    ("acts/davlat-xizmatlari-nizomi-2018.uz-cyrl.pdf", "reg-public-services-2018.uz-cyrl", "reg-public-services-2018",
     "Давлат хизматлари марказлари орқали давлат хизматлари кўрсатиш тартиби тўғрисида низом (аввалги таҳрир)",
     "Давлат хизматлари низоми (2018)", "regulation", "XZ-N-10", "2018-01-01", "uz-Cyrl",
     "Ўзбекистон Республикаси Вазирлар Маҳкамаси", "repealed", "2023-05-01", "",
     "davlat-xizmatlari-nizomi-2018.uz-cyrl.txt"),
    ("acts/yer-va-kochmas-mulk-nizomi.uz-cyrl.txt", "reg-land-real-estate.uz-cyrl", "reg-land-real-estate",
     "Ер участкаларини ажратиш ва кўчмас мулкка бўлган ҳуқуқларни давлат рўйхатидан ўтказиш тартиби тўғрисида низом",
     "Ер ва кўчмас мулк низоми", "regulation", "XZ-N-11", "2021-08-01", "uz-Cyrl",
     "Ўзбекистон Республикаси Вазирлар Маҳкамаси", "in_force", "", "", None),
]

ARTICLE = re.compile(
    r"^(?:#+\s*)?(?:(\d+)([¹²³]?)-\s?(?:modda|модда)\.|(?:Статья|Article) (\d+)([¹²³]?)\.|(\d+)\.\s)", re.M)
SUP = {"": "", "¹": ".1", "²": ".2", "³": ".3"}


def article_ids(text: str) -> list[str]:
    ids = []
    for m in ARTICLE.finditer(text):
        if m.group(1):
            ids.append(m.group(1) + SUP[m.group(2)])
        elif m.group(3):
            ids.append(m.group(3) + SUP[m.group(4)])
        else:
            ids.append(m.group(5))
    return ids


def main() -> int:
    rows = []
    arts: dict[str, set[str]] = {}
    total = 0
    for (path, did, wid, title, short, kind, number, adopted, lang, auth, status, sdate, url, source) in ACTS:
        assert (CORPUS / path).is_file(), path
        text = (SRC / source if source else CORPUS / path).read_text(encoding="utf-8")
        ids = article_ids(text)
        assert len(ids) == len(set(ids)), (path, [i for i in ids if ids.count(i) > 1])
        arts.setdefault(wid, set()).update(ids)
        total += len(ids)
        print(f"{path}: {len(ids)} articles/points")
        rows.append([path, did, wid, title, short, kind, number, adopted, lang, auth, status, sdate, url])
    rows.append(["services/services.jsonl", "services-sample", "services-sample",
                 "Davlat xizmatlari tavsiflari (namunaviy toʻplam)", "Xizmatlar", "service", "", "2024-01-01",
                 "uz-Latn", "Xizmat jamoasi", "in_force", "", ""])
    with (CORPUS / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    bad = []
    for line in (CORPUS / "services" / "services.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for ref in rec.get("legal_basis_refs", []):
            wid, _, aid = ref.partition("::")
            if aid not in arts.get(wid, set()):
                bad.append((rec["id"], ref))
    print(f"total {total} articles/points in {len(ACTS)} documents; manifest rows {len(rows)}")
    if bad:
        print("unresolved refs:", bad)
        return 1
    print("all service legal_basis_refs resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
