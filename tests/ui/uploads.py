"""What the upload tests share: an upload as ``st.file_uploader`` returns it, an empty store
for one test, and rows of a shipped month to upload."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from geodata.paths import shipped_crime_files


class Upload:
    """What ``st.file_uploader`` returns: a name and the bytes."""

    def __init__(self, name: str, content: bytes):
        self.name, self._content = name, content

    def getvalue(self) -> bytes:
        return self._content


@contextlib.contextmanager
def empty_store(folder: Path, monkeypatch) -> Iterator[None]:
    """``HUMBER_DATA_DIR`` set to ``folder / "store"``; the cached store cleared on entry and
    on exit, so neither the test nor the next one sees another store."""
    monkeypatch.setenv("HUMBER_DATA_DIR", str(folder / "store"))
    from ui import cached
    cached.store.clear()
    try:
        yield
    finally:
        cached.store.clear()


def march_2024_rows() -> pd.DataFrame:
    """The shipped 2024-03 file as an upload reads it: every column text, nothing NaN."""
    return pd.read_csv(shipped_crime_files()[3], dtype=str, keep_default_na=False)
