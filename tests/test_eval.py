"""The evaluation workbench: metrics against numbers computed by hand, file formats, significance
tests, the HTML report, the importers and ``xizmat eval run`` on the sample golden set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from ir_measures import Qrel, ScoredDoc

from eval.compare import compare_runs, format_comparison
from eval.formats import (
    EvalFormatError, Query, import_beir, import_dev, read_qrels, read_queries, read_run, write_qrels,
    write_queries, write_run,
)
from eval.metrics import MEASURE_NAMES, bootstrap_ci, evaluate
from eval.report import render_report
from eval.runner import config_params
from ingest.errors import ConfigError
from tests.conftest import ROOT, shared_path
from xizmat.cli import cli

SAMPLE_SET = ROOT / "eval" / "sets" / "sample"

# q1: d1 (2) and d2 (1) at ranks 2 and 1; q2: d3 at rank 3; q3: nothing relevant returned.
QRELS = [Qrel("q1", "d1", 2), Qrel("q1", "d2", 1), Qrel("q2", "d3", 1), Qrel("q3", "d4", 1)]
RUN = [ScoredDoc("q1", "d2", 3.0), ScoredDoc("q1", "d1", 2.0), ScoredDoc("q1", "x", 1.0),
       ScoredDoc("q2", "x", 3.0), ScoredDoc("q2", "y", 2.0), ScoredDoc("q2", "d3", 1.0),
       ScoredDoc("q3", "a", 2.0), ScoredDoc("q3", "b", 1.0)]
LOG2_3 = 1.5849625007211563
# nDCG@10 (linear gains): q1 = (1/1 + 2/log2 3) / (2/1 + 1/log2 3); q2 = (1/log2 4) / 1; q3 = 0.
NDCG_Q1 = (1 + 2 / LOG2_3) / (2 + 1 / LOG2_3)


@pytest.mark.parametrize(("measure", "expected"), [
    ("nDCG@10", (NDCG_Q1 + 0.5 + 0.0) / 3),
    ("RR@10", (1 + 1 / 3 + 0) / 3),
    ("R@5", (1 + 1 + 0) / 3),
    ("R@10", 2 / 3),
    ("P@5", (2 / 5 + 1 / 5 + 0) / 3),
    ("AP", (1 + 1 / 3 + 0) / 3),
])
def test_metrics_match_hand_computed_values(measure: str, expected: float) -> None:
    result = evaluate(QRELS, RUN)
    assert result["n"] == 3
    assert result["metrics"][measure] == pytest.approx(expected, abs=1e-4)


def test_per_query_and_breakdowns() -> None:
    queries = [Query("q1", "a", "uz-Latn", ("short",)), Query("q2", "б", "ru", ("short",)),
               Query("q3", "c", "en", ("question",))]
    result = evaluate(QRELS, RUN, queries)
    assert result["per_query"]["q1"]["nDCG@10"] == pytest.approx(NDCG_Q1, abs=1e-4)
    assert result["per_query"]["q3"]["RR@10"] == 0.0
    assert set(result["by_lang"]) == {"uz-Latn", "ru", "en"}
    assert result["by_script"]["Latn"]["n"] == 2  # q3's script is detected from its text
    assert result["by_tag"]["short"]["metrics"]["R@5"] == 1.0


def test_a_ref_counts_once_at_its_best_rank() -> None:
    run = [ScoredDoc("q2", "d3", 3.0), ScoredDoc("q2", "x", 2.0), ScoredDoc("q2", "d3", 1.0)]
    assert evaluate([Qrel("q2", "d3", 1)], run)["metrics"]["P@5"] == pytest.approx(1 / 5)


def test_queries_missing_from_the_run_score_zero() -> None:
    result = evaluate(QRELS, [d for d in RUN if d.query_id != "q1"])
    assert result["n"] == 3 and result["per_query"]["q1"]["RR@10"] == 0.0


def test_bootstrap_interval_contains_the_mean() -> None:
    values = [0.0, 0.2, 0.5, 0.9, 1.0, 0.3, 0.7, 0.1]
    low, high = bootstrap_ci(values)
    assert low <= sum(values) / len(values) <= high
    assert bootstrap_ci([0.5] * 5) == (0.5, 0.5)


def test_run_and_qrels_round_trip(tmp_path: Path) -> None:
    write_run(tmp_path / "run.trec", RUN, tag="toy")
    write_qrels(tmp_path / "qrels.txt", QRELS)
    assert sorted(read_run(tmp_path / "run.trec")) == sorted(RUN)
    assert read_qrels(tmp_path / "qrels.txt") == QRELS
    first = (tmp_path / "run.trec").read_text().splitlines()[0]
    assert first == "q1 Q0 d2 1 3 toy"


def test_queries_round_trip_jsonl_and_tsv(tmp_path: Path) -> None:
    queries = [Query("a", "ish haqi", "uz-Latn", ("short",)),
               Query("b", "статья 5", "ru", ("reference",), filters={"lang": "uz"})]
    write_queries(tmp_path / "q.jsonl", queries)
    assert read_queries(tmp_path / "q.jsonl") == queries
    (tmp_path / "q.tsv").write_text("a\tish haqi\tuz-Latn\tshort,typo\nb\tпенсия\n", encoding="utf-8")
    assert read_queries(tmp_path / "q.tsv") == [Query("a", "ish haqi", "uz-Latn", ("short", "typo")),
                                                Query("b", "пенсия")]


@pytest.mark.parametrize(("name", "content", "reader", "code"), [
    ("qrels.txt", "q1 0 d1\n", read_qrels, "invalid_qrels"),
    ("run.trec", "q1 Q0 d1 1 high run\n", read_run, "invalid_run"),
    ("q.jsonl", '{"text": "no id"}\n', read_queries, "invalid_queries"),
    ("q.tsv", "a\tone\na\ttwo\n", read_queries, "invalid_queries"),
])
def test_bad_files_name_the_line(tmp_path: Path, name: str, content: str, reader, code: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(EvalFormatError) as info:
        reader(tmp_path / name)
    assert info.value.code == code and name in info.value.message


def test_missing_file_and_unknown_config(tmp_path: Path) -> None:
    with pytest.raises(EvalFormatError, match="does not exist"):
        read_qrels(tmp_path / "absent.txt")
    with pytest.raises(ConfigError, match="bm25"):
        config_params("bm52")
    assert config_params("bm25").mode == "lexical" and config_params("bm25").thesaurus_weight == 0.0
    (tmp_path / "p.json").write_text('{"rrf_k": 10}', encoding="utf-8")
    assert config_params(str(tmp_path / "p.json")).rrf_k == 10


@pytest.mark.parametrize("config", ["bm25", "dense", "naive-rrf"])
def test_baselines_leave_out_routing_and_heading_rescoring(config: str) -> None:
    params = config_params(config)
    assert params.long_act_prior == params.long_chapter_prior == params.long_heading_weight == 0.0
    assert config_params("default").long_chapter_prior > 0 and config_params("default").long_heading_weight > 0


def _toy(n: int, *, good: bool) -> tuple[list[Qrel], list[ScoredDoc]]:
    qrels = [Qrel(f"q{i}", f"gold{i}", 1) for i in range(n)]
    run = [ScoredDoc(f"q{i}", f"gold{i}" if good else f"noise{i}", 2.0) for i in range(n)]
    run += [ScoredDoc(f"q{i}", f"other{i}", 1.0) for i in range(n)]
    return qrels, run


@pytest.mark.parametrize("test", ["randomisation", "t-test"])
def test_compare_finds_a_clear_difference_and_none_between_identical_runs(test: str) -> None:
    qrels, good = _toy(30, good=True)
    _, bad = _toy(30, good=False)
    for i in range(0, 30, 6):  # the weak run still finds a few
        bad.append(ScoredDoc(f"q{i}", f"gold{i}", 1.5))
    result = compare_runs(qrels, {"bad": bad, "good": good}, test=test)  # type: ignore[arg-type]
    row = next(r for r in result["table"] if r["measure"] == "nDCG@10")
    assert row["significant"]["good"] and row["p"]["good"] < 0.01 and row["delta"]["good"] > 0
    assert result["changes"]["good"]["wins"] == 30 and result["changes"]["good"]["losses"] == 0
    same = compare_runs(qrels, {"a": good, "b": list(good)}, test=test)  # type: ignore[arg-type]
    assert all(r["p"]["b"] == 1.0 and not r["significant"]["b"] for r in same["table"])
    assert "nDCG@10" in format_comparison(result)


def test_report_is_self_contained() -> None:
    queries = [Query("q1", "id karta", "uz-Latn", ("short",)), Query("q2", "пенсия", "ru"),
               Query("q3", "pension <age>", "en")]
    page = render_report(QRELS, {"base": RUN, "other": RUN[:3]}, queries)
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page
    assert "pension &lt;age&gt;" in page  # query text is escaped
    assert "returned instead" in page and "d4" in page  # q3 fails: its gold ref is listed


def test_beir_importer(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "queries.jsonl").write_text('{"_id": "1", "text": "pension age"}\n{"_id": "2", "text": "x"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\tdoc7\t2\n")
    queries, qrels = import_beir(tmp_path, lang="en")
    assert queries == [Query("1", "pension age", "en")] and qrels == [Qrel("1", "doc7", 2)]


def test_dev_importer(tmp_path: Path) -> None:
    path = shared_path("eval", "dev", "gold_situations.jsonl")
    queries, qrels = import_dev(path)
    assert len(queries) == 31 and all("::" in q.doc_id for q in qrels)
    assert {q.query_id for q in qrels} == {q.id for q in queries}
    result = CliRunner().invoke(cli, ["eval", "import-dev", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(read_queries(tmp_path / "queries.jsonl")) == 31
    assert read_qrels(tmp_path / "qrels.txt") == qrels


def test_make_crosslingual(tmp_path: Path) -> None:
    path = shared_path("corpus", "labour-code-ru", "law_base_ru.json")
    result = CliRunner().invoke(cli, ["eval", "make-crosslingual", str(path), "--out", str(tmp_path), "--limit", "5"])
    assert result.exit_code == 0, result.output
    queries = read_queries(tmp_path / "queries.jsonl")
    assert [q.id for q in queries][:2] == ["ru2uz-1", "ru2uz-2"]
    assert queries[0].filters == {"lang": "uz", "act": "mehnat_kodeksi"}
    assert Qrel("ru2uz-1", "mehnat_kodeksi::1", 2) in read_qrels(tmp_path / "qrels.txt")


def test_sample_golden_set_is_well_formed(sample_searcher) -> None:  # type: ignore[no-untyped-def]
    queries = read_queries(SAMPLE_SET / "queries.jsonl")
    qrels = read_qrels(SAMPLE_SET / "qrels.txt")
    judged = {q.query_id for q in qrels}
    oos = [q for q in queries if "out_of_scope" in q.tags]
    assert len(judged) >= 150 and len(oos) >= 30 and not judged & {q.id for q in oos}
    assert {q.lang for q in queries} == {"uz-Latn", "uz-Cyrl", "ru", "en"}
    assert {"short", "typo", "informal", "question", "reference"} <= {t for q in queries for t in q.tags}
    assert {q.relevance for q in qrels} == {1, 2}
    missing = sorted({q.doc_id for q in qrels} - set(sample_searcher.by_ref))
    assert not missing, f"judged refs absent from the sample index: {missing}"


def test_eval_run_json_on_the_sample_set(sample_index: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "eval", "run", "--queries", str(SAMPLE_SET / "queries.jsonl"), "--qrels", str(SAMPLE_SET / "qrels.txt"),
        "--data-dir", str(sample_index), "--out", str(tmp_path / "default"), "--json",
    ])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data["n"], int) and data["n"] >= 150
    assert list(data["metrics"]) == MEASURE_NAMES == ["nDCG@10", "RR@10", "R@5", "R@10", "Success@10", "R@100", "P@5", "AP"]
    assert {"uz-Latn", "uz-Cyrl", "ru", "en"} == set(data["by_lang"])
    assert data["metrics"]["nDCG@10"] > 0.3
    assert (tmp_path / "default" / "run.trec").is_file()
    saved = json.loads((tmp_path / "default" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["metrics"] == data["metrics"] and saved["config"] == "default"


def test_script_consistency(sample_searcher) -> None:  # type: ignore[no-untyped-def]
    from eval.crosslingual import script_consistency

    queries = [Query("a", "nikohni qayd etish", "uz-Latn"), Query("b", "ёшга доир пенсия", "uz-Cyrl"),
               Query("c", "регистрация брака", "ru")]
    result = script_consistency(sample_searcher, queries)
    assert result["n"] == 2 and 0.0 <= result["overlap@10"] <= 1.0
    assert {row["other"] for row in result["worst"]} == {"никоҳни қайд этиш", "yoshga doir pensiya"}


def test_eval_errors_are_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "compare", str(tmp_path / "a.trec"), str(tmp_path / "b.trec"),
                                      "--qrels", str(tmp_path / "q.txt")])
    assert result.exit_code == 1 and "does not exist" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["run", "compare", "report", "import-dev", "import-beir", "make-crosslingual",
                                     "script-consistency"])
def test_eval_help_ends_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, ["eval", command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "xizmat eval " + command in result.output
