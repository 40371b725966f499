"""The map section shared by the overview and the CSP pages: map, legend and ranked tables."""

from __future__ import annotations

import dataclasses
import html

import numpy as np
import pandas as pd
import streamlit as st

from config import AppConfig
from geodata.reference import IOD_DOMAINS
from hotspots.disclosure import DisclosureRule, protect_table, shown_count
from hotspots import pipeline
from hotspots.pipeline import area_lsoas
from ui import data, deck
from ui.disclosure import current_rule
from ui.profile_view import render_profile, selected_hotspot
from ui.widgets import Filters

TABLE_COLUMNS = {"incidents": "Incidents", "weight": "Harm (CSS)",
                 "lsoa_names": "LSOAs covered",
                 "imd_deciles": "IMD deciles of those LSOAs", "crime_mix": "Crime mix",
                 "lsoas": "Number of LSOAs", "area_km2": "Area (km²)"}


def freshness_caption() -> None:
    """The data span, its freshness and its source, shown on every map page."""
    span = data.data_span()
    if not span["months"]:
        st.warning("The incident store is empty: add police.uk files on the Data page.")
        return
    ingested = (f", last ingested {span['last_ingest'].replace('T', ' ')[:16]} UTC"
                if span["last_ingest"] else "")
    rule = current_rule()
    stored, outside = (f"{span['stored']:,}", f"{span['outside_area']:,}") if rule is None \
        else (shown_count(span["stored"], rule), shown_count(span["outside_area"], rule))
    st.caption(
        f"Data to {span['last_month']}{ingested}: police.uk street-level crime, "
        f"{len(span['months'])} month(s) from {span['first_month']} to {span['last_month']}; "
        f"{stored} incidents stored, {outside} of them outside the "
        f"Humber area. Locations are snapped to anonymous map points; months only, no times.")


ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(data.police.uk). Boundaries and population: Office for National Statistics, OGL v3.0; "
    "contains OS data © Crown copyright and database right 2024. English Indices of "
    "Deprivation 2025, MHCLG, OGL v3.0.")


def attribution() -> None:
    """The Open Government Licence attributions of the data shown."""
    st.caption(ATTRIBUTION)


def _lsoa_records(area_code: str | None, filters: Filters) -> list[dict]:
    lsoas = deck.polygon_records(area_lsoas(data.lsoa_table(), area_code), ["lsoa21cd"])
    rates = data.lsoa_rates(area_code, filters.months, filters.crime_group)
    rule = current_rule()
    threshold = None
    if rule is not None:  # rounded counts, rates from them, "<5" below the threshold
        rates = protect_table(rates, rule, counts=["incidents"],
                              rates={"rate_per_1000": "incidents"}, text=False)
        threshold = rule.threshold
    rates = rates.set_index("lsoa21cd")
    domain = filters.imd_domain
    tips = dict(zip(rates.index, deck.lsoa_tooltips(rates.reset_index(), domain=domain,
                                                     domain_label=IOD_DOMAINS[domain],
                                                     threshold=threshold)))
    deciles = rates[f"{domain.lower()}_decile"]
    for record in lsoas:
        code = record["lsoa21cd"]
        record["tooltip"] = tips[code]
        record["fill"] = [*deck.DECILE_COLOURS[int(deciles[code]) - 1], 255]
    return lsoas


def _outline_records(outlines, *, id_name: str, title: str) -> list[dict]:
    if outlines.empty:
        return []
    columns = [id_name, "incidents", "weight", "crime_mix", "lsoa_names"]
    frame = outlines.copy()
    for column in columns:
        if column not in frame:
            frame[column] = np.nan if column == "weight" else ""
    records = deck.polygon_records(frame, columns)
    for record in records:
        harm = record["weight"]
        record["tooltip"] = (
            f"<b>{html.escape(title)} {int(record[id_name])}</b><br/>"
            f"Incidents: {int(record['incidents'] or 0):,}<br/>"
            + (f"Harm (CSS): {harm:,.0f}<br/>" if harm == harm else "")
            + f"Crime mix: {html.escape(str(record['crime_mix']))}<br/>"
            f"LSOAs: {html.escape(str(record['lsoa_names']))}")
        for column in columns[1:]:
            record.pop(column, None)
    return records


def _point_records(area_code: str | None, filters: Filters) -> pd.DataFrame:
    incidents = data.selected_incidents(area_code, filters.months, filters.crime_group)
    tips = [f"{html.escape(str(t))}<br/>{html.escape(str(loc))}<br/>{html.escape(str(m))}"
            for t, loc, m in zip(incidents["crime_type"], incidents["location"],
                                 incidents["month"])]
    return pd.DataFrame({"lon": incidents["lon"].round(6), "lat": incidents["lat"].round(6),
                         "tooltip": tips})


def _predicted_coverage(filters: Filters) -> float:
    """The predicted layer selects as much of the area as the hotspot threshold, or 2%."""
    return filters.threshold_value if filters.threshold_method == "top_percent" else 2.0


def _analysis_layers(area_code: str | None, filters: Filters, n_incidents: int,
                     analysis, rule: DisclosureRule | None) -> tuple[list, dict, list[str]]:
    """Density, risk, predicted and change layers with their legend entries and notes."""
    layers, legend, notes = [], {}, []
    harm = filters.measure == "harm"
    unit = "harm (CSS points)" if harm else "incidents"
    if "density" in filters.layers and n_incidents:
        surface = analysis.surface
        image = deck.density_image(surface.density, surface.grid.bounds)
        layers.append(deck.density_layer(image))
        legend.update(density=image, density_title=f"{unit.capitalize()} per km² over the "
                                                   f"period")
    if "risk" in filters.layers and n_incidents:
        risk = data.risk(area_code, filters.months, filters.crime_group,
                         bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                         measure=filters.measure, population=filters.risk_population,
                         disclosure=rule)
        image = deck.density_image(risk.rate_per_1000, risk.grid.bounds, ramp=deck.RISK_RAMP)
        layers.append(deck.image_layer(image, layer_id="risk"))
        who = "residents aged 16–34" if filters.risk_population != "population" else "residents"
        legend.update(risk=image, risk_title=f"{unit.capitalize()} per 1,000 {who} over the "
                                             f"period (blank where few people live)")
    if "change" in filters.layers:
        change, before = data.change(area_code, filters.months, filters.crime_group,
                                     bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                                     threshold_method=filters.threshold_method,
                                     threshold_value=filters.threshold_value,
                                     measure=filters.measure, disclosure=rule)
        if change is None:
            notes.append(pipeline.comparable_previous_period(filters.months,
                                                             data.available_months())[1])
        else:
            image = deck.category_image(change.classes, change.grid.bounds, deck.CHANGE_COLOURS)
            layers.append(deck.image_layer(image, layer_id="change", opacity=0.9))
            legend["change_label"] = (f"{_span(filters.months)} against {_span(before)}")
    if "emerging" in filters.layers:
        result = data.emerging(area_code, filters.months, filters.crime_group, disclosure=rule)
        if not result.enough:
            notes.append(result.message + " The emerging hot spot layer is not drawn.")
        else:
            cells = result.cells()
            layers.append(deck.emerging_layer(deck.emerging_records(
                cells, result.grid.cell_size, exact=rule is None)))
            legend["emerging_label"] = (f"{_span(result.months)}, {result.grid.cell_size:g} m "
                                        f"cells, Gi* FDR 90%, Mann-Kendall trend")
            legend["emerging_present"] = tuple(sorted(set(cells["category"])))
    if "gi_star" in filters.layers and n_incidents:
        layers.append(deck.choropleth_layer(_gi_records(area_code, filters, exact=rule is None),
                                            layer_id="gi_star"))
    if "predicted" in filters.layers:
        coverage = _predicted_coverage(filters)
        cells = data.predicted(area_code, filters.months, filters.crime_group,
                               coverage=coverage, disclosure=rule)
        layers.append(deck.outline_layer(deck.polygon_records(cells.outlines, ["cells"]),
                                         layer_id="predicted", colour=deck.PREDICTED_COLOUR,
                                         pickable=False, width_px=1.0, fill_alpha=25))
        legend["predicted_label"] = (f"the {coverage:g}% of {cells.cell_size:g} m cells "
                                     f"ranked highest by {cells.label}")
    return layers, legend, notes


def _gi_records(area_code: str | None, filters: Filters, *, exact: bool = True) -> list[dict]:
    """Significant Gi* LSOAs, coloured by class, with an escaped tooltip.

    Without `exact` (aggregate-only roles) the tooltip gives the class only: z-scores of
    every LSOA with the known neighbour weights would let the suppressed counts be solved
    for."""
    gi = data.gi_star(area_code, filters.months, filters.crime_group, measure=filters.measure)
    significant = gi[gi["gi_class"] != "not significant"]
    records = deck.polygon_records(significant, ["lsoa21nm", "gi_class", "z", "p_fdr"])
    for record in records:
        record["fill"] = deck.GI_COLOURS[record["gi_class"]]
        z, p = record.pop("z"), record.pop("p_fdr")
        record["tooltip"] = (f"<b>{html.escape(str(record.pop('lsoa21nm')))}</b><br/>"
                             f"Gi*: {html.escape(record.pop('gi_class'))}"
                             + (f" (z = {z:.2f}, FDR-adjusted p = {p:.3f})" if exact else ""))
    return records


def _span(months) -> str:
    months = sorted(months)
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"


def _ward_records(area_code: str | None) -> list[dict]:
    wards = data.wards()
    if area_code is not None:
        lad = area_lsoas(data.lsoa_table(), area_code)["lad_code"].iloc[0]
        wards = wards[wards["lad_code"] == lad]
    records = deck.polygon_records(wards, ["ward_name", "ward_code", "lsoas"])
    for record in records:
        record["tooltip"] = (f"<b>{html.escape(str(record.pop('ward_name')))}</b> ward "
                             f"({html.escape(str(record.pop('ward_code')))})<br/>"
                             f"{int(record.pop('lsoas'))} LSOAs")
    return records


def focus_bounds(place: dict) -> tuple[float, float, float, float]:
    """BNG bounds around a found place, padded so its surroundings show."""
    xmin, ymin, xmax, ymax = place["geometry"].bounds
    pad = max(250.0, 0.25 * max(xmax - xmin, ymax - ymin))
    return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def focus_records(place: dict) -> list[dict]:
    """The found place's outline as PolygonLayer records."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"name": [place["name"]]}, geometry=[place["geometry"]],
                             crs="EPSG:27700")
    return [{"polygon": r["polygon"]} for r in deck.polygon_records(frame, ["name"])]


def render_map_section(area_code: str | None, filters: Filters, config: AppConfig, *,
                       focus: dict | None = None) -> None:
    """Map with switchable layers, its legend, and the ranked hotspot and cluster tables.

    `area_code` is a CSP (LAD) code, a ward code, or None for the whole Humber area; `focus`
    is a place from "find a place" to zoom to and outline.
    """
    rule = current_rule()
    aggregate_only = rule is not None
    if aggregate_only:  # partner / public: the server enforces the floors, counts only
        filters = dataclasses.replace(filters, bandwidth=rule.bandwidth(filters.bandwidth),
                                      cell_size=rule.cell_size(filters.cell_size),
                                      measure="count")
    n_incidents = len(data.selected_incidents(area_code, filters.months, filters.crime_group))
    analysis = data.hotspots(area_code, filters.months, filters.crime_group,
                             bandwidth=filters.bandwidth, cell_size=filters.cell_size,
                             threshold_method=filters.threshold_method,
                             threshold_value=filters.threshold_value, measure=filters.measure,
                             disclosure=rule)
    clusters = data.clusters(area_code, filters.months, filters.crime_group, eps=filters.eps,
                             min_samples=filters.min_samples,
                             max_memory_mb=filters.max_memory_mb, measure=filters.measure,
                             disclosure=rule)

    layers = []
    if "choropleth" in filters.layers:
        layers.append(deck.choropleth_layer(_lsoa_records(area_code, filters)))
    extra, legend, notes = _analysis_layers(area_code, filters, n_incidents, analysis, rule)
    layers += [layer for layer in extra
               if layer.id in ("density", "risk", "change", "emerging", "gi_star")]
    if "lsoa_boundaries" in filters.layers:
        records = (_lsoa_records(area_code, filters) if "choropleth" not in filters.layers
                   else [{"polygon": r["polygon"]} for r in layers[0].data])
        layers.append(deck.boundary_layer(records, layer_id="lsoa_boundaries",
                                          colour=[90, 90, 90, 200], width_px=0.6,
                                          pickable="choropleth" not in filters.layers))
    lads = data.lad_boundaries()
    if area_code is not None:
        lads = lads[lads["lad_code"].isin(area_lsoas(data.lsoa_table(), area_code)["lad_code"])]
    if "wards" in filters.layers:
        layers.append(deck.boundary_layer(_ward_records(area_code), layer_id="wards",
                                          colour=[*deck.WARD_COLOUR, 230], width_px=1.6,
                                          pickable=True))
    layers.append(deck.boundary_layer(deck.polygon_records(lads, ["lad_code"]),
                                      layer_id="csp_boundaries", colour=deck.LAD_COLOUR,
                                      width_px=2.0))
    layers += [layer for layer in extra if layer.id == "predicted"]
    if "hotspots" in filters.layers:
        layers.append(deck.outline_layer(
            _outline_records(analysis.outlines, id_name="hotspot_id", title="Hotspot"),
            layer_id="hotspots", colour=deck.HOTSPOT_COLOUR))
    if "clusters" in filters.layers:
        layers.append(deck.outline_layer(
            _outline_records(clusters.outlines, id_name="cluster_id", title="Cluster"),
            layer_id="clusters", colour=deck.CLUSTER_COLOUR))
    max_points = int(config.setting("max_points_shown").default)
    if "points" in filters.layers and not aggregate_only:  # never for partner or public
        if n_incidents <= max_points:
            layers.append(deck.points_layer(_point_records(area_code, filters)))
        else:
            notes.append(f"Incident points are drawn only for selections of at most "
                         f"{max_points:,} incidents (this one has {n_incidents:,}); narrow the "
                         f"months or crime group, or open a CSP page.")
    if aggregate_only:
        notes.append(
            f"Disclosure control: counts are rounded to multiples of {rule.rounding} and those "
            f"below {rule.threshold} shown as \"<{rule.threshold}\"; rates come from the rounded "
            f"counts; surfaces use a bandwidth of at least {rule.min_bandwidth_m:,.0f} m, leave "
            f"out incidents with fewer than {rule.threshold} within {rule.radius_m:,.0f} m, and "
            f"are drawn only where at least {rule.threshold} incidents lie within "
            f"{rule.support_radius_m:,.0f} m; areas of fewer than {rule.threshold} incidents "
            f"are not drawn.")
    for note in notes:
        st.info(note)

    bounds = tuple(area_lsoas(data.lsoa_table(), area_code).total_bounds)
    if focus is not None:
        layers.append(deck.focus_layer(focus_records(focus)))
        bounds = focus_bounds(focus)
    chart = deck.build_deck(layers, deck.view_for_bounds(bounds),
                            basemap_style=str(config.setting("basemap_style").default))
    harm = filters.measure == "harm"
    map_column, table_column = st.columns([3, 2])
    with map_column:
        event = st.pydeck_chart(chart, height=620, key=f"map_{area_code or 'humber'}",
                                on_select="rerun", selection_mode="single-object")
        if focus is not None:
            st.caption(f"Outlined in amber: {focus['kind']} {focus['name']}.")
        st.html(deck.legend_html(layers=list(filters.layers),
                                 domain_label=IOD_DOMAINS[filters.imd_domain],
                                 threshold_label=analysis.threshold_label,
                                 rank_label="harm" if harm else "incident count", **legend))
    with table_column:
        hotspot_tab, cluster_tab = st.tabs(["Hotspots (density)", "Clusters (DBSCAN)"])
        with hotspot_tab:
            st.caption(f"Outlines where the kernel density of {'harm' if harm else 'incidents'}"
                       f" (bandwidth {filters.bandwidth:g} m, cells {filters.cell_size:g} m) "
                       f"reaches {analysis.threshold:,.1f} per km²: "
                       f"{analysis.threshold_label}. Ranked by "
                       f"{'harm' if harm else 'incidents'} inside.")
            _ranked_table(analysis.table, "hotspot_id", "Hotspot")
        with cluster_tab:
            if clusters.message:
                st.warning(clusters.message)
            if clusters.result is not None and aggregate_only:
                st.caption(f"DBSCAN clusters of at least {rule.threshold} incidents, outlined "
                           f"{rule.radius_m / 2:,.0f} m around them; counts rounded to "
                           f"multiples of {rule.rounding}.")
            elif clusters.result is not None:
                result = clusters.result
                st.caption(f"DBSCAN with eps {result.eps:,.0f} m and min_samples "
                           f"{result.min_samples}: {result.n_clusters} clusters, "
                           f"{result.n_noise:,} of {n_incidents:,} incidents not in a cluster "
                           f"({result.n_unique_locations:,} distinct map points).")
            _ranked_table(clusters.table, "cluster_id", "Cluster")
    if "hotspots" in filters.layers and len(analysis.outlines) and not aggregate_only:
        st.subheader("Hotspot profile")
        profiles = data.hotspot_profiles(
            area_code, filters.months, filters.crime_group, bandwidth=filters.bandwidth,
            cell_size=filters.cell_size, threshold_method=filters.threshold_method,
            threshold_value=filters.threshold_value, measure=filters.measure)
        chosen = selected_hotspot(event, sorted(profiles), key=f"map_{area_code or 'humber'}")
        if chosen is not None:
            render_profile(profiles[chosen])
    attribution()


def _ranked_table(table: pd.DataFrame, id_name: str, label: str) -> None:
    if table.empty:
        st.info(f"No {label.lower()}s for this selection.")
        return
    shown = table.rename(columns={id_name: label, **TABLE_COLUMNS})
    columns = [label] + [TABLE_COLUMNS[c] for c in TABLE_COLUMNS if c in table.columns]
    st.dataframe(shown[columns], hide_index=True,
                 height=min(560, 38 + 35 * len(shown)))
