"""Re-ingest and rebuild of an unchanged corpus (issue #3, target under 30 s): wall time of the real commands.

Against a data directory that already holds the corpus, each command runs in its own process, as an
operator types it (start-up and imports included):

1. ``xizmat corpus import KIND PATH`` for each ``--import`` and ``xizmat ingest PATH`` for each ``--ingest``:
   the re-ingest of the unchanged corpus;
2. ``xizmat index build``: the corpus is unchanged, so the build finds the index up to date;
3. ``xizmat index build --force``: a full build with every embedding and every chunk analysis cached;
4. ``xizmat index build --force`` with the token cache removed first: every embedding cached, every chunk
   analysed (the first build after a change to the analysis code).

One unmeasured pass of 1 and 2 first brings the directory up to date (an older program's store re-chunks
on its first re-ingest). Steps run ``--repeat`` times; the JSON keeps every run with the one-minute load
average at its start, and the medians. The directory is changed (generations are published): use a copy.

    python -m eval.bench_rebuild --data-dir /tmp/copy --import uz-legal=../shared/corpus/uz-legal \\
        --import labour-code=../shared/corpus/labour-code-ru --out eval/results/DATE-rebuild.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from index.token_cache import TOKEN_CACHE

__all__ = ["main", "measure_rebuild"]

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 30.0
_XIZMAT = (sys.executable, "-c", "from xizmat.cli import main; main()")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _run(args: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """Run one ``xizmat`` command with ``--json``; its wall seconds and its JSON output."""
    started = time.perf_counter()
    done = subprocess.run([*_XIZMAT, *args, "--json"], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"xizmat {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return round(seconds, 3), json.loads(done.stdout)


def _reingest(commands: list[list[str]]) -> dict[str, Any]:
    load, runs, changed = _load(), [], 0
    for args in commands:
        seconds, summary = _run(args)
        changed += summary["added"] + summary["updated"] + summary["removed"]
        runs.append({"command": "xizmat " + " ".join(args), "seconds": seconds,
                     "unchanged": summary["unchanged"], "chunks": summary["chunks"]})
    return {"seconds": round(sum(r["seconds"] for r in runs), 3), "load": load, "changed": changed,
            "commands": runs}


def _build(data_dir: Path, *, force: bool, cold_analysis: bool = False) -> dict[str, Any]:
    if cold_analysis:
        for path in data_dir.glob(f"{TOKEN_CACHE}*"):
            path.unlink()
    load = _load()
    seconds, report = _run(["index", "build", "--data-dir", str(data_dir), *(["--force"] if force else [])])
    keep = ("generation", "published", "documents", "chunks", "embedded", "cached", "seconds_total")
    return {"seconds": seconds, "load": load, **{k: report[k] for k in keep}}


def _median(runs: list[dict[str, Any]]) -> float:
    return round(statistics.median(r["seconds"] for r in runs), 2)


def measure_rebuild(
    data_dir: Path, *, imports: Sequence[tuple[str, Path]] = (), ingests: Sequence[Path] = (), repeat: int = 3
) -> dict[str, Any]:
    """Time the re-ingest, the up-to-date build and both forced builds, ``repeat`` times each."""
    commands = [["corpus", "import", kind, str(path), "--data-dir", str(data_dir)] for kind, path in imports]
    commands += [["ingest", str(path), "--data-dir", str(data_dir)] for path in ingests]
    if not commands:
        raise ValueError("give at least one --import KIND=PATH or --ingest PATH to re-ingest")
    result: dict[str, Any] = {
        "date": date.today().isoformat(), "data_dir": str(data_dir), "target_seconds": TARGET_SECONDS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": _load()},
        "warm_up": {"reingest": _reingest(commands), "build": _build(data_dir, force=False)},
    }
    steps: dict[str, list[dict[str, Any]]] = {
        "reingest": [], "build_up_to_date": [], "build_forced_cached": [], "build_forced_cold_analysis": []
    }
    for _ in range(repeat):
        steps["reingest"].append(_reingest(commands))
        steps["build_up_to_date"].append(_build(data_dir, force=False))
        steps["build_forced_cached"].append(_build(data_dir, force=True))
        steps["build_forced_cold_analysis"].append(_build(data_dir, force=True, cold_analysis=True))
    medians = {name: _median(runs) for name, runs in steps.items()}
    result["machine"]["load_after"] = _load()
    result["runs"] = steps
    result["median_seconds"] = medians
    medians["reingest_then_build"] = round(medians["reingest"] + medians["build_up_to_date"], 2)
    medians["reingest_then_forced_build"] = round(medians["reingest"] + medians["build_forced_cached"], 2)
    result["chunks"] = steps["build_forced_cached"][-1]["chunks"]
    result["valid"] = (
        all(r["changed"] == 0 for r in steps["reingest"])
        and not any(r["published"] for r in steps["build_up_to_date"])
        and all(r["published"] and r["embedded"] == 0 for r in steps["build_forced_cached"])
    )
    return result


def markdown(result: dict[str, Any]) -> str:
    """The medians as a small table."""
    m = result["median_seconds"]
    rows = [
        ("re-ingest of the unchanged corpus", m["reingest"]),
        ("`xizmat index build` (up to date: publishes nothing)", m["build_up_to_date"]),
        ("re-ingest, then `xizmat index build`", m["reingest_then_build"]),
        ("`xizmat index build --force`, every embedding and analysis cached", m["build_forced_cached"]),
        ("re-ingest, then `xizmat index build --force`", m["reingest_then_forced_build"]),
        ("`xizmat index build --force`, embeddings cached, token cache removed",
         m["build_forced_cold_analysis"]),
    ]
    lines = [f"{result['chunks']} chunks; medians of {len(result['runs']['reingest'])} runs (s, wall)", "",
             "| step | seconds |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
    machine = result["machine"]
    lines.append(f"\n{machine['cpus']} CPUs, load average {machine['load_before']} before, "
                 f"{machine['load_after']} after; valid: {result['valid']}")
    return "\n".join(lines)


def _import_arg(raw: str) -> tuple[str, Path]:
    kind, sep, path = raw.partition("=")
    if not sep or not kind or not path:
        raise argparse.ArgumentTypeError(
            f"--import {raw!r} is not KIND=PATH (uz-legal=../shared/corpus/uz-legal)"
        )
    return kind, Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="a copy of a data directory holding the corpus")
    parser.add_argument("--import", dest="imports", type=_import_arg, action="append", default=[],
                        metavar="KIND=PATH",
                        help="re-import with `xizmat corpus import KIND PATH` (repeatable)")
    parser.add_argument("--ingest", dest="ingests", type=Path, action="append", default=[], metavar="PATH",
                        help="re-ingest with `xizmat ingest PATH` (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS / f"{date.today().isoformat()}-rebuild.json")
    args = parser.parse_args(argv)
    result = measure_rebuild(args.data_dir, imports=args.imports, ingests=args.ingests, repeat=args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(result))
    return 0 if result["valid"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
