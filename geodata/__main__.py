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
    return parser


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
        return _ingest(args) if args.command == "ingest" else _list(args)
    except DataValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
