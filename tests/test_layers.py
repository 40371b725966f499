"""The layers of docs/architecture.md, enforced: imports only go down.

    config  ->  geodata, auth  ->  hotspots  ->  reports  ->  ui  ->  views  ->  app.py, serve.py

A package may import its own modules and those of lower layers; ``geodata`` and ``auth``
share a layer and do not import each other. Imports are read with ``ast`` (every
``import`` and ``from ... import``, at module level or inside a function), so a lazy
import counts too.

Command lines are entry points, the top of the stack wherever their file lives: a
``__main__.py`` and the ``bench.py`` benchmark drivers may import any layer (the ingest
command line records to ``auth``'s audit log; ``ui/bench.py`` drives the pages).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"config": 0, "geodata": 1, "auth": 1, "hotspots": 2, "reports": 3, "ui": 4,
         "views": 5}
UI_ONLY = {"streamlit": 4, "pydeck": 4}  # lowest layer that may import each
ENTRY_POINT_NAMES = {"__main__.py", "bench.py"}


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(top-level package, line, at module level) of every absolute import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(name.split(".")[0], node.lineno, id(node) in top_level) for name in names]
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(package, path) for package in LAYER
            for path in sorted((ROOT / package).rglob("*.py"))]


def _violations() -> list[str]:
    bad = []
    for package, path in _modules():
        rel = path.relative_to(ROOT)
        entry = path.name in ENTRY_POINT_NAMES
        for target, line, _ in _imports(path):
            if target in UI_ONLY and LAYER[package] < UI_ONLY[target]:
                bad.append(f"{rel}:{line} imports {target}")
            if target not in LAYER or target == package or entry:
                continue
            if LAYER[target] >= LAYER[package]:
                bad.append(f"{rel}:{line} imports {target} (layer {LAYER[target]}) from layer "
                           f"{LAYER[package]}")
    return bad


def test_imports_only_go_down_the_layers():
    assert _violations() == []


def test_the_checker_sees_lazy_imports_and_would_catch_a_cycle(tmp_path):
    # auth <-> geodata was a cycle of lazy imports (the store folder): a function-level
    # import of geodata in auth must be reported.
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from geodata.ingest import x\n    return x\n")
    assert ("geodata", 4, False) in _imports(sample)
    assert ("os", 1, True) in _imports(sample)


def test_the_hotspot_profile_module_does_not_import_geodata_when_imported():
    path = ROOT / "hotspots" / "hotspot_profile.py"
    assert [i for i in _imports(path) if i[0] == "geodata" and i[2]] == []


def test_light_imports():
    # `import hotspots` loads no submodule, so neither scikit-learn nor GeoPandas (the public
    # names are PEP 562 lazy attributes); auth finds the store folder through config, not
    # geodata.ingest (which loads GeoPandas); geodata.crs loads pyproj only to reproject.
    # Then hotspots.hotspot_profile, which needs GeoPandas, still loads nothing of geodata. One
    # interpreter, light modules first: what each step loaded is checked before the next.
    code = (
        "import importlib, sys\n"
        "heavy = ['sklearn', 'geopandas', 'scipy', 'pyproj', 'streamlit', 'geodata.ingest',\n"
        "         'geodata.places', 'hotspots.kde', 'hotspots.clusters', 'hotspots.backtest']\n"
        "for name in ['hotspots', 'auth.audit', 'auth.sessions', 'geodata.crs']:\n"
        "    importlib.import_module(name)\n"
        "    loaded = [m for m in heavy if m in sys.modules]\n"
        "    assert not loaded, f'importing {name} loaded {loaded}'\n"
        "importlib.import_module('hotspots.hotspot_profile')\n"
        "loaded = [m for m in sys.modules if m.startswith('geodata.') and m != 'geodata.crs']\n"
        "assert not loaded, f'importing hotspots.hotspot_profile loaded {loaded}'\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_public_api_resolves_and_is_what_the_docstring_lists():
    import hotspots

    for name in hotspots.__all__:
        value = getattr(hotspots, name)
        assert getattr(value, "__module__", "").startswith("hotspots."), name
        assert f":func:`{name}`" in hotspots.__doc__ or f":class:`{name}`" in hotspots.__doc__
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        hotspots.nothing_here  # noqa: B018
    from hotspots import pipeline  # submodules still import by name

    assert pipeline.predicted_cells is hotspots.predicted_cells
