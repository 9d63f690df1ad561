"""Named crash points for fault-injection tests: ``checkpoint(name)`` calls an optional registered hook.

Library code marks each durable step (a file fsynced, a commit, a rename) with ``checkpoint("...")``.
In production no hook is registered and a checkpoint costs one global lookup. Tests register a hook
that kills the process (crash-safety harness) or raises ``OSError`` (disk full, I/O error) at a
chosen point. Nothing here reads the environment: the test's child script registers its hook itself.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CHECKPOINTS", "checkpoint", "clear_hook", "set_hook"]

# Every checkpoint name in the write path, in the order a full ingest → build → publish reaches them.
CHECKPOINTS: tuple[str, ...] = (
    "upload.saved",            # api/tasks.save_upload: the file is fsynced, before the task row
    "store.before_commit",     # ingest/store.upsert_document: inside the transaction, before COMMIT
    "store.committed",         # ... after COMMIT
    "build.embedded",          # index/build: vectors embedded and cached
    "generation.started",      # index/generation: .tmp-<id>/ created under the writer lock
    "generation.dense_written",
    "generation.chunks_written",
    "generation.lexical_written",
    "generation.documents_written",
    "generation.files_synced",  # every file hashed and fsynced
    "generation.manifest_written",
    "generation.renamed",       # .tmp-<id>/ renamed to <id>/: sealed but not yet published
    "generation.current_written",  # CURRENT names the new generation: published
    "generation.pruned",
)

_hook: Callable[[str], None] | None = None


def set_hook(hook: Callable[[str], None] | None) -> None:
    """Register the function every ``checkpoint`` calls with its name (None removes it)."""
    global _hook
    _hook = hook


def clear_hook() -> None:
    """Remove the registered hook."""
    set_hook(None)


def checkpoint(name: str) -> None:
    """Mark a durable step; the registered hook may kill the process or raise to inject a fault."""
    hook = _hook
    if hook is not None:
        hook(name)
