"""Start the real dashboard and a headless Debian Chromium for the browser tests.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it); Playwright only
drives it (``executable_path``), it never downloads a browser. Without Chromium the browser
tests are skipped with a plain reason on a laptop, and fail in CI (``CI`` set).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_ci(environ=os.environ) -> bool:
    """True when ``CI`` is set to anything but empty, ``0``, ``false`` or ``no`` (.ci/run: 1)."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium(path: str = CHROMIUM, environ=os.environ) -> str:
    """`path` if it is an executable; else skip the browser tests, or fail them in CI."""
    if os.access(path, os.X_OK):
        return path
    reason = (f"browser tests skipped: {path} not found. Install Debian's chromium "
              f"package (apt-get install chromium) to run them; .ci/run does this.")
    if in_ci(environ):
        pytest.fail(reason.replace("skipped", "cannot run in CI"))
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure in CI) saying why the browser tests cannot run."""
    return find_chromium()


def _serve(log_name: str, environment: dict | None = None):
    """Start the dashboard (``serve.py``, as ``make run`` does) on a free port; yield its URL.

    The server stops when the generator is resumed once more.
    """
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "serve.py"),  # as `make run`
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(environment or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        pytest.fail(f"The dashboard did not start on {url} within 90 s; see "
                    f"{ARTIFACTS / log_name}.")
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def app_url(chromium_path) -> str:
    """Serve the dashboard (single-analyst mode) for the whole session."""
    yield from _serve("streamlit-server.log")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for all browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def settle(page) -> None:
    """Wait until the page's script runs have ended (Streamlit's status widget is gone)."""
    page.wait_for_timeout(1500)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    page.wait_for_timeout(1000)


def sign_in(page, url: str, name: str, password: str) -> list[bytes]:
    """Record every websocket frame `page` receives, then sign in as `name` at `url`.

    Returns the list the frames keep arriving in (through the sign-in route's redirect too).
    """
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append(
            payload if isinstance(payload, bytes) else payload.encode())))
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.get_by_role("textbox", name="Username").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=120_000)
    return frames
