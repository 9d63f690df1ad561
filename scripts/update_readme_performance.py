"""Regenerate README.md's "## Performance" section (between <!-- perf:start --> and <!-- perf:end -->)
from the latest ``xizmat bench`` result in eval/results/.

    python scripts/update_readme_performance.py [--readme README.md] [--results eval/results]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eval.bench_markdown import update_readme
from ingest.errors import XizmatError

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--results", type=Path, default=ROOT / "eval" / "results")
    args = parser.parse_args(argv)
    try:
        source = update_readme(args.readme, args.results)
    except XizmatError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 1
    print(f"regenerated the performance section of {args.readme} from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
