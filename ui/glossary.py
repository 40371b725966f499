"""The glossary: every technical term the dashboard uses, in plain words.

One registry (:data:`TERMS`) serves the Glossary page and the tests that check every plain
label of the sidebar (:data:`ui.widgets.PLAIN_LABELS`) is explained here with its technical
term. Text only: no figures, so nothing here can go stale when the data changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    label : str
        What the dashboard calls it (the plain label).
    technical : str
        The technical term and abbreviations an analyst or a paper would use ("" if none).
    meaning : str
        What it means, for someone who is not a statistician (Markdown).
    """

    label: str
    technical: str
    meaning: str


TERMS: tuple[Term, ...] = (
    Term("Rate per 1,000 residents per year",
         "annualised crime rate",
         "Incidents per 1,000 people living in the area (Census 2021 usual residents), scaled "
         "to a year: the count over the chosen months × 12 ÷ the number of months. Every rate "
         "says which months it comes from, e.g. *annualised from 3 months: 2024-01..2024-03*. "
         "Three busy winter months scaled to a year can differ from the year's real total."),
    Term("Rate per 1,000 aged 16–34",
         "age-specific denominator",
         "All incidents divided by the residents aged 16–34 (police.uk records no ages), so it "
         "shows where the VPP's focus age group lives with violence, not who the victims were."),
    Term("Density surface", "kernel density estimate (KDE)",
         "A smooth map of where incidents are thickest: each incident is spread over the "
         "nearby area, and the spreads add up. Yellow is low, dark red high."),
    Term("Smoothing distance", "kernel density bandwidth (σ)",
         "How far each incident is spread when drawing the density surface, in metres. Small "
         "distances show single streets; large ones show neighbourhoods. The default is the "
         "distance that best predicted the latest stored month."),
    Term("Grid cell size", "raster resolution",
         "The side of the square cells the density surface is computed on, in metres."),
    Term("Hotspot", "density threshold contour",
         "An outline around the places where the density surface is highest: either the "
         "densest share of the area (e.g. 2%), or where the density is at least a multiple of "
         "the area's average. Ranked by the incidents inside."),
    Term("Hotspots cover", "top-percent threshold",
         "The share of the area's grid cells, the densest ones, that the hotspot outlines "
         "enclose."),
    Term("Hotspot density at least", "mean-multiple threshold (k × mean)",
         "Hotspots are the cells whose density is at least this many times the area's "
         "average density."),
    Term("In a hotspot", "",
         "Yes: at least one of the LSOA's incidents lies inside a current hotspot outline. No: "
         "none does."),
    Term("Groups of incidents (clusters)", "DBSCAN (density-based spatial clustering)",
         "Incidents close together are joined into a group; isolated ones belong to none. "
         "Drawn as blue outlines."),
    Term("Grouping distance", "DBSCAN eps (neighbourhood radius)",
         "Two incidents closer than this many metres are neighbours. 0 lets the dashboard "
         "choose it from the data."),
    Term("Minimum incidents per group", "DBSCAN min_samples",
         "How many incidents (itself included) must lie within the grouping distance of an "
         "incident for a group to start there. 0 lets the dashboard choose it."),
    Term("Statistically significant hot areas", "Getis-Ord Gi*",
         "LSOAs whose incidents, together with their neighbours', are higher (hot) or lower "
         "(cold) than the area's average by more than chance would give, at 90%, 95% or 99% "
         "confidence. It says where a cluster of high counts is unlikely to be luck."),
    Term("Corrected for many tests", "false discovery rate (FDR, Benjamini–Hochberg)",
         "Testing hundreds of LSOAs at once finds some 'significant' ones by chance. The "
         "correction raises the bar so that, of the areas called hot, only the stated share "
         "are expected to be false alarms."),
    Term("Rate per resident", "risk surface (dual kernel density estimate)",
         "Incidents around each place divided by the residents around it: where a resident "
         "is most exposed, not where most incidents are. Left blank where few people live."),
    Term("Harm (days of custody)", "ONS Crime Severity Score (CSS)",
         "Each incident weighted by how serious its crime type is: the average sentence for "
         "such an offence, in days of custody equivalent (the unit of the ONS Crime Severity "
         "Score, the same unit as the Cambridge Crime Harm Index). police.uk types are "
         "broad, so a weight describes the average record of a type, never one record; see "
         "config/harm_weights.toml."),
    Term("Change since the previous period", "two-period comparison",
         "The chosen months against the same number of months just before them, only when "
         "all of those are stored and the chosen months have no gap; otherwise the dashboard "
         "shows no change and says why. Classes: new, persistent, intensifying, diminishing "
         "(±25%) and ceased."),
    Term("Emerging hot spots", "space-time Getis-Ord Gi* with a Mann–Kendall trend",
         "Whether each 500 m cell has been hot month after month, is newly hot, is getting "
         "hotter or cooling. Needs at least 10 consecutive stored months."),
    Term("Predicted hotspot cells", "back-tested default method",
         "The 100 m cells most likely to be busy next period, by the method that predicted "
         "best on months held out from tuning."),
    Term("Hit rate", "",
         "Of next period's incidents, the share that fell in the cells a method picked."),
    Term("How much better than chance", "PAI (Predictive Accuracy Index)",
         "Hit rate divided by the share of the area picked: 1 is no better than picking cells "
         "at random; 10 means ten times as many incidents per km² as the area's average."),
    Term("How much of the past is recaptured", "RRI (Recapture Rate Index, Levine 2008)",
         "In the picked cells, next period's incidents against last period's, relative to the "
         "same ratio for the whole area: 1 means the picked places kept their share; below 1 "
         "they quietened more than the area did, above 1 they grew more."),
    Term("Share of the best possible", "PEI* (Predictive Efficiency Index, Hunt 2016)",
         "The incidents a method caught, divided by the most that any choice of the same "
         "number of cells could have caught: 100% is perfect."),
    Term("Low, middle or high third", "tercile",
         "The LSOAs split into three equal-sized groups by their value (e.g. violence rate): "
         "the lowest third, the middle third and the highest third of this area."),
    Term("IMD decile", "Index of Multiple Deprivation 2025 decile",
         "Where an LSOA ranks among England's 33,755 LSOAs for deprivation, in tenths: 1 is "
         "the 10% most deprived, 10 the 10% least deprived. The seven domains (income, "
         "employment, …) are ranked the same way."),
    Term("LSOA", "Lower-layer Super Output Area (2021)",
         "A small census area of about 1,500 residents; the building block of the tables."),
    Term("CSP", "Community Safety Partnership",
         "The four partnerships of the Humber: Hull, East Riding of Yorkshire, North East "
         "Lincolnshire, North Lincolnshire (one per local authority)."),
    Term("How concentrated", "Lorenz curve, Gini and generalised Gini",
         "How much of the violence sits in a few places: 0 is spread evenly, 1 all in one "
         "place. The generalised Gini corrects for there being more places than incidents."),
    Term("<5 and rounded counts", "statistical disclosure control",
         "For partner and public viewers, counts below 5 are shown as '<5' and the others "
         "rounded to multiples of 5, with rates and shares computed from the rounded counts, "
         "so that no figure identifies a person."),
    Term("Map points", "police.uk anonymised snap points",
         "police.uk moves each crime to the nearest of a fixed set of anonymous points (often "
         "a street's middle), so locations are approximate and months only, no dates."),
)


def search(terms: tuple[Term, ...], text: str) -> list[Term]:
    """The terms whose label, technical term or meaning contains `text` (case-insensitive).

    Parameters
    ----------
    terms : tuple of Term
    text : str
        What the user typed; blank gives every term.

    Returns
    -------
    list of Term
        In the order of `terms`.
    """
    if not isinstance(text, str):
        raise TypeError(f"'text' should be a str, got {type(text)}.")
    needle = text.strip().lower()
    return [t for t in terms
            if not needle or needle in f"{t.label}\n{t.technical}\n{t.meaning}".lower()]


def render_glossary(*, key: str = "glossary") -> None:
    """A search box and the matching terms, each with its technical term."""
    text = st.text_input("Search the glossary", key=f"{key}_search",
                         placeholder="e.g. Gi*, bandwidth, tercile")
    found = search(TERMS, text)
    if not found:
        st.info("No term matches that search.")
    for term in found:
        technical = f" — *{term.technical}*" if term.technical else ""
        st.markdown(f"**{term.label}**{technical}  \n{term.meaning}")
