"""Latency of title suggestions: p50/p95/p99 of ``Suggester.suggest`` (server-side work) over typed prefixes.

Prefixes are what a user sends keystroke by keystroke: the first 1..n letters of words of real titles,
in every script and with some typos and apostrophe variants. The suggester is built once from the
published generation of a data directory, as the API's lifespan does.

    python eval/bench_suggest.py --data-dir data [--n 200] [--k 8]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from index.generation import current_generation_id
from index.suggest import Suggester
from ingest.transliterate import latin_to_cyrillic

_TYPED = ["pas", "pasport", "roʻyx", "ro'yxatdan o", "royxatdan", "ro`yxat", "рўйхат", "пенс", "пенсия по",
          "регистр", "водит", "haydovchlik", "pasprt", "construction per", "social", "nikoh", "никоҳ", "ид",
          "davlat xizmat", "давлат хизм", "yer uch", "ер участ", "mchj", "soliq", "guvohnoma", "zags", "закон об"]


def _prefixes(titles: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = list(_TYPED)
    while len(out) < n:
        title = rng.choice(titles)
        words = title.split()
        start = rng.randrange(len(words))
        text = " ".join(words[start : start + rng.randint(1, 3)])
        prefix = text[: rng.randint(1, max(1, len(text)))]
        if rng.random() < 0.15 and prefix.isascii():
            prefix = latin_to_cyrillic(prefix)  # the same title typed in Cyrillic
        if rng.random() < 0.1 and len(prefix) > 4:
            i = rng.randrange(1, len(prefix) - 1)
            prefix = prefix[:i] + prefix[i + 1 :]  # a dropped letter
        if prefix.strip():
            out.append(prefix)
    return out[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=200, help="typed prefixes to time")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the prefixes")
    args = parser.parse_args(argv)
    generation = current_generation_id(args.data_dir)
    if not generation:
        print(f"no published generation in {args.data_dir}; run `xizmat index build` first", file=sys.stderr)
        return 1
    documents = json.loads((args.data_dir / "generations" / generation / "documents.json").read_text(encoding="utf-8"))
    start = time.perf_counter()
    suggester = Suggester(documents)
    build_ms = (time.perf_counter() - start) * 1000
    prefixes = _prefixes([d["title"] for d in documents], args.n, seed=7)
    for prefix in prefixes:  # warm-up
        suggester.suggest(prefix, k=args.k)
    timings = []
    for _ in range(args.repeat):
        for prefix in prefixes:
            start = time.perf_counter()
            suggester.suggest(prefix, k=args.k)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(p / 100 * len(timings)))]

    print(f"titles={len(suggester)} build_ms={build_ms:.1f} prefixes={len(prefixes)} samples={len(timings)} "
          f"k={args.k}")
    print(f"p50_ms={pct(50):.3f} p95_ms={pct(95):.3f} p99_ms={pct(99):.3f} max_ms={timings[-1]:.3f} "
          f"mean_ms={statistics.fmean(timings):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
