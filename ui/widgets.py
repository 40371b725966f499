"""Sidebar filter widgets, with defaults and help text from ``config/settings.toml``.

The main selections (crime group, month range, layers) are mirrored into the URL query
string, so a link reproduces the view in a tasking meeting.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st

from config import AppConfig, Setting
from config.harm import HARM_LABEL
from geodata.reference import IOD_DOMAINS
from hotspots.pipeline import latest_contiguous
from ui.access import viewer
from ui.cached import emerging_months
from ui.deck import DEFAULT_LAYERS, LAYERS
from ui.disclosure import current_rule


@dataclass(frozen=True)
class Filters:
    """What the user chose in the sidebar; all values hashable, for the cached wrappers."""

    months: tuple[str, ...]
    crime_group: str
    layers: tuple[str, ...]
    imd_domain: str
    bandwidth: float
    cell_size: float
    threshold_method: str
    threshold_value: float
    eps: float | None
    min_samples: int | None
    max_memory_mb: float
    measure: str = "count"
    risk_population: str = "population"


def _query_default(name: str, allowed, fallback):
    value = st.query_params.get(name)
    return value if value in allowed else fallback


def _help(setting: Setting) -> str:
    """The setting's help, led by its technical term when the label is a plain one."""
    term = TECHNICAL_TERMS.get(setting.name)
    return f"**{term}.** {setting.help}" if term else setting.help


def _slider(setting: Setting, *, label: str, key: str, value=None, help_extra: str = ""):
    if key in st.session_state:  # the widget's own value rules (see follow_default)
        value = None
    else:
        value = setting.default if value is None else value
    return st.slider(f"{label} ({setting.unit})" if setting.unit else label,
                     min_value=setting.min, max_value=setting.max, value=value,
                     step=setting.step, help=_help(setting) + help_extra, key=key)


def snap_to_setting(value: float, setting: Setting) -> float:
    """`value` as the setting's slider can hold it: a multiple of its step, within its range."""
    step = setting.step
    return float(min(max(round(value / step) * step, setting.min), setting.max))


def follow_default(key: str, default: float | None) -> None:
    """Keep a keyed widget on its default while the viewer has not moved it.

    A keyed Streamlit widget keeps its value when its ``value=`` changes, so a slider whose
    default depends on another choice (the back-tested smoothing distance of each crime
    group) would keep the first group's default and still call it the default. When the
    default changes and the widget holds the previous default, it moves to the new one; a
    value the viewer chose is kept.
    """
    remembered = f"{key}__default"
    previous = st.session_state.get(remembered)
    if default is not None and previous is not None and previous != default and \
            st.session_state.get(key) == previous:
        st.session_state[key] = default
    st.session_state[remembered] = default


def default_bandwidth_shown(config: AppConfig, value: float) -> float:
    """The default smoothing distance as the sidebar shows it (snapped to the slider; with the
    viewer's disclosure floor), so a page can tell whether the viewer changed it."""
    setting = config.setting("kde_bandwidth")
    rule = current_rule()
    if rule is not None:
        setting = _floored(setting, rule.min_bandwidth_m)
    return snap_to_setting(value, setting)


def _number(setting: Setting, *, label: str, key: str):
    return st.number_input(f"{label} ({setting.unit})" if setting.unit else label,
                           min_value=setting.min, max_value=setting.max,
                           value=setting.default, step=setting.step, help=_help(setting),
                           key=key)


def period_filters(config: AppConfig, months: list[str], *, key: str) -> tuple[tuple[str, ...], str]:
    """Month range and crime group: the filters every page has."""
    groups = [g.name for g in config.crime_groups]
    group = st.sidebar.selectbox(
        "Crime-type group", groups,
        index=groups.index(_query_default("group", groups, config.default_crime_group)),
        help="; ".join(f"{g.name}: {g.help}" for g in config.crime_groups[:1]) or None,
        key=f"{key}_group")
    st.sidebar.caption(config.crime_group(group).help)
    if len(months) > 1:  # by default the latest three contiguous stored months
        latest = latest_contiguous(months, 3)
        first = _query_default("from", months, latest[0])
        last = _query_default("to", months, latest[-1])
        if months.index(first) > months.index(last):
            first, last = months[0], months[-1]
        start, end = st.sidebar.select_slider(
            "Months", options=months, value=(first, last), key=f"{key}_months",
            help="police.uk publishes months only (no dates or times). Months with no data "
                 "in the store are not offered; by default the latest three consecutive "
                 "stored months. A range with missing months has no comparable earlier "
                 "period, so changes are not shown for it.")
        chosen = tuple(months[months.index(start):months.index(end) + 1])
    else:
        chosen = tuple(months)
        st.sidebar.caption(f"Month: {months[0] if months else 'no data'}")
    st.query_params.update({"group": group, "from": chosen[0] if chosen else "",
                            "to": chosen[-1] if chosen else ""})
    return chosen, group


def ward_filter(wards, *, key: str) -> str | None:
    """A ward selector beside the CSP: None for the whole CSP, else the ward code."""
    options = [None, *wards.sort_values("ward_name")["ward_code"]]
    names = dict(zip(wards["ward_code"], wards["ward_name"]))
    requested = st.query_params.get("ward")
    index = options.index(requested) if requested in options else 0
    chosen = st.sidebar.selectbox(
        "Ward", options, index=index, key=f"{key}_ward",
        format_func=lambda code: "All wards" if code is None else names[code],
        help="Limit the map, hotspots and clusters to one electoral ward (2024, LSOAs by ONS "
             "best fit). The headline figures stay for the whole CSP.")
    if chosen is None:
        st.query_params.pop("ward", None)
    else:
        st.query_params["ward"] = chosen
    return chosen


def _floored(setting: Setting, floor: float) -> Setting:
    """The setting with its minimum (and default) raised to `floor`."""
    return dataclasses.replace(setting, min=max(setting.min, floor),
                               default=max(setting.default, floor),
                               help=setting.help + f" At least {floor:g} {setting.unit} for "
                                                   f"this role (disclosure control).")


MEASURES = {"count": "Incidents", "harm": HARM_LABEL}

#: Plain labels of the expert settings; the technical term leads each help text
#: (:data:`TECHNICAL_TERMS`), and the Glossary page explains both.
PLAIN_LABELS = {"kde_bandwidth": "Smoothing distance", "kde_cell_size": "Grid cell size",
                "hotspot_top_percent": "Hotspots cover", "hotspot_mean_multiple":
                "Hotspot density at least", "dbscan_eps": "Grouping distance",
                "dbscan_min_samples": "Minimum incidents per group"}
TECHNICAL_TERMS = {"kde_bandwidth": "Kernel density bandwidth (σ of the Gaussian kernel)",
                   "kde_cell_size": "Kernel density grid cell size",
                   "hotspot_top_percent": "Hotspot threshold: top % of cells",
                   "hotspot_mean_multiple": "Hotspot threshold: k × mean density",
                   "dbscan_eps": "DBSCAN eps (neighbourhood radius)",
                   "dbscan_min_samples": "DBSCAN min_samples"}
RISK_POPULATIONS = {"population": "All residents", "population_16_34": "Residents aged 16–34"}


def default_filters(config: AppConfig, months: list[str], *, crime_group: str,
                    bandwidth: float | None) -> Filters:
    """What :func:`map_filters` returns for an analyst who has touched nothing but the crime
    group: the latest three contiguous stored months, the default layers and settings.

    Parameters
    ----------
    config : AppConfig
        Settings (their defaults).
    months : list of str
        The stored months, ``YYYY-MM``, sorted.
    crime_group : str
        A configured crime group's name.
    bandwidth : float or None
        The group's back-tested bandwidth (``bandwidth_for(crime_group)``), snapped to the
        slider like the page does; None for the setting's default.

    Returns
    -------
    Filters
    """
    config.crime_group(crime_group)  # raises, naming the known groups, for an unknown one
    chosen = tuple(latest_contiguous(months, 3)) if len(months) > 1 else tuple(months)
    emerging_ok = bool(emerging_months(chosen)[0]) if chosen else False
    swap = {"change": "emerging"} if emerging_ok else {}
    layers = tuple(dict.fromkeys(swap.get(k, k) for k in DEFAULT_LAYERS if k != "points"))
    bandwidth_setting = config.setting("kde_bandwidth")
    method = config.setting("hotspot_threshold_method").choices[0]  # the radio's first
    value_setting = ("hotspot_top_percent" if method == "top_percent"
                     else "hotspot_mean_multiple")
    eps = float(config.setting("dbscan_eps").default)
    min_samples = int(config.setting("dbscan_min_samples").default)
    return Filters(
        months=chosen, crime_group=crime_group, layers=layers,
        imd_domain=config.setting("imd_domain_default").default,
        bandwidth=float(snap_to_setting(bandwidth, bandwidth_setting) if bandwidth is not None
                        else bandwidth_setting.default),
        cell_size=float(config.setting("kde_cell_size").default), threshold_method=method,
        threshold_value=float(config.setting(value_setting).default), eps=eps or None,
        min_samples=min_samples or None,
        max_memory_mb=float(config.setting("dbscan_max_memory_mb").default))


def map_filters(config: AppConfig, months: list[str], *, key: str,
                bandwidth_for=None) -> Filters:
    """All filters of a map page, in the sidebar.

    `bandwidth_for(crime_group)` gives the default KDE bandwidth (the one that back-tests
    best on the stored data); without it the setting's default is used.
    """
    chosen, group = period_filters(config, months, key=key)
    sidebar = st.sidebar
    rule = current_rule()
    if rule is None:
        measure = sidebar.radio(
            "Measure", list(MEASURES), format_func=MEASURES.get, horizontal=True,
            key=f"{key}_measure",
            help="Count incidents, or weight each by the harm of its crime type in densities "
                 "and rankings: the ONS Crime Severity Score, the average sentence for such "
                 "an offence in days of custody equivalent (approximated per police.uk "
                 "category, see config/harm_weights.toml and the Glossary).")
    else:  # harm totals with known weights per type would give small counts: counts only
        measure = "count"
    # Incident points only for roles that may see them (not partner or public).
    layer_names = [k for k in LAYERS if k != "points" or viewer().sees_points]
    # Emerging hot spots replace the two-period change where enough contiguous months are
    # stored; otherwise the change layer stays and the emerging one is not offered.
    emerging_ok = bool(emerging_months(chosen)[0]) if chosen else False
    layer_names = [k for k in layer_names if k != ("change" if emerging_ok else "emerging")]
    swap = {"change": "emerging"} if emerging_ok else {}
    requested = st.query_params.get("layers")
    initial = [swap.get(k, k) for k in (requested.split(",") if requested else DEFAULT_LAYERS)]
    initial = [k for k in dict.fromkeys(initial) if k in layer_names]
    with sidebar.expander("Map layers", expanded=True):
        layers = st.multiselect("Layers shown", layer_names, default=initial,
                                format_func=LAYERS.get, key=f"{key}_layers",
                                help="Switch map layers on and off.")
        domain_setting = config.setting("imd_domain_default")
        domains = list(domain_setting.choices)
        domain = st.selectbox("Deprivation shown", domains,
                              index=domains.index(domain_setting.default),
                              format_func=IOD_DOMAINS.get, help=domain_setting.help,
                              key=f"{key}_domain")
    st.query_params["layers"] = ",".join(layers)
    # Expert controls, in plain words; the technical term is in each help text.
    with sidebar.expander("Advanced: smoothing, hotspots and groups"):
        bandwidth_setting = config.setting("kde_bandwidth")
        cell_setting = config.setting("kde_cell_size")
        if rule is not None:  # disclosure floors (the server enforces them again)
            bandwidth_setting = _floored(bandwidth_setting, rule.min_bandwidth_m)
            cell_setting = _floored(cell_setting, rule.min_cell_m)
        best = bandwidth_for(group) if bandwidth_for is not None else None
        if best is not None:
            best = snap_to_setting(best, bandwidth_setting)
        follow_default(f"{key}_bandwidth", best)
        bandwidth = _slider(bandwidth_setting, label=PLAIN_LABELS["kde_bandwidth"],
                            key=f"{key}_bandwidth", value=best,
                            help_extra=(
                                f" Default {best:g} m: the distance that best predicted the "
                                f"latest stored month (see the Methods page)."
                                if best is not None else ""))
        cell_size = _slider(cell_setting, label=PLAIN_LABELS["kde_cell_size"],
                            key=f"{key}_cell")
        method_setting = config.setting("hotspot_threshold_method")
        labels = {"top_percent": "Densest share of the area",
                  "mean_multiple": "Above a multiple of the average"}
        method = st.radio("How hotspots are drawn", list(method_setting.choices),
                          format_func=labels.get, help=method_setting.help,
                          key=f"{key}_method", horizontal=True)
        if method == "top_percent":
            value = _number(config.setting("hotspot_top_percent"),
                            label=PLAIN_LABELS["hotspot_top_percent"], key=f"{key}_top")
        else:
            value = _number(config.setting("hotspot_mean_multiple"),
                            label=PLAIN_LABELS["hotspot_mean_multiple"], key=f"{key}_multiple")
        eps = _number(config.setting("dbscan_eps"), label=PLAIN_LABELS["dbscan_eps"],
                      key=f"{key}_eps")
        min_samples = _number(config.setting("dbscan_min_samples"),
                              label=PLAIN_LABELS["dbscan_min_samples"],
                              key=f"{key}_min_samples")
        max_memory = config.setting("dbscan_max_memory_mb").default
    risk_population = "population"
    if "risk" in layers:
        with sidebar.expander("Rate per resident"):
            risk_population = st.radio(
                "Residents counted", list(RISK_POPULATIONS), format_func=RISK_POPULATIONS.get,
                key=f"{key}_risk_population",
                help="Denominator of the rate per resident (the risk surface, a dual kernel "
                     "density estimate; Census 2021). 16–34 is the Census band "
                     "closest to the VPP's focus on people up to 35.")
    return Filters(months=chosen, crime_group=group, layers=tuple(layers), imd_domain=domain,
                   bandwidth=float(bandwidth), cell_size=float(cell_size),
                   threshold_method=method, threshold_value=float(value),
                   eps=float(eps) or None, min_samples=int(min_samples) or None,
                   max_memory_mb=float(max_memory), measure=measure,
                   risk_population=risk_population)
