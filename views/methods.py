"""Methods: back-test the hotspot methods on the stored months (GitHub issue 4)."""

import streamlit as st

from config import get_config
from hotspots.backtest import DEFAULT_EVAL_CELL_SIZE, default_method
from ui import cached, methods_view
from ui.access import allowed_areas
from ui.evaluation_data import evaluation_table
from ui.map_view import freshness_caption

config = get_config()
st.title("Methods: how well does each hotspot method predict?")
freshness_caption()
st.markdown("Each method is trained on some months and asked where the next month's incidents "
            "will be; the table and charts show how many it caught. This is how the "
            "dashboard's default hotspot method and bandwidth were chosen.")

names = {None: f"{config.region.name} (all four CSPs)"} | {a.code: a.short_name
                                                           for a in config.areas}
months = cached.available_months()
sidebar = st.sidebar
area = sidebar.selectbox("Area", allowed_areas(), format_func=names.get, key="methods_area")
groups = [g.name for g in config.crime_groups]
group = sidebar.selectbox("Crime-type group", groups, key="methods_group",
                          index=groups.index(config.default_crime_group))
sidebar.caption(config.crime_group(group).help)


def _earlier_months() -> None:  # a new test month trains on every month before it
    st.session_state["methods_train"] = [m for m in months
                                         if m < st.session_state["methods_test"]]


test = sidebar.selectbox("Test month (predicted)", months, index=max(len(months) - 1, 0),
                         key="methods_test", on_change=_earlier_months)
st.session_state.setdefault("methods_train", [m for m in months if test and m < test])
train = sidebar.multiselect("Training months", months, key="methods_train",
                            help="The months each method learns from (by default every month "
                                 "before the test month). Must not include the test month.")
coverages = sidebar.multiselect("Coverages (% of the area)", [0.5, 1.0, 2.0, 5.0, 10.0, 20.0],
                                default=[1.0, 2.0, 5.0, 10.0], key="methods_coverage",
                                format_func=lambda c: f"{c:g}%")

if not months:
    st.warning("The incident store is empty: add police.uk months on the Data page.")
elif not train:
    st.warning("Choose at least one training month in the sidebar.")
elif test in train:
    st.error(f"The test month {test} is also a training month: a method would be graded on "
             "the incidents it learned from. Remove it from the training months.")
elif not coverages:
    st.warning("Choose at least one coverage in the sidebar.")
else:
    if max(train) > test:
        st.warning("Some training months come after the test month, so this is not a true "
                   "forecast: the results will look better than they would in practice.")
    default_label = default_method().label
    table = evaluation_table(area, group, tuple(train), (test,), tuple(coverages),
                             DEFAULT_EVAL_CELL_SIZE)
    st.subheader("Results")
    methods_view.summary(table, default_label=default_label, train_months=train,
                         test_months=[test], area_name=names[area], crime_group=group)
    methods_view.not_scored(table)
    methods_view.charts(table, default_label=default_label)
    methods_view.results_table(table, default_label=default_label)
    methods_view.methods_compared(table, default_label=default_label)
    methods_view.metrics_explained(DEFAULT_EVAL_CELL_SIZE)

st.subheader("How the dashboard's defaults are chosen")
methods_view.how_defaults_are_chosen(
    default_label=default_method().label, bandwidth=cached.backtested_bandwidth(area, group),
    candidates=cached.BANDWIDTH_CANDIDATES,
    store_months=months, map_bandwidth=config.setting("kde_bandwidth").default,
    area_name=names[area], crime_group=group)
