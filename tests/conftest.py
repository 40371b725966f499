"""Session-wide test set-up: every test run gets its own empty incident store."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from streamlit import config as streamlit_config

# CI explores the same examples every run (a red CI then means a regression, not a new random
# find); local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The app refuses to serve beyond loopback (ui/access.py). In-process AppTests read this
# option from .streamlit/config.toml only when pytest starts in the repo root: set it here.
streamlit_config.set_option("server.address", "127.0.0.1")

# No background warm-up (ui/warmup.py) behind the tests' backs: the servers the browser tests
# start and the Data page's ingests would back-test every small store they make.
# tests/ui/test_warmup.py runs it directly.
os.environ.setdefault("HUMBER_WARM_UP", "0")


@pytest.fixture(scope="session", autouse=True)
def isolated_store(tmp_path_factory):
    """Point HUMBER_DATA_DIR at a fresh folder, so tests never touch a user's store.

    The app (AppTest in-process, or the browser tests' server) seeds it with the shipped
    police.uk months on first use, exactly as on a fresh clone.
    """
    directory = tmp_path_factory.mktemp("humber-store")
    previous = os.environ.get("HUMBER_DATA_DIR")
    os.environ["HUMBER_DATA_DIR"] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop("HUMBER_DATA_DIR", None)
    else:
        os.environ["HUMBER_DATA_DIR"] = previous


@pytest.fixture(autouse=True)
def computations_ahead_ended():
    """Let the map pages' computations started ahead (ui/background.py) end with their test:
    the next test may clear the caches and point at another store."""
    yield
    import sys

    background = sys.modules.get("ui.background")
    if background is not None:
        background.wait_idle()


@pytest.fixture(autouse=True)
def restore_main_module():
    """Put back ``sys.modules["__main__"]`` after each test.

    Streamlit's script runner (AppTest) installs the page script as ``__main__`` and leaves it
    there; a later test that starts a ``spawn`` process would then make the child re-run that
    (deleted) script instead of importing pytest's main module, and the child dies.
    """
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
