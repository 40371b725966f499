"""The server as ``make run`` starts it, warm-up on: it starts its compute process
(:mod:`ui.compute_process`) and serves the overview's map, analyses included, while warming.

The other browser tests turn the warm-up off (``tests/conftest.py``), so this is the one run
of the server's background warm-up and of the second process in a real server.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, _serve, settle

pytestmark = pytest.mark.browser


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found[int(entry.name)] = (parent, command)
    return found


def _compute_processes(port: str) -> dict[int, str]:
    """The fork server and its processes under the server listening on `port`: pid ->
    command line."""
    processes = _processes()
    servers = {pid for pid, (_, command) in processes.items()
               if "serve.py" in command and f"--server.port {port}" in command}

    def under_server(pid: int) -> bool:
        for _ in range(10):
            if pid in servers:
                return True
            pid = processes.get(pid, (0, ""))[0]
        return False

    return {pid: command for pid, (_, command) in processes.items()
            if "multiprocessing.forkserver" in command and under_server(pid)}


def test_the_warmed_server_computes_on_its_second_process(browser, tmp_path):
    serving = _serve("warm-server.log", {"HUMBER_WARM_UP": "1",
                                         "HUMBER_DATA_DIR": str(tmp_path / "store")})
    url = next(serving)
    try:
        port = url.rsplit(":", 1)[1]
        deadline = time.monotonic() + 90
        while not _compute_processes(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        found = _compute_processes(port)
        assert found, "the warm-up started no compute process"
        assert all("hotspots.pipeline" in command for command in found.values())  # preloaded
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        try:
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(
                timeout=120_000)
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "warm-server-overview.png"))
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Where incidents concentrate").count() == 1
        finally:
            page.close()
    finally:
        next(serving, None)
    # stopped by a signal (no exit handlers run), the server leaves no process behind
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in found) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not [pid for pid in found if Path(f"/proc/{pid}").exists()]
    log = (ARTIFACTS / "warm-server.log").read_text()
    assert "Traceback" not in log and "Warm-up failed" not in log, log[-2000:]
