"""Run a parser in a forked child with memory, CPU-time and wall-clock limits (invariant I6).

The child gets ``RLIMIT_AS`` (its address space at fork time plus ``memory_bytes``), ``RLIMIT_CPU`` and
no core dumps; the parent waits at most ``wall_seconds`` and kills it after that. The result, or the
``IngestError`` code and message, come back through a pipe; nothing else from the child is trusted.
"""

from __future__ import annotations

import faulthandler
import functools
import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from ingest.errors import IngestError
from ingest.loaders import LoadedRecords, LoadedText, LoadLimits, load_file

__all__ = ["SandboxLimits", "load_file_sandboxed", "run_in_sandbox"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandboxed call: extra address space, CPU seconds and wall-clock seconds."""

    memory_bytes: int = 2**30
    cpu_seconds: int = 30
    wall_seconds: float = 60.0


def _address_space() -> int:
    """Current virtual size of this process; the memory limit is counted on top of it."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], limits: SandboxLimits) -> None:
    message: tuple[Any, ...]
    faulthandler.disable()  # a crashing parser must not print a traceback of the parent's stack
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = max(1, int(limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        memory = _address_space() + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        message = ("ok", fn(*args))
    except MemoryError:
        message = ("limit", "parse_memory_limit", "")
    except IngestError as exc:
        message = ("ingest", exc.code, exc.message)
    except RecursionError:
        message = ("limit", "parse_failed", "nesting too deep")
    except BaseException as exc:  # noqa: BLE001 - any failure of the parser is reported, never raised here
        message = ("limit", "parse_failed", type(exc).__name__)
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("limit", "parse_memory_limit", ""))
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        conn.send(("limit", "parse_failed", f"result could not be returned: {type(exc).__name__}"))
    finally:
        conn.close()


def _error(code: str, detail: str, *, label: str, limits: SandboxLimits) -> IngestError:
    if code == "parse_memory_limit":
        message = (
            f"parsing {label} needed more than {limits.memory_bytes} bytes of memory; split or simplify it"
        )
    elif code == "parse_timeout":
        message = (
            f"parsing {label} took longer than {limits.cpu_seconds} s of CPU or {limits.wall_seconds} s "
            "of wall-clock time; split or simplify it"
        )
    else:
        message = f"parsing {label} failed ({detail}); check the file or report it"
    return IngestError(message, code=code)


def run_in_sandbox(
    fn: Callable[..., T], *args: Any, limits: SandboxLimits = SandboxLimits(), label: str = "the document"
) -> T:
    """Call ``fn(*args)`` in a forked child under ``limits``; return its (picklable) result.

    Raises ``IngestError``: the child's own, or ``parse_memory_limit``, ``parse_timeout`` or
    ``parse_failed``. The parent never waits more than ``limits.wall_seconds`` plus one second.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, fn, args, limits), daemon=True)
    process.start()
    sender.close()
    message: tuple[Any, ...] | None = None
    try:
        if not receiver.poll(limits.wall_seconds):
            message = ("limit", "parse_timeout", "")
            process.kill()
        else:
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                message = None  # the child died before answering: the exit code says how
    finally:
        receiver.close()
        process.join(timeout=1.0)
        if process.exitcode is None:
            process.kill()
            process.join()
        exitcode = process.exitcode
        process.close()
    if message is None:
        logger.warning("sandboxed parse of %s died with exit code %s", label, exitcode)
        killed = exitcode in (-signal.SIGXCPU, -signal.SIGKILL)
        code = "parse_timeout" if killed else "parse_failed"
        raise _error(code, f"exit code {exitcode}", label=label, limits=limits)
    if message[0] == "ok":
        return message[1]  # type: ignore[no-any-return]
    if message[0] == "ingest":
        raise IngestError(message[2], code=message[1])
    raise _error(message[1], message[2], label=label, limits=limits)


def load_file_sandboxed(
    path: Path, *, limits: LoadLimits = LoadLimits(), sandbox_limits: SandboxLimits = SandboxLimits()
) -> LoadedText | LoadedRecords:
    """``load_file`` in the sandbox: a parser bug can cost a child process, never the caller."""
    path = Path(path)
    load = functools.partial(load_file, limits=limits)
    return run_in_sandbox(load, path, limits=sandbox_limits, label=path.name)
