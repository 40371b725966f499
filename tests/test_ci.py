"""CI fails rather than skips when the browser tests cannot run (issue 13)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.browser.conftest import find_chromium, in_ci

ROOT = Path(__file__).resolve().parent.parent


def _outcome(path: str, environ: dict):
    """What find_chromium does: the path, or the skip / failure it raises (caught here, so a
    skip cannot turn this test into a skipped one)."""
    try:
        return find_chromium(path, environ=environ)
    except BaseException as outcome:  # pytest's skip and fail are BaseExceptions
        return outcome


def test_a_missing_chromium_skips_on_a_laptop_and_fails_in_ci(tmp_path):
    missing = str(tmp_path / "no-chromium")
    laptop = _outcome(missing, {})
    assert isinstance(laptop, pytest.skip.Exception) and "skipped" in str(laptop)
    ci = _outcome(missing, {"CI": "1"})
    assert isinstance(ci, pytest.fail.Exception) and "cannot run in CI" in str(ci)
    assert isinstance(_outcome(missing, {"CI": "false"}), pytest.skip.Exception)
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)
    assert _outcome(str(present), {"CI": "1"}) == str(present)


def test_ci_run_sets_ci_before_running_the_tests():
    # Run the script's preamble (everything before it installs anything or runs make) and
    # read the environment it leaves: CI must be set, so the conftest above fails.
    script = (ROOT / ".ci" / "run").read_text()
    preamble = script.split("\nif ")[0]
    assert "make test" not in preamble and "apt-get" not in preamble
    shown = subprocess.run(["bash", "-c", preamble + '\necho "CI=${CI:-}"'],
                           capture_output=True, text=True, timeout=30, cwd=ROOT / ".ci",
                           env={"PATH": "/usr/bin:/bin"})
    assert shown.returncode == 0, shown.stderr
    assert in_ci({"CI": shown.stdout.strip().removeprefix("CI=")})
