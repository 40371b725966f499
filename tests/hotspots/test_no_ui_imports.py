"""The analysis library must never import streamlit or pydeck."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import hotspots

REPO_ROOT = Path(hotspots.__file__).resolve().parent.parent


def test_hotspots_modules_import_without_ui_packages():
    modules = ["hotspots"] + [f"hotspots.{m.name}" for m in pkgutil.iter_modules(hotspots.__path__)]
    assert {"hotspots.grid", "hotspots.kde", "hotspots.outlines", "hotspots.clusters", "hotspots.summary"} <= set(modules)
    code = (
        "import importlib, sys\n"
        "sys.modules['streamlit'] = None\n"
        "sys.modules['pydeck'] = None\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert sys.modules['streamlit'] is None and sys.modules['pydeck'] is None\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
