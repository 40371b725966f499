"""A local stand-in for data.police.uk: archives in its layout, served with Range support.

Used by the fetch tests (``tests/geodata/test_fetch.py``) and by ``python -m geodata.bench
--fetch``; it never reaches the internet (it listens on 127.0.0.1 only). Not used by the
dashboard.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from geodata.paths import shipped_crime_files

PADDING_FORCES = ("cleveland", "durham", "north-yorkshire", "south-yorkshire",
                  "west-yorkshire", "lincolnshire")
#: As many forces as police.uk has (43 with Humberside), so the directory is as long as
#: its per-month share of a real archive's.
ALL_FORCES = PADDING_FORCES + tuple(f"force-{i:02d}" for i in range(36))


@functools.lru_cache(maxsize=1)
def _shipped_rows() -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                      for p in shipped_crime_files()[1:]], ignore_index=True)


def generated_month(month: str, folder: Path, *, rows: int = 1500, seed: int = 0) -> Path:
    """A police.uk street-level CSV for `month`, resampled from the shipped 2024 months."""
    rows = _shipped_rows().sample(n=rows, random_state=seed, replace=True).assign(Month=month)
    path = folder / f"{month}-humberside-street.csv"
    rows.to_csv(path, index=False)
    return path


def build_archive(path: Path, humberside: dict[str, Path], *, padding_mb: float = 30.0,
                  forces: tuple[str, ...] = PADDING_FORCES, zip64: bool = False,
                  stored: set[str] = frozenset(), extra: dict[str, bytes] | None = None) -> Path:
    """Write an archive laid out as police.uk's monthly archive.

    Members ``YYYY-MM/YYYY-MM-humberside-street.csv`` (deflated) from `humberside`
    (month -> CSV), a small outcomes file per month, and other forces' street files made of
    random, incompressible bytes (`padding_mb` in all, stored) so the archive is large next to
    the Humberside members. `zip64` writes ZIP64 end records as an archive over 4 GB has.
    """
    months = sorted(humberside)
    per_member = int(padding_mb * 2**20 / max(1, len(months) * len(forces)))
    previous = zipfile.ZIP_FILECOUNT_LIMIT
    if zip64:
        zipfile.ZIP_FILECOUNT_LIMIT = 0  # forces the ZIP64 end-of-archive records
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for month in months:
                for force in forces:
                    archive.writestr(f"{month}/{month}-{force}-street.csv",
                                     os.urandom(per_member), compress_type=zipfile.ZIP_STORED)
                    for kind in ("outcomes", "stop-and-search"):
                        archive.writestr(f"{month}/{month}-{force}-{kind}.csv", "Month\n")
                name = f"{month}/{month}-humberside-street.csv"
                kind = zipfile.ZIP_STORED if month in stored else zipfile.ZIP_DEFLATED
                archive.write(humberside[month], name, compress_type=kind)
                archive.writestr(f"{month}/{month}-humberside-outcomes.csv",
                                 "Crime ID,Month\n")
            for name, content in (extra or {}).items():
                archive.writestr(name, content)
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = previous
    return path


def corrupt_member(path: Path, member: str) -> None:
    """Flip one byte of a stored member's data, leaving its recorded CRC-32 as it was."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{member} must be stored (not deflated) to be corrupted simply")
    with path.open("r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_length = int.from_bytes(handle.read(2), "little")
        extra_length = int.from_bytes(handle.read(2), "little")
        position = info.header_offset + 30 + name_length + extra_length + 100
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0xFF]))


@dataclass
class Served:
    """One request the server answered: the path, the Range asked for, the bytes sent."""

    path: str
    range: str | None
    status: int
    sent: int = 0
    absolute: bool = False        # the request line held a full URL (a proxy request)


@dataclass
class FakePoliceUK:
    """A police.uk look-alike on 127.0.0.1 serving archives and crime-last-updated.

    Attributes to steer it: ``ranges`` (False: answer every request with the whole file),
    ``drop_once_after`` (close the connection once after that many bytes of a member range),
    ``stall_after`` (stop sending after that many bytes of a member range until released).
    """

    archives: dict[str, Path]           # month -> archive file
    newest: str
    ranges: bool = True
    drop_once_after: int | None = None
    stall_after: int | None = None
    log: list[Served] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def bytes_sent(self) -> int:
        """Body bytes sent so far."""
        return sum(s.sent for s in self.log)

    def archive_requests(self) -> list[Served]:
        """Requests for archives (not the API)."""
        return [s for s in self.log if s.path.endswith(".zip")]

    @contextlib.contextmanager
    def running(self):
        """Serve on a free port of 127.0.0.1; yields the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                fake._answer(self)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            self.release.set()
            server.shutdown()
            server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(handler.path)
        path = parsed.path
        entry = Served(path=path, range=handler.headers.get("Range"), status=200,
                       absolute=bool(parsed.scheme))
        self.log.append(entry)
        if path == "/api/crime-last-updated":
            body = json.dumps({"date": f"{self.newest}-01"}).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            entry.sent = len(body)
            return
        match = re.fullmatch(r"/data/archive/(\d{4}-\d{2})\.zip", path)
        if not match or match[1] not in self.archives:
            entry.status = 404
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        file = self.archives[match[1]]
        size = file.stat().st_size
        etag = f'"{int(file.stat().st_mtime_ns)}-{size}"'
        first, last = 0, size - 1
        wanted = handler.headers.get("Range")
        if_range = handler.headers.get("If-Range")
        partial = bool(self.ranges and wanted and (if_range is None or if_range == etag))
        if partial:
            spec = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if spec[1] == "":
                first = max(0, size - int(spec[2]))
            else:
                first = int(spec[1])
                last = min(size - 1, int(spec[2])) if spec[2] else size - 1
        entry.status = 206 if partial else 200
        handler.send_response(entry.status)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("ETag", etag)
        if self.ranges:
            handler.send_header("Accept-Ranges", "bytes")
        if partial:
            handler.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        handler.send_header("Content-Length", str(last - first + 1))
        handler.end_headers()
        with zipfile.ZipFile(file) as opened:
            is_member = partial and first < opened.start_dir  # not the directory or tail
        limit = None
        if is_member and self.drop_once_after is not None:
            limit, self.drop_once_after = self.drop_once_after, None
        stall = self.stall_after if is_member else None
        with file.open("rb") as source:
            source.seek(first)
            remaining = last - first + 1
            while remaining:
                block = source.read(min(65536, remaining))
                if limit is not None and entry.sent + len(block) > limit:
                    block = block[:limit - entry.sent]
                    handler.wfile.write(block)
                    entry.sent += len(block)
                    handler.wfile.flush()
                    handler.close_connection = True
                    return  # the connection drops mid-member
                if stall is not None and entry.sent + len(block) > stall:
                    handler.wfile.write(block[:stall - entry.sent])
                    entry.sent = stall
                    handler.wfile.flush()
                    self.stalled.set()
                    self.release.wait(120)
                    handler.close_connection = True
                    return
                try:
                    handler.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    return
                entry.sent += len(block)
                remaining -= len(block)
