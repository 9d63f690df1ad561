"""A real API server for tests: uvicorn in a subprocess on a copy of an index, all logging at DEBUG
captured to a file, its own TMPDIR, and its resident memory read from /proc."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["ApiServer", "start_server"]

ROOT = Path(__file__).resolve().parents[1]
# Every logger at DEBUG to stderr (the app's loggers propagate to the root), as an operator might run it.
_LAUNCH = (
    "import logging, sys, uvicorn; "
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format='%(levelname)s %(name)s: %(message)s'); "
    "uvicorn.run('api.main:create_app', factory=True, host='127.0.0.1', port=int(sys.argv[1]), "
    "log_level='debug')"
)


@dataclass
class ApiServer:
    """A running server: its URL, process, data folder, temporary folder and log file."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    tmp_dir: Path
    log_path: Path

    def rss_bytes(self) -> int:
        """Resident memory of the server process (VmRSS)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(index_dir: Path, root: Path, env: dict[str, str], *, timeout: float = 120.0) -> ApiServer:
    """Copy ``index_dir`` under ``root`` and serve it; returns once /readyz answers 200."""
    data_dir, tmp_dir = root / "data", root / "tmp"
    shutil.copytree(index_dir, data_dir)
    tmp_dir.mkdir()
    port = _free_port()
    log_path = root / "server.log"
    full_env = {**os.environ, "XIZMAT_DATA_DIR": str(data_dir), "TMPDIR": str(tmp_dir), **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(port)], cwd=ROOT, env=full_env,
            stdout=log, stderr=subprocess.STDOUT,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", process, data_dir, tmp_dir, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise AssertionError(f"the server exited:\n{server.log()[-3000:]}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    raise AssertionError(f"the server was not ready in {timeout} s:\n{server.log()[-3000:]}")
