"""Need by LSOA: incidents, rates, deprivation, hotspot membership and change.

Built for commissioners checking need before funding work. :func:`lsoa_need_table` gives
rates per 1,000 Census 2021 residents over the chosen period; :func:`annualised` turns them
into rates per year, as every page shows them (:func:`hotspots.rates.rate_unit`). The 16–34
rate divides *all* incidents by residents aged
16–34 (police.uk records no ages), so it shows where the focus age group lives with violence,
not who the victims were.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from hotspots.disclosure import DisclosureRule, protect_table
from hotspots.rates import annualise, area_rates, month_span

#: 3 × 3 bivariate palette (Stevens' purple–blue), indexed [rate tercile - 1][IMD tercile - 1];
#: tercile 3 is the highest rate / the most deprived.
BIVARIATE_PALETTE: list[list[list[int]]] = [
    [[232, 232, 232], [172, 228, 228], [90, 200, 200]],
    [[223, 176, 214], [165, 173, 211], [86, 152, 185]],
    [[190, 100, 172], [140, 98, 170], [59, 73, 148]],
]

#: Columns of the need table that are rates (annualised by :func:`annualised`).
RATE_COLUMNS = ("rate_per_1000", "rate_16_34_per_1000", "harm_per_1000")

DOMAIN_KEYS = ("imd", "income", "employment", "education", "health", "crime",
               "housing_and_services", "environment")


def terciles(values) -> np.ndarray:
    """1, 2 or 3 for the lower, middle and upper third of `values` by rank (ties averaged).

    Parameters
    ----------
    values : array-like of float, shape (n,)

    Returns
    -------
    numpy.ndarray of int, shape (n,)
    """
    series = pd.Series(np.asarray(values, dtype=float))
    if series.empty:
        return np.zeros(0, dtype=int)
    ranks = series.rank(method="average", pct=True).to_numpy()
    return np.digitize(ranks, [1 / 3 + 1e-12, 2 / 3 + 1e-12], right=True) + 1


def lsoa_need_table(lsoas: pd.DataFrame, incidents: pd.DataFrame,
                    previous: pd.DataFrame | None, *,
                    hotspot_lsoas: Iterable[str] = (),
                    harm: str | None = None) -> pd.DataFrame:
    """One row per LSOA with incidents, rates, IoD2025 deciles, hotspot flag and change.

    Parameters
    ----------
    lsoas : pandas.DataFrame
        The area's LSOAs from :func:`geodata.reference.load_lsoa_table` (names, ``lad_code``,
        ``ward_name``, IoD2025 ``<domain>_decile``/``imd_rank``/``imd_score``, ``population``,
        ``population_16_34``).
    incidents : pandas.DataFrame
        Incidents of the chosen period with ``lsoa21cd``.
    previous : pandas.DataFrame or None
        Incidents of the previous equal period, or None when there is none.
    hotspot_lsoas : iterable of str
        LSOAs with at least one incident inside a current hotspot outline.
    harm : str, optional
        Column of per-incident harm weights: adds ``harm`` and ``harm_per_1000`` and ranks
        the LSOAs by harm per 1,000 residents instead of incidents per 1,000.

    Returns
    -------
    pandas.DataFrame
        ``lsoa21cd``, ``lsoa21nm``, ``lad_code``, ``ward_name``, ``population``,
        ``population_16_34``, ``incidents``, ``rate_per_1000``, ``rate_16_34_per_1000``,
        ``imd_score``, ``imd_rank``, ``<domain>_decile`` for every domain, ``in_hotspot``,
        ``incidents_before``, ``change`` and ``change_pct`` (NaN without a previous period or
        with 0 before), ``rate_tercile``, ``imd_tercile``, sorted by rate, highest first.
    """
    keep = ["lsoa21cd", "lsoa21nm", "lad_code", "ward_name", "population", "population_16_34",
            "imd_score", "imd_rank", *[f"{d}_decile" for d in DOMAIN_KEYS]]
    missing = [c for c in keep if c not in lsoas.columns]
    if missing:
        raise ValueError(f"'lsoas' lacks the columns {missing}.")
    table = pd.DataFrame(lsoas[keep]).reset_index(drop=True)
    now = area_rates(incidents, table[["lsoa21cd", "population"]], key="lsoa21cd")
    table["incidents"] = now["incidents"].to_numpy()
    table["rate_per_1000"] = now["rate_per_1000"].to_numpy()
    young = table["population_16_34"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate_16_34_per_1000"] = np.where(young > 0, 1000 * table["incidents"] / young,
                                                np.nan)
    table["in_hotspot"] = table["lsoa21cd"].isin(list(hotspot_lsoas))
    if previous is not None:
        before = area_rates(previous, table[["lsoa21cd", "population"]], key="lsoa21cd")
        table["incidents_before"] = before["incidents"].to_numpy()
        table["change"] = table["incidents"] - table["incidents_before"]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["change_pct"] = np.where(table["incidents_before"] > 0,
                                           100 * table["change"] / table["incidents_before"],
                                           np.nan)
    else:
        table["incidents_before"] = np.nan
        table["change"] = np.nan
        table["change_pct"] = np.nan
    table["rate_tercile"] = terciles(table["rate_per_1000"].fillna(0))
    table["imd_tercile"] = terciles(table["imd_score"])
    rank_by = "rate_per_1000"
    if harm is not None:
        weighted = area_rates(incidents, table[["lsoa21cd", "population"]], key="lsoa21cd",
                              weight=harm)
        table["harm"] = weighted["incidents"].to_numpy()
        table["harm_per_1000"] = weighted["rate_per_1000"].to_numpy()
        rank_by = "harm_per_1000"
    return table.sort_values(rank_by, ascending=False, ignore_index=True)


def protect_need_table(table: pd.DataFrame, rule: DisclosureRule) -> pd.DataFrame:
    """The need table as an aggregate-only audience may receive it.

    Counts are rounded (NaN where suppressed, flagged in ``suppressed`` and
    ``suppressed_before``); rates come from the rounded counts; change and change (%) from the
    rounded counts of both periods (withheld where either is suppressed); the rate tercile is
    recomputed from the protected rate, and the rows are ordered by the protected rate, then
    by LSOA code. Ordering or colouring by the exact rate would give away the exact counts:
    each pair of neighbouring rows is an inequality between two counts over known residents.
    Harm columns are dropped (counts only).

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`lsoa_need_table`.
    rule : DisclosureRule

    Returns
    -------
    pandas.DataFrame
    """
    rates = {c: "incidents" for c in ("rate_per_1000", "rate_16_34_per_1000") if c in table}
    protected = protect_table(table.drop(columns=["harm", "harm_per_1000"], errors="ignore"),
                              rule, counts=["incidents", "incidents_before"], rates=rates,
                              text=False)
    protected["suppressed"] = protected["incidents"].isna()
    protected["suppressed_before"] = protected["incidents_before"].isna() \
        & table["incidents_before"].notna()
    now, before = protected["incidents"], protected["incidents_before"]
    protected["change"] = now - before
    with np.errstate(divide="ignore", invalid="ignore"):
        protected["change_pct"] = (100 * (now - before) / before).where(before > 0)
    protected["rate_tercile"] = terciles(protected["rate_per_1000"].fillna(0))
    return protected.sort_values(["rate_per_1000", "lsoa21cd"], ascending=[False, True],
                                 na_position="last", ignore_index=True)


def annualised(table: pd.DataFrame, months: Sequence[str]) -> pd.DataFrame:
    """The need table (exact or protected) with its rates per year instead of over `months`.

    The ranking, terciles and counts are unchanged (a constant factor keeps the order);
    ``attrs["rate_unit"]`` says "per 1,000 residents per year (annualised from N months: …)".

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`lsoa_need_table` or :func:`protect_need_table`.
    months : sequence of str
        The months its incidents were counted over (``YYYY-MM``).

    Returns
    -------
    pandas.DataFrame
    """
    return annualise(table, months, RATE_COLUMNS)


def share_explanation(summary: pd.DataFrame, *, months: Sequence[str], crime_group: str,
                      crime_types: Sequence[str], sources: Mapping[str, str]) -> str:
    """Where each CSP's share of the incidents comes from, in words, from the figures shown.

    Commissioners compare these shares with published ones (such as a violence strategy's);
    the sentence says which data, months and crime types they are of, and why published
    figures for another period or definition differ.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per CSP with ``CSP``, ``incidents`` and ``share_pct`` (the figures as shown:
        for partner and public, from rounded counts; NaN where withheld).
    months : sequence of str
        The months counted (``YYYY-MM``).
    crime_group : str
        The crime-type group's name.
    crime_types : sequence of str
        The police.uk crime types in the group.
    sources : mapping of str to str
        The stored sources' names and descriptions (e.g. ``{"police_uk": "police.uk
        street-level crime …"}``).

    Returns
    -------
    str
        Plain text built from configuration and the figures shown (no user input).
    """
    missing = [c for c in ("CSP", "incidents", "share_pct") if c not in summary.columns]
    if missing:
        raise ValueError(f"'summary' lacks the columns {missing}; it has "
                         f"{list(summary.columns)}.")
    if not sources:
        raise ValueError("'sources' should name at least one stored source, got none.")
    total = pd.to_numeric(summary["incidents"], errors="coerce").sum()
    shares = "; ".join(
        f"{row.CSP} {'withheld' if pd.isna(row.share_pct) else f'{row.share_pct:.1f}%'}"
        for row in summary.itertuples(index=False))
    plural = "month" if len(set(months)) == 1 else "months"
    data = "; ".join(sources.values())
    police_only = set(sources) == {"police_uk"}
    caveat = ("police.uk street-level data leaves out crimes it cannot place on a map "
              "(e.g. those recorded without a usable location) and groups offences into broad "
              "categories" if police_only else
              "these data leave out records without a usable location and group offences "
              "into broad categories")
    return (f"Shares of {crime_group} ({', '.join(crime_types)}) placed in the four CSPs: "
            f"{total:,.0f} incidents in {len(set(months))} {plural} ({month_span(months)}). "
            f"{shares}. Source: {data.rstrip('.')}. Published shares, such as the violence strategy's, "
            f"may count another period and another definition of violent crime; "
            f"{caveat}, so the shares here differ from them.")
