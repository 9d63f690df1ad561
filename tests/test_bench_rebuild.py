"""eval/bench_rebuild.py: the re-ingest and rebuild timings come from real, valid runs of the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eval.bench_rebuild import markdown, measure_rebuild
from index.token_cache import TOKEN_CACHE
from xizmat.cli import cli

from tests.conftest import TEST_DATA


def test_one_round_on_a_tiny_corpus(tmp_path: Path) -> None:
    folder, data = tmp_path / "docs", tmp_path / "data"
    folder.mkdir()
    shutil.copy(TEST_DATA / "act.txt", folder / "act.txt")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(folder), "--data-dir", str(data)]).exit_code == 0
    assert runner.invoke(cli, ["index", "build", "--data-dir", str(data)]).exit_code == 0
    result = measure_rebuild(data, ingests=[folder], repeat=1)
    assert result["valid"] is True
    runs = result["runs"]
    assert runs["reingest"][0]["changed"] == 0 and runs["reingest"][0]["commands"][0]["unchanged"] == 1
    assert runs["build_up_to_date"][0]["published"] is False
    forced, cold = runs["build_forced_cached"][0], runs["build_forced_cold_analysis"][0]
    assert forced["published"] and cold["published"] and forced["embedded"] == cold["embedded"] == 0
    assert forced["generation"] != runs["build_up_to_date"][0]["generation"]
    assert (data / TOKEN_CACHE).is_file()  # the cold run removed it and the build wrote it again
    medians = result["median_seconds"]
    assert medians["reingest_then_build"] == round(medians["reingest"] + medians["build_up_to_date"], 2)
    assert "| re-ingest, then `xizmat index build` |" in markdown(result)


def test_nothing_to_reingest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--import KIND=PATH"):
        measure_rebuild(tmp_path)
