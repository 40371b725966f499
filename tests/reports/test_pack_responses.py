"""The tasking pack's responses section: which responses, the same figures as the library,
pages that render to PDF.
"""

from __future__ import annotations

import io

import pytest
from matplotlib.backends.backend_pdf import PdfPages

from geodata.ingest import open_store
from geodata.reference import load_lsoa_table
from geodata.responses import ResponseStore
from hotspots.responses import default_hotspot_outlines, evaluate_in_store, place_from_hotspots
from reports.pack_responses import TABLE_COLUMNS, responses_section

HULL = "E06000010"


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pack-store")
    incidents = open_store(folder)
    lsoas = load_lsoa_table()
    outlines, settings = default_hotspot_outlines(incidents, lsoas, HULL,
                                                  ["2024-01", "2024-02"])
    responses = ResponseStore(folder / "responses.sqlite")
    quiet = lambda change: None  # noqa: E731  (audited by the callers' own tests)

    def add(title, ids, start, status="active", end=None):
        geometry, place = place_from_hotspots(outlines, ids, settings=settings,
                                              months=["2024-01", "2024-02"])
        return responses.add({"title": title, "type": "patrols", "lead_agency": "Police",
                              "lad_code": HULL, "start_month": start, "end_month": end,
                              "status": status, "geometry": geometry, "place": place},
                             user="t", audit=quiet)

    made = {"main": add("Patrols at hotspot 1 $x$", [1], "2024-03"),
            "second": add("Lighting at hotspot 2", [2], "2024-02"),
            "planned": add("Planned outreach", [3], "2024-03", status="planned"),
            "later": add("Starts after the pack", [4], "2024-06"),
            "no_data": add("Old response", [4], "2023-06", status="ended", end="2023-08")}
    return incidents, responses, outlines, made, lsoas


def test_lists_responses_under_way_with_the_libraries_figures(setting):
    incidents, responses, outlines, made, lsoas = setting
    figures, table = responses_section(HULL, "2024-03", incident_store=incidents,
                                       response_store=responses, hotspot_outlines=outlines)
    assert list(table.columns) == TABLE_COLUMNS
    # planned and starting after 2024-03 are left out; the old one is listed, not evaluated
    assert set(table["response_id"]) == {made["main"].id, made["second"].id,
                                         made["no_data"].id}
    old = table.set_index("response_id").loc[made["no_data"].id]
    assert old["outcome"] == "not evaluated" and "No month before the start" in old["verdict"]
    row = table.set_index("response_id").loc[made["main"].id]
    expected = evaluate_in_store(made["main"], incident_store=incidents, lsoas=lsoas,
                                 hotspot_outlines=outlines, all_responses=responses.list(),
                                 month_to="2024-03")
    assert row["target_before"] == expected.target_before > 50
    assert row["target_after"] == expected.target_after
    assert row["control_before"] == expected.control_before
    assert row["wdd"] == pytest.approx(expected.wdd)
    assert row["wdd_p"] == pytest.approx(expected.wdd_p)
    assert row["verdict"] == expected.verdict
    # hotspot 2 has its own response in the period: not in the control of hotspot 1
    assert 2 not in expected.extra["control_hotspot_ids"]
    assert len(figures) == 1 + 2  # summary + one page per evaluated response
    text = "\n".join(t.get_text() for f in figures for t in f.texts)
    assert "Responses under way and their results" in text
    assert "Patrols at hotspot 1 $x$" in text  # plain text, not mathtext
    assert "1 more planned" in text
    buffer = io.BytesIO()
    with PdfPages(buffer) as pdf:
        for figure in figures:
            pdf.savefig(figure)
    assert buffer.getvalue().startswith(b"%PDF")


def test_a_month_to_before_the_data_uses_no_later_month(setting):
    incidents, responses, outlines, made, _ = setting
    _, table = responses_section(HULL, "2024-02", incident_store=incidents,
                                 response_store=responses, hotspot_outlines=outlines)
    # only hotspot 2's response (from 2024-02) has started; its "after" is 2024-02 alone
    row = table.set_index("response_id").loc[made["second"].id]
    assert row["months_after"] == "2024-02"
    assert made["main"].id not in set(table["response_id"])


def test_bad_input_is_refused(setting):
    incidents, responses, outlines, _, _ = setting
    with pytest.raises(ValueError, match="area_code"):
        responses_section("E09999999", "2024-03", incident_store=incidents,
                          response_store=responses, hotspot_outlines=outlines)
    with pytest.raises(ValueError, match="YYYY-MM"):
        responses_section(HULL, "March", incident_store=incidents, response_store=responses,
                          hotspot_outlines=outlines)


def test_the_tasking_pack_carries_the_responses_section(setting, tmp_path):
    """Built from the store that holds the responses, the pack gains their pages (its
    hotspot outlines are the control's), and names the responses in the PDF's text."""
    from pypdf import PdfReader

    from reports.tasking_pack import build_tasking_pack

    incidents, responses, outlines, made, lsoas = setting
    pack = build_tasking_pack(HULL, "2024-01", "2024-03", tmp_path / "pack", top_n=2,
                              store=incidents)
    figures, _ = responses_section(HULL, "2024-03", incident_store=incidents,
                                   response_store=responses, hotspot_outlines=outlines)
    assert len(figures) >= 2
    text = "\n".join(page.extract_text() for page in PdfReader(pack.pdf).pages)
    assert pack.pages == 2 + pack.profiled + len(figures) + 1 == len(PdfReader(pack.pdf).pages)
    assert "Patrols at hotspot 1 $x$" in text
    assert "Planned outreach" not in text
