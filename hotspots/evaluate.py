"""Command line back-test of the hotspot methods (see :mod:`hotspots.backtest`).

Usage::

    python -m hotspots.evaluate [--incidents PATH ...] --train 2024-01..2024-02 --test 2024-03
        [--area CODE] [--crime-group NAME] [--coverage 1,2,5,10] [--cell-size 100]
        [--format table|json]

Without ``--area`` every CSP is evaluated in turn.  A method that cannot score on the
chosen months (for example Gi* when every training cell holds the same count) is listed as
``not scored`` with the reason, and the other methods are still scored.  Bad arguments (unknown
area or crime group, malformed month range, months not in the data) exit
with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_range(text: str) -> list[str]:
    """Expand ``"YYYY-MM"`` or ``"YYYY-MM..YYYY-MM"`` (inclusive) into a list of months.

    Raises
    ------
    ValueError
        For a malformed month or a range whose end precedes its start.
    """
    parts = text.split("..")
    if len(parts) > 2 or not all(_MONTH.match(p) for p in parts):
        raise ValueError(f"Bad month range {text!r}: use YYYY-MM or YYYY-MM..YYYY-MM.")
    start, end = parts[0], parts[-1]
    if end < start:
        raise ValueError(f"Bad month range {text!r}: the end is before the start.")
    months = []
    y, m = int(start[:4]), int(start[5:])
    while f"{y:04d}-{m:02d}" <= end:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _coverages(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"Bad --coverage {text!r}: use comma-separated percentages.") from None
    if not values or any(not (0 < v <= 100) for v in values):
        raise ValueError(f"Bad --coverage {text!r}: each percentage must be in (0, 100].")
    return values


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hotspots.evaluate",
                                description="Back-test hotspot methods on police.uk data.")
    p.add_argument("--incidents", nargs="+", type=Path, default=None,
                   help="police.uk street-level CSV files (default: the shipped files)")
    p.add_argument("--train", required=True, help="training months, YYYY-MM[..YYYY-MM]")
    p.add_argument("--test", required=True, help="test months, YYYY-MM[..YYYY-MM]")
    p.add_argument("--area", default=None, help="LAD code of one CSP (default: each CSP)")
    p.add_argument("--crime-group", default=None, help="crime group name (default: config)")
    p.add_argument("--coverage", default="1,2,5,10", help="coverages in %% (default 1,2,5,10)")
    p.add_argument("--cell-size", type=float, default=100.0, help="evaluation cell, metres")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


def _fail(parser: argparse.ArgumentParser, message: str) -> None:
    parser.error(message)  # prints usage + message to stderr, exits 2


def run(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Parse arguments, load the data and return the evaluation table (exits 2 on bad input)."""
    from hotspots._cli import checked_area_and_group, load_incident_files
    from hotspots.backtest import evaluate_methods
    from hotspots.pipeline import select_incidents, study_area

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        train = month_range(args.train)
        test = month_range(args.test)
        coverages = _coverages(args.coverage)
    except ValueError as error:
        _fail(parser, str(error))
    if set(train) & set(test):
        _fail(parser, f"--train and --test overlap: {sorted(set(train) & set(test))}.")
    if not (args.cell_size > 0 and math.isfinite(args.cell_size)):
        _fail(parser, f"--cell-size must be a positive number of metres, got {args.cell_size}.")
    cfg, group = checked_area_and_group(parser, args.area, args.crime_group)
    codes = [a.code for a in cfg.areas]
    incidents, lsoas = load_incident_files(parser, args.incidents)
    all_types = {t for g in cfg.crime_groups for t in g.types}
    have = set(incidents["month"].astype(str).unique())
    absent = sorted((set(train) | set(test)) - have)
    if absent:
        _fail(parser, f"Months not in the data: {', '.join(absent)}; the data has "
                      f"{', '.join(sorted(have))}.")
    frames = []
    for code in ([args.area] if args.area else codes):
        sel = select_incidents(incidents, area_code=code, months=train + test,
                               crime_types=all_types)
        table = evaluate_methods(sel, study_area=study_area(lsoas, code), train_months=train,
                                 test_months=test, crime_types=group.types,
                                 coverages=coverages, cell_size=args.cell_size)
        table.insert(0, "area", code)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def _clean(v):
    return None if isinstance(v, float) and math.isnan(v) else v


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m hotspots.evaluate``; returns the exit status."""
    args = _parser().parse_args(argv)
    table = run(argv)
    if args.format == "json":
        records = [{"area": r["area"], "method": r["method"], "params": r["params"],
                    "status": r["status"], "used": r["used"], "coverage": r["coverage"],
                    "hit_rate": _clean(r["hit_rate"]),
                    "pai": _clean(r["pai"]), "rri": _clean(r["rri"]),
                    "pei_star": _clean(r["pei_star"]), "n_train": int(r["n_train"]),
                    "n_test": int(r["n_test"])}
                   for r in table.to_dict("records")]
        print(json.dumps(records, indent=1))
    else:
        shown = table.drop(columns=["params", "kind"])
        with pd.option_context("display.width", 250, "display.max_rows", 10_000,
                               "display.max_colwidth", 120):
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}",
                                  na_rep="-"))
        # Say plainly which methods could not score, and why (their metrics are "-").
        lost = table.loc[table["status"] != "scored"].drop_duplicates(["area", "method"])
        for row in lost.itertuples(index=False):
            print(f"{row.area}: {row.method} not scored: {row.used}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
