"""Command line of the data layer.

``python -m geodata ingest PATH [PATH ...] [--store DIR] [--source police_uk|NAME]
[--rejects FILE] [--user NAME]`` validates and stores incident files (CSV, GeoJSON, GeoPackage,
folders of them, or zips such as a police.uk custom download), prints one line per file and
the summary ``accepted N, rejected M, outside-area K, replaced months [...]``, writes the
rejected rows as CSV (next to the store unless ``--rejects`` says where), and exits 0 when
the files were processed (even with rejected rows) and 2 when a file could not be read. A zip
that would expand beyond the ``ingest_max_expanded_mb`` or ``ingest_max_compression_ratio``
settings is refused whole before it is extracted: exit 2, nothing stored. Two ingests run at
once (any processes) are serialised by the store's lock, so duplicate ids are still caught.

``python -m geodata ingests [--store DIR]`` lists every past ingest.

``python -m geodata fetch [--force humberside] [--from YYYY-MM] [--to YYYY-MM] [--store DIR]
[--base-url URL] [--from-zip FILE]`` brings the store up to date with police.uk street-level
crime for the force (default the ``police_uk_force`` setting): the months of the newest
archive (``{base}/data/archive/YYYY-MM.zip``, newest month from
``{base}/api/crime-last-updated``) that are missing or were republished, read with HTTP range
requests (the archive's directory and the force's members only). It prints the ingest's
summary ``accepted N, rejected M, outside-area K, replaced months [...]`` and the bytes
transferred, and exits 0 when the store is up to date, 2 when the source could not be
reached or its files were unreadable (nothing stored). ``--from-zip`` reads an archive
downloaded elsewhere, without the network. See :mod:`geodata.fetch`.

``python -m geodata refresh`` (same options) is ``fetch`` for a cron job or systemd timer: it
holds ``<store>/.refresh.lock`` so two refreshes never overlap (exit 3, nothing done, when
another one holds it), and records each run in the audit log.

Exit codes: 0 done (or up to date), 2 unreadable input or unreachable source (nothing
stored), 3 another refresh is running.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from geodata.errors import DataValidationError
from geodata.ingest import default_store_dir, ingest_files, open_store
from geodata.sources import load_sources
from geodata.store import IncidentStore


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geodata",
                                     description="Humber incident store: ingest and inspect.")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="validate and store incident files")
    ingest.add_argument("paths", nargs="+", metavar="PATH",
                        help="CSV, GeoJSON or GeoPackage files, folders or zips")
    ingest.add_argument("--store", metavar="DIR",
                        help="store folder (default: $HUMBER_DATA_DIR or the data_dir setting, "
                             "seeded with the shipped police.uk months when new; a new folder "
                             "named here starts empty)")
    ingest.add_argument("--source", default="police_uk", metavar="police_uk|NAME",
                        help="source specification in config/sources/ (default police_uk)")
    ingest.add_argument("--rejects", metavar="FILE",
                        help="write rejected rows here (default: next to the store)")
    ingest.add_argument("--user", help="who ingests (default: the login name)")
    listing = commands.add_parser("ingests", help="list past ingests")
    listing.add_argument("--store", metavar="DIR")
    for name, text in (("fetch", "bring the store up to date from police.uk"),
                       ("refresh", "fetch under a lock, audited: for cron or a systemd timer")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--force", metavar="FORCE",
                             help="police.uk force as in its file names (default: the "
                                  "police_uk_force setting, humberside)")
        command.add_argument("--from", dest="months_from", metavar="YYYY-MM",
                             help="first month to bring up to date (default: the first of the "
                                  "newest archive)")
        command.add_argument("--to", dest="months_to", metavar="YYYY-MM",
                             help="last month (default: the newest published)")
        command.add_argument("--store", metavar="DIR",
                             help="store folder (default: $HUMBER_DATA_DIR or the data_dir "
                                  "setting)")
        command.add_argument("--base-url", metavar="URL",
                             help="police.uk (default: the police_uk_base_url setting, "
                                  "https://data.police.uk)")
        command.add_argument("--from-zip", metavar="FILE",
                             help="read this police.uk archive instead of the network")
        command.add_argument("--rejects", metavar="FILE",
                             help="write rejected rows here (default: next to the store)")
        command.add_argument("--user", help="who fetches (default: the login name)")
        command.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                             help="network timeout per request (default 30)")
        command.add_argument("--retries", type=int, default=5, metavar="N",
                             help="retries after a network error, with exponential backoff "
                                  "(default 5)")
    return parser


def _print_fetch(result, store: IncidentStore) -> None:
    available = result.months_available
    span = f"{available[0]}..{available[-1]}" if available else "none"
    print(f"source {result.source}: newest month {result.newest_at_source}; read "
          f"{', '.join(result.archives)}")
    if result.up_to_date_before:
        print(f"{result.force}: up to date: {len(available)} month(s) available ({span}), "
              f"none missing or changed")
    else:
        fetched = ", ".join(f"{m.month} {m.reason}" for m in result.members)
        print(f"{result.force}: {len(available)} month(s) available ({span}); fetched "
              f"{len(result.members)} ({fetched})")
    for file in (result.report.files if result.report else []):
        if file.status == "ingested":
            print(f"{file.file}: read {file.rows_read}, accepted {file.accepted}, rejected "
                  f"{file.rejected}, outside-area {file.outside_area}")
        else:
            print(f"{file.file}: {file.status}: {file.message}")
    print(result.summary())
    if result.report is not None and result.report.rejects_path is not None:
        print(f"rejected rows written to {result.report.rejects_path}")
    for note in result.notes:
        print(f"note: {note}")
    print(result.transfer())
    print(f"store {store.directory} is at version {store.version} "
          f"({store.row_count()} incidents)")


def _fetch(args: argparse.Namespace) -> int:
    from auth.audit import AuditLog  # the audit log lives beside the store
    from geodata.errors import FetchError, RefreshBusy
    from geodata.fetch import HttpClient, fetch_police_uk, refresh

    try:
        client = HttpClient(timeout=args.timeout, retries=args.retries)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    store = IncidentStore(args.store) if args.store else open_store(default_store_dir())
    user = args.user or getpass.getuser()
    audit = AuditLog(store.directory / "audit.jsonl")
    run = refresh if args.command == "refresh" else fetch_police_uk
    try:
        result = run(store, force=args.force, months_from=args.months_from,
                     months_to=args.months_to, base_url=args.base_url,
                     from_zip=args.from_zip, user=user, client=client,
                     rejects_path=args.rejects)
    except RefreshBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (FetchError, ValueError) as error:
        for note in client.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"error: {error}", file=sys.stderr)
        audit.record("ingest", user=user, what=f"{args.command} failed: {error}", rows=0)
        return 2
    _print_fetch(result, store)
    if args.command == "refresh":
        print("recompute: nothing to precompute; the dashboard recomputes its cached surfaces "
              f"for store version {store.version} on the next page view")
    audit.record("ingest", user=user, rows=result.rows_read,
                 what=f"{args.command} from {result.source} ({result.force}, newest "
                      f"{result.newest_at_source}): {result.summary()}; {result.transfer()}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    known = load_sources()
    if args.source not in known:
        print(f"error: unknown source {args.source!r}; known sources: "
              f"{', '.join(sorted(known))} (add a TOML file in config/sources/).",
              file=sys.stderr)
        return 2
    # The dashboard's store is seeded with the shipped months on first use; a folder named
    # with --store is used as it is (a new one starts empty).
    store = IncidentStore(args.store) if args.store else open_store(default_store_dir())
    report = ingest_files(args.paths, store=store, source=args.source, user=args.user,
                          rejects_path=args.rejects)
    for file in report.files:
        if file.status == "ingested":
            print(f"{file.file}: read {file.rows_read}, accepted {file.accepted}, rejected "
                  f"{file.rejected}, outside-area {file.outside_area}")
        else:
            print(f"{file.file}: {file.status}: {file.message}",
                  file=sys.stderr if file.status == "unreadable" else sys.stdout)
    print(report.summary())
    if report.rejects_path is not None:
        print(f"rejected rows written to {report.rejects_path}")
    print(f"store {store.directory} is at version {report.version} "
          f"({store.row_count()} incidents)")
    from auth.audit import AuditLog  # the audit log lives beside the store

    AuditLog(store.directory / "audit.jsonl").record(
        "ingest", user=args.user or getpass.getuser(), what=f"command line: {report.summary()}",
        rows=report.rows_read)
    return 2 if report.unreadable else 0


def _list(args: argparse.Namespace) -> int:
    store = IncidentStore(args.store) if args.store else open_store(default_store_dir())
    frame = store.ingests()
    if frame.empty:
        print("no ingests yet")
        return 0
    columns = ["ingested_at", "user", "source", "file", "status", "rows_read", "accepted",
               "rejected", "outside_area", "replaced_months"]
    print(frame[columns].to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command in ("fetch", "refresh"):
            return _fetch(args)
        return _ingest(args) if args.command == "ingest" else _list(args)
    except DataValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
