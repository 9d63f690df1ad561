"""The parsing sandbox: results come back, overruns are killed with the right code, the parent survives."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.loaders import LoadedText, LoadLimits
from ingest.sandbox import SandboxLimits, load_file_sandboxed, run_in_sandbox

DATA = Path(__file__).parent / "data"
QUICK = SandboxLimits(memory_bytes=256 * 2**20, cpu_seconds=1, wall_seconds=2.0)


def _allocate_4_gib() -> int:
    return len(bytearray(4 * 2**30))


def _spin() -> None:
    while True:
        pass


def _sleep() -> None:
    time.sleep(30)


def _raise() -> None:
    raise ValueError("secret detail /etc/passwd")


def _refuse() -> None:
    raise IngestError("x.pdf is encrypted; remove the password", code="encrypted_pdf")


def _segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_normal_call_returns_result() -> None:
    assert run_in_sandbox(sorted, [3, 1, 2]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("fn", "code"),
    [
        (_allocate_4_gib, "parse_memory_limit"),
        (_spin, "parse_timeout"),
        (_sleep, "parse_timeout"),
        (_raise, "parse_failed"),
        (_segfault, "parse_failed"),
        (_refuse, "encrypted_pdf"),
    ],
)
def test_failures_become_codes(fn, code: str) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with pytest.raises(IngestError) as caught:
        run_in_sandbox(fn, limits=QUICK, label="x.pdf")
    assert caught.value.code == code
    assert time.monotonic() - started < 3.0
    assert "Traceback" not in caught.value.message and "/etc/passwd" not in caught.value.message
    assert "x.pdf" in caught.value.message


def test_memory_limit_is_headroom_not_total() -> None:
    # 64 MiB fits in 256 MiB of headroom even though the parent already maps more than that.
    assert run_in_sandbox(lambda: len(bytearray(64 * 2**20)), limits=QUICK) == 64 * 2**20


def test_load_file_sandboxed() -> None:
    loaded = load_file_sandboxed(DATA / "act.pdf", sandbox_limits=QUICK)
    assert isinstance(loaded, LoadedText) and "Статья 3." in loaded.text
    with pytest.raises(IngestError) as caught:
        load_file_sandboxed(DATA / "act.pdf", limits=LoadLimits(max_pages=1), sandbox_limits=QUICK)
    assert caught.value.code == "too_many_pages"


def test_no_child_left_behind() -> None:
    import multiprocessing

    for fn in (_spin, _raise):
        with pytest.raises(IngestError):
            run_in_sandbox(fn, limits=QUICK)
    assert multiprocessing.active_children() == []
