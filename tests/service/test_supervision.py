"""``civicshield serve`` and its embedded worker stop together (red-team item 8), as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CORE = "c2pa,metadata,watermark,phash,known_fakes,official_media"


@dataclass
class Served:
    server: subprocess.Popen[bytes]
    worker_pid: int
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(x) for x in text)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    env = {
        **os.environ,
        "CIVICSHIELD_DATA_DIR": str(tmp_path / "data"),
        "CIVICSHIELD_ANALYZERS": CORE,
        "CIVICSHIELD_SECRET_KEY": "supervision-test",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "civicshield", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    worker = 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200 and (kids := _children(server.pid)):
                    worker = kids[0]
                    break
        except OSError:
            pass
        time.sleep(0.3)
    assert worker, "serve did not come up with a worker"
    yield Served(server, worker, tmp_path / "data")
    for pid in (server.pid, worker):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    server.wait(10)


def test_sigterm_stops_the_server_and_its_worker(served: Served) -> None:
    served.server.send_signal(signal.SIGTERM)
    served.server.wait(40)
    assert _wait_gone(served.worker_pid, 30), "the worker outlived its server"


def test_a_killed_server_takes_its_worker_down(served: Served) -> None:
    served.server.send_signal(signal.SIGKILL)
    served.server.wait(10)
    assert _wait_gone(served.worker_pid, 40), "the worker kept running after its server died"


def test_a_worker_refuses_to_go_on_with_changed_settings(served: Served) -> None:
    path = served.data_dir / "serve-settings.json"
    record = json.loads(path.read_text())
    assert record["pid"] == served.server.pid
    path.write_text(json.dumps({**record, "fingerprint": "0" * 32}))
    assert _wait_gone(served.worker_pid, 40), "the worker went on with settings that changed"
