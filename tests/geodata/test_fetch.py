"""Fetching police.uk: range requests, only what changed, resumption, fall-backs, safety.

Every test serves a locally built archive in police.uk's layout from 127.0.0.1
(:mod:`geodata.police_uk_local`); none reaches the internet.
"""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geodata import fetch as fetch_module
from geodata.__main__ import main
from geodata.errors import FetchError
from geodata.fetch import HttpClient, fetch_police_uk, load_state, locate_directory
from geodata.ingest import ingest_files
from geodata.paths import REPO_ROOT, shipped_crime_files
from geodata.police_uk_local import (
    ALL_FORCES,
    FakePoliceUK,
    build_archive,
    corrupt_member,
    generated_month,
)
from geodata.store import IncidentStore

NEWEST = "2024-06"
GENERATED = ("2024-04", "2024-05", "2024-06")


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def months(tmp_path_factory) -> dict[str, Path]:
    """month -> CSV: the four shipped months and three generated ones."""
    folder = tmp_path_factory.mktemp("police-uk-csv")
    found = {p.name[:7]: p for p in shipped_crime_files()}
    for index, month in enumerate(GENERATED):
        found[month] = generated_month(month, folder, seed=index)
    return found


@pytest.fixture(scope="session")
def archive(tmp_path_factory, months) -> Path:
    """The newest archive, ~30 MB, with ZIP64 end records as police.uk's large archives."""
    folder = tmp_path_factory.mktemp("police-uk-archive")
    path = build_archive(folder / f"{NEWEST}.zip", months, padding_mb=30, zip64=True,
                         forces=ALL_FORCES)
    with zipfile.ZipFile(path) as opened:  # a directory longer than the tail first read
        assert path.stat().st_size - opened.start_dir > fetch_module.TAIL_BYTES
    return path


def client() -> HttpClient:
    return HttpClient(timeout=10, retries=3, backoff=0.01)


def frame(store: IncidentStore) -> pd.DataFrame:
    """Everything stored, without the ingest's own id and time, in a fixed order."""
    stored = store.query(in_area=None).drop(columns=["ingest_id", "ingested_at"])
    return stored.sort_values(["source_file", "row"]).reset_index(drop=True)


def by_hand(tmp_path: Path, files) -> IncidentStore:
    store = IncidentStore(tmp_path / "by-hand")
    ingest_files(files, store=store, user="analyst")
    return store


@pytest.fixture(scope="session")
def by_hand_store(tmp_path_factory, months) -> pd.DataFrame:
    return frame(by_hand(tmp_path_factory.mktemp("hand"), [months[m] for m in sorted(months)]))


def test_a_fetch_reads_a_small_fraction_and_stores_what_ingesting_by_hand_stores(
        tmp_path, archive, months, by_hand_store):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        result = fetch_police_uk(store, force="humberside", base_url=base, client=client(),
                                 user="cron")
    size = archive.stat().st_size
    assert size > 30 * 2**20
    assert result.newest_at_source == NEWEST and result.archives == [f"{NEWEST}.zip"]
    assert [m.month for m in result.members] == sorted(months)
    assert all(m.reason == "missing" for m in result.members)
    # Only the directory and the seven Humberside members crossed the wire.
    assert server.bytes_sent == result.bytes_transferred
    assert result.bytes_transferred < 0.15 * size
    assert not any("outcomes" in str(s) for s in server.log)
    members = [s for s in server.archive_requests() if s.range and not s.range.startswith(
        "bytes=-")]
    assert len(members) == 1 + len(months)   # the directory's range, then one per member
    # The store is what ingesting the same CSVs by hand gives.
    pd.testing.assert_frame_equal(frame(store), by_hand_store)
    assert result.summary() == (f"accepted {len(by_hand_store)}, rejected 0, "
                                f"outside-area {int((~by_hand_store['in_area']).sum())}, "
                                f"replaced months []")
    state = load_state(store)["forces"]["humberside"]
    with zipfile.ZipFile(archive) as opened:
        info = opened.getinfo("2024-01/2024-01-humberside-street.csv")
    assert state["2024-01"]["crc"] == info.CRC and state["2024-01"]["size"] == info.file_size
    assert not list((store.directory / ".fetch").iterdir())   # no part files left behind


def test_a_second_fetch_reads_only_the_directory_and_changes_nothing(tmp_path, archive):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        fetch_police_uk(store, force="humberside", base_url=base, client=client())
        manifest = (store.directory / "manifest.json").read_bytes()
        server.log.clear()
        again = fetch_police_uk(store, force="humberside", base_url=base, client=client())
    assert again.up_to_date_before and again.report is None
    assert again.summary() == "accepted 0, rejected 0, outside-area 0, replaced months []"
    assert (store.directory / "manifest.json").read_bytes() == manifest
    # crime-last-updated, the tail, the rest of the directory: nothing else.
    assert [s.path for s in server.log] == ["/api/crime-last-updated"] + \
        [f"/data/archive/{NEWEST}.zip"] * 2
    with zipfile.ZipFile(archive) as opened:
        directory = archive.stat().st_size - opened.start_dir
    assert again.bytes_transferred < directory + fetch_module.TAIL_BYTES + 1000


def test_a_republished_month_is_fetched_alone_and_replaces_the_stored_one(
        tmp_path, archive, months):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        fetch_police_uk(store, force="humberside", base_url=base, client=client())
    # police.uk re-issues February with fewer rows; everything else is as before.
    february = tmp_path / "2024-02-humberside-street.csv"
    rows = pd.read_csv(months["2024-02"], dtype=str, keep_default_na=False)
    rows.iloc[:-100].to_csv(february, index=False)
    reissued = build_archive(tmp_path / f"{NEWEST}.zip", {**months, "2024-02": february},
                             padding_mb=5)
    server = FakePoliceUK({NEWEST: reissued}, NEWEST)
    with server.running() as base:
        result = fetch_police_uk(store, force="humberside", base_url=base, client=client())
    assert [(m.month, m.reason) for m in result.members] == [("2024-02", "changed")]
    assert result.report.replaced_months == ["2024-02"]
    assert result.summary().endswith("replaced months [2024-02]")
    assert len(store.query(months=["2024-02"], in_area=None)) == len(rows) - 100


def test_a_connection_dropped_mid_member_is_retried_and_resumed(tmp_path, archive,
                                                                by_hand_store):
    server = FakePoliceUK({NEWEST: archive}, NEWEST, drop_once_after=200_000)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        result = fetch_police_uk(store, force="humberside", base_url=base, client=client())
    dropped = next(s for s in server.log if s.sent == 200_000)
    resumed = server.log[server.log.index(dropped) + 1]
    first, last = map(int, dropped.range.removeprefix("bytes=").split("-"))
    again, last_again = map(int, resumed.range.removeprefix("bytes=").split("-"))
    # The retry asks for the rest only (the bytes of the last, incomplete block excepted).
    assert first + 200_000 - 2**16 <= again <= first + 200_000 and last_again == last
    assert resumed.sent == last - again + 1
    assert any("resuming at byte" in note for note in result.notes)
    pd.testing.assert_frame_equal(frame(store), by_hand_store)


def test_a_server_without_range_support_still_works_and_says_so(tmp_path, archive,
                                                                 by_hand_store):
    server = FakePoliceUK({NEWEST: archive}, NEWEST, ranges=False)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        result = fetch_police_uk(store, force="humberside", base_url=base, client=client())
    assert result.whole_archive
    assert result.bytes_transferred >= archive.stat().st_size
    assert any("refused range requests" in note for note in result.notes)
    assert "the server refused ranges" in result.transfer()
    pd.testing.assert_frame_equal(frame(store), by_hand_store)
    assert not (store.directory / ".fetch" / f"{NEWEST}.zip").exists()


def test_a_member_with_a_bad_crc_is_rejected_and_the_store_left_unchanged(
        tmp_path, months, capsys):
    bad = build_archive(tmp_path / f"{NEWEST}.zip", months, padding_mb=2, stored={"2024-03"})
    corrupt_member(bad, "2024-03/2024-03-humberside-street.csv")
    store = IncidentStore(tmp_path / "store")
    ingest_files([months["2024-01"]], store=store)
    manifest = (store.directory / "manifest.json").read_bytes()
    server = FakePoliceUK({NEWEST: bad}, NEWEST)
    with server.running() as base:
        code = main(["fetch", "--store", str(store.directory), "--base-url", base,
                     "--retries", "0"])
    error = capsys.readouterr().err
    assert code == 2
    assert "2024-03/2024-03-humberside-street.csv is unreadable (Bad CRC-32" in error
    assert "Nothing was stored." in error
    assert (store.directory / "manifest.json").read_bytes() == manifest
    assert not (store.directory / fetch_module.STATE_FILE).exists()
    # The corrupt member's bytes are deleted, never resumed from; the good ones are kept.
    assert not list((store.directory / ".fetch").glob("2024-03-*.part"))
    assert list((store.directory / ".fetch").glob("2024-02-*.part"))


def test_a_fetch_killed_mid_transfer_leaves_the_store_as_it_was_and_resumes(
        tmp_path, archive, by_hand_store):
    store = IncidentStore(tmp_path / "store")
    server = FakePoliceUK({NEWEST: archive}, NEWEST, stall_after=200_000)
    with server.running() as base:
        process = subprocess.Popen(
            [sys.executable, "-m", "geodata", "fetch", "--store", str(store.directory),
             "--base-url", base], cwd=REPO_ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            assert server.stalled.wait(60), process.stderr.read()
            deadline = time.monotonic() + 20  # let the client write what it received
            while time.monotonic() < deadline and sum(
                    p.stat().st_size for p in (store.directory / ".fetch").glob("*.part")
            ) < 200_000 - fetch_module._BLOCK:
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == -signal.SIGKILL
    assert not (store.directory / "manifest.json").exists() and store.version == 0
    assert not (store.directory / fetch_module.STATE_FILE).exists()
    parts = list((store.directory / ".fetch").glob("*.part"))
    kept = parts[0].stat().st_size
    assert len(parts) == 1 and 200_000 - fetch_module._BLOCK <= kept <= 200_000
    # The next run resumes the member where the killed one stopped.
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    with server.running() as base:
        result = fetch_police_uk(store, base_url=base, client=client())
    assert any(f"resuming a part file from an earlier run at byte {kept:,}" in n
               for n in result.notes)
    first_member = next(s for s in server.archive_requests() if s.range.startswith("bytes=")
                        and not s.range.startswith("bytes=-") and s.sent != 0 and
                        s is not server.archive_requests()[1])
    assert first_member.sent < 400_000 - kept + 1  # the rest of the member, not all of it
    pd.testing.assert_frame_equal(frame(store), by_hand_store)


def test_from_zip_selects_the_same_members_without_the_network(tmp_path, archive,
                                                               by_hand_store, capsys):
    store = tmp_path / "store"
    code = main(["fetch", "--from-zip", str(archive), "--store", str(store),
                 "--base-url", "http://127.0.0.1:9"])   # nothing listens there
    out = capsys.readouterr().out
    assert code == 0
    assert "humberside: 7 month(s) available (2022-01..2024-06); fetched 7" in out
    assert "transferred 0.00 MB in 0 request(s)" in out
    pd.testing.assert_frame_equal(frame(IncidentStore(store)), by_hand_store)


def test_from_and_to_bound_the_months(tmp_path, archive):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        result = fetch_police_uk(store, base_url=base, client=client(),
                                 months_from="2024-02", months_to="2024-04")
    assert [m.month for m in result.members] == ["2024-02", "2024-03", "2024-04"]
    assert store.months() == ["2024-02", "2024-03", "2024-04"]


def test_older_months_come_from_an_older_archive(tmp_path, months):
    newest = build_archive(tmp_path / "2024-06.zip",
                           {m: months[m] for m in ("2024-04", "2024-05", "2024-06")},
                           padding_mb=1)
    older = build_archive(tmp_path / "2024-03.zip",
                          {m: months[m] for m in ("2024-01", "2024-02", "2024-03")},
                          padding_mb=1)
    server = FakePoliceUK({"2024-06": newest, "2024-03": older}, "2024-06")
    store = IncidentStore(tmp_path / "store")
    with server.running() as base:
        result = fetch_police_uk(store, base_url=base, client=client(),
                                 months_from="2024-02")
    assert result.archives == ["2024-06.zip", "2024-03.zip"]
    assert store.months() == ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def test_proxies_come_from_the_standard_environment_variables(tmp_path, archive,
                                                              monkeypatch):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = IncidentStore(tmp_path / "store")
    with server.running() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        result = fetch_police_uk(store, base_url="http://data.police.invalid",
                                 client=client(), months_from="2024-06")
    assert result.report.accepted > 0
    assert server.log and all(s.absolute for s in server.log)  # asked as a proxy


def test_an_unreachable_source_exits_2_with_a_clear_message_and_is_audited(tmp_path, capsys):
    store = tmp_path / "store"
    code = main(["refresh", "--store", str(store), "--base-url", "http://127.0.0.1:9",
                 "--retries", "0", "--timeout", "2"])
    error = capsys.readouterr().err
    assert code == 2
    assert "error: could not reach http://127.0.0.1:9/api/crime-last-updated" in error
    assert "Nothing was stored." in error
    records = [json.loads(line) for line in (store / "audit.jsonl").read_text().splitlines()]
    assert records[-1]["event"] == "ingest"
    assert records[-1]["what"].startswith("refresh failed: could not reach")


def test_a_second_refresh_exits_3_while_one_runs(tmp_path, capsys):
    store = IncidentStore(tmp_path / "store")
    with (store.directory / fetch_module.REFRESH_LOCK).open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code = main(["refresh", "--store", str(store.directory), "--base-url",
                     "http://127.0.0.1:9"])
    assert code == 3
    assert "another refresh of" in capsys.readouterr().err
    assert store.version == 0


def test_refresh_prints_the_ingest_words_and_records_the_run(tmp_path, archive, capsys):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    store = tmp_path / "store"
    with server.running() as base:
        code = main(["refresh", "--store", str(store), "--base-url", base, "--user", "cron",
                     "--from", "2024-05"])
        again = main(["refresh", "--store", str(store), "--base-url", base, "--user", "cron"])
    out = capsys.readouterr().out
    assert code == 0 and again == 0
    assert "fetched 2 (2024-05 missing, 2024-06 missing)" in out
    assert "accepted 3000, rejected 0, outside-area" in out
    assert "humberside: 7 month(s) available (2022-01..2024-06); fetched 5" in out
    records = [json.loads(line) for line in (store / "audit.jsonl").read_text().splitlines()]
    assert [r["user"] for r in records] == ["cron", "cron"]
    assert records[0]["what"].startswith(f"refresh from {base} (humberside, newest 2024-06): "
                                         f"accepted 3000")
    assert records[0]["rows"] == 3000


def test_a_force_not_in_the_archive_is_named_with_the_forces_there(tmp_path, archive):
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    with server.running() as base, pytest.raises(FetchError) as error:
        fetch_police_uk(IncidentStore(tmp_path / "store"), force="humbersid", base_url=base,
                        client=client())
    assert "no files of force 'humbersid'" in str(error.value)
    assert "humberside" in str(error.value) and "west-yorkshire" in str(error.value)


@pytest.mark.parametrize("arguments, expected", [
    ({"months_from": "2024-13"}, "--from must be a month written YYYY-MM"),
    ({"months_from": "2024-05", "months_to": "2024-04"}, "must not be after --to"),
    ({"force": "Humberside Police"}, "named as in police.uk's file names"),
    ({"base_url": "ftp://data.police.uk"}, "http:// or https:// URL"),
])
def test_bad_arguments_say_what_was_expected_and_received(tmp_path, arguments, expected):
    with pytest.raises(ValueError, match=expected):
        fetch_police_uk(IncidentStore(tmp_path / "store"), **arguments)


def test_the_directory_is_found_in_plain_and_zip64_archives(tmp_path, months):
    for zip64 in (False, True):
        path = build_archive(tmp_path / f"a{zip64}.zip", {"2024-01": months["2024-01"]},
                             padding_mb=0.1, zip64=zip64,
                             extra={"README.txt": b"x" * 10})
        data = path.read_bytes()
        tail_start = max(0, len(data) - fetch_module.TAIL_BYTES)
        with zipfile.ZipFile(path) as opened:
            assert locate_directory(data[tail_start:], tail_start, "a.zip") == opened.start_dir
    with pytest.raises(FetchError, match="not a zip archive"):
        locate_directory(b"not a zip at all", 0, "x.zip")


def test_a_corrupt_fetch_record_is_named(tmp_path):
    store = IncidentStore(tmp_path / "store")
    (store.directory / fetch_module.STATE_FILE).write_text("{not json")
    with pytest.raises(FetchError, match="police_uk_fetch.json: the fetch record is corrupt"):
        load_state(store)


def test_the_user_agent_names_the_project(tmp_path, archive):
    seen = []
    server = FakePoliceUK({NEWEST: archive}, NEWEST)
    original = FakePoliceUK._answer

    def spy(self, handler):
        seen.append((handler.headers.get("User-Agent"), handler.headers.get("Authorization")))
        original(self, handler)

    server._answer = spy.__get__(server)
    with server.running() as base:
        fetch_module.newest_month(client(), base)
    assert seen and seen[0][0].startswith("humber-hotspots/") and seen[0][1] is None
