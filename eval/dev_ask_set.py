"""Write the answer-evaluation set of the shared corpus: the dev questions (in scope, with their gold
articles) and eval/sets/ask_out_of_scope.jsonl (tagged ``out_of_scope``), as queries.jsonl + qrels.txt
for ``xizmat eval ask``.

    python -m eval.dev_ask_set --out /tmp/dev-ask
    xizmat eval ask --queries /tmp/dev-ask/queries.jsonl --qrels /tmp/dev-ask/qrels.txt --data-dir <uz-legal dir>
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.formats import Query, import_dev, write_qrels, write_queries

SETS = Path(__file__).parent / "sets"
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev" / "gold_situations.jsonl"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.dev_ask_set", description=__doc__.split("\n")[0])
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--out-of-scope", type=Path, default=SETS / "ask_out_of_scope.jsonl")
    parser.add_argument("--out", type=Path, required=True, help="folder for queries.jsonl and qrels.txt")
    args = parser.parse_args(argv)
    queries, qrels = import_dev(args.dev)
    for line in args.out_of_scope.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(Query(row["id"], row["query"], row.get("lang", ""), ("out_of_scope",)))
    args.out.mkdir(parents=True, exist_ok=True)
    write_queries(args.out / "queries.jsonl", queries)
    write_qrels(args.out / "qrels.txt", qrels)
    print(f"{len(queries)} questions, {len(qrels)} judgements written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
