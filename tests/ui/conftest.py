"""AppTest helpers: run the real app (or one CSP page) in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 180


def _csp_page(area_code: str) -> None:
    from views.csp import render

    render(area_code)


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    """A new store of the shipped months, as on a fresh clone; caches emptied around it."""
    import streamlit as st

    from ui import bench

    monkeypatch.setenv("HUMBER_DATA_DIR", str(bench.shipped_store(tmp_path / "store")))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def run_overview():
    def run() -> AppTest:
        return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    return run


@pytest.fixture
def run_csp():
    def run(area_code: str) -> AppTest:
        return AppTest.from_function(_csp_page, args=(area_code,),
                                     default_timeout=TIMEOUT).run()
    return run


def deck_spec(at: AppTest) -> tuple[dict, int]:
    """The deck.gl JSON of the page's map and its size in bytes."""
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1, f"expected one map, found {len(charts)}"
    payload = charts[0].proto.json
    return json.loads(payload), len(payload.encode("utf-8"))


def layer_ids(spec: dict) -> list[str]:
    return [layer["id"] for layer in spec["layers"]]
