"""The analysis assets over a loaded warehouse, their automation, and `toast-pipeline closures`."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.commands.cli import main
from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.analysis_assets import (
    CLOSURE_SUMMARY_KEY,
    DAILY_TRENDS_KEY,
    build_analysis_assets,
)
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.daily_load import build_day_load
from toast_pipeline_tests.helpers import run_dates

pytestmark = pytest.mark.e2e

LOCATION = "185129"
ANALYSIS = {CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY}


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))


@pytest.fixture
def defs(sample_server, sftp_source_factory, warehouse, archive):
    settings = GroupSettings(locations=(LOCATION,), start_date=date(2024, 4, 1))
    return build_definitions(
        settings, source=sftp_source_factory(sample_server), archive=archive, warehouse=warehouse
    )


def load(defs, instance, first: date, last: date) -> None:
    assert run_dates(defs.resolve_job_def(DAILY_JOB), instance, first, last).success


def requested(defs, instance, cursor=None):
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    return {r.key for r in result.results if r.true_subset.size}, result.cursor


def test_the_analysis_refreshes_when_the_tables_change(
    defs, warehouse, sample_export, tmp_path, capsys
):
    with dg.DagsterInstance.ephemeral() as instance:  # in memory: several times faster
        _, cursor = requested(defs, instance)  # the first evaluation starts the clock
        load(defs, instance, date(2024, 4, 1), date(2024, 4, 4))
        keys, cursor = requested(defs, instance, cursor)
        assert keys == ANALYSIS
        result = dg.materialize(
            [defs.get_assets_def(key) for key in ANALYSIS],
            instance=instance,
            resources={"warehouse": warehouse},
        )
        assert result.success
        keys, cursor = requested(defs, instance, cursor)
        assert keys == set()  # nothing changed since
        load(defs, instance, date(2024, 4, 5), date(2024, 4, 5))
        assert requested(defs, instance, cursor)[0] == ANALYSIS

    summary = result.asset_materializations_for_node("closure_summary")[0].metadata
    assert (
        summary["closed_dates"].value == 2
    )  # 04-02 no folder (04-03 came after), 04-03 headers only
    assert summary["summary"].value.startswith(f"### {LOCATION}\n\n")
    assert "| no_files | 1 | 50.0% |" in summary["summary"].value
    assert summary["calendar"].value.startswith(
        f"![{LOCATION} calendar](data:image/png;base64,iVBORw0KGgo"
    )
    stored = warehouse.query(
        f"SELECT location_id, section, label, closures FROM {warehouse.table('closure_summary')}"
    )
    assert (LOCATION, "reason", "low_activity", 1) in stored.rows()

    trends = warehouse.query(
        f"SELECT location_id, business_date, orders, net_sales "
        f"FROM {warehouse.table('daily_trends')} ORDER BY business_date"
    )
    open_days = [
        d for d in sample_export.days if d.status == "open" and d.business_date <= date(2024, 4, 4)
    ]
    assert trends.rows() == [(LOCATION, d.business_date, d.orders, d.net_sales) for d in open_days]

    env = {"TOAST_DUCKDB_PATH": warehouse.path, "TOAST_LOCATION_ID": LOCATION}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert main(["closures"]) == 0
    out = capsys.readouterr().out
    assert (
        "BUSINESS CLOSURE ANALYSIS" in out
        and "Total closure dates detected: 3 of 5 dates loaded" in out
    )


# -- a group of two locations in one warehouse -------------------------------------------------

BISTRO, CAFE, OUTSIDER = "185129", "185342", "190000"
D1, D2, D3 = date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 3)
# Per location and date: orders as (amount, tip, guests, voided) and how many checks; None is a
# date with no files (closed, no_files). Cents chosen so that float sums would drift.
DELIVERIES = {
    (BISTRO, D1): (
        [
            ("10.10", "1.10", 2, False),
            ("20.20", "2.20", 3, False),
            ("30.30", "0.30", 1, False),
            ("99.99", "9.99", 4, True),
        ],
        6,
    ),  # 3 orders, 6 covers, net 60.60, tips 3.60
    (BISTRO, D2): None,
    (BISTRO, D3): (
        [("25.05", "5.01", 2, False), ("25.05", "0.00", 2, False), ("0.10", "0.20", 1, False)],
        7,
    ),  # 3 orders, 5 covers, net 50.20, tips 5.21
    (CAFE, D1): ([("40.40", "4.04", 4, False), ("15.15", "1.51", 1, False)], 8),
    (CAFE, D2): ([("70.70", "7.07", 2, False), ("0.01", "0.00", 1, False)], 8),
    (CAFE, D3): ([("5.00", "0.00", 1, False)], 0),  # 1 record: closed, low_activity
    # Loaded in the same warehouse, but not one of the group's TOAST_LOCATIONS.
    (OUTSIDER, D1): ([("500.00", "50.00", 10, False)], 9),
}


def delivered_files(location_id: str, day: date) -> dict[str, bytes]:
    delivery = DELIVERIES[location_id, day]
    if delivery is None:
        return {}
    orders, checks = delivery
    order_rows = "".join(
        f"{location_id}{day:%m%d}{i},{amount},{tip},{guests},{str(voided).lower()}\n"
        for i, (amount, tip, guests, voided) in enumerate(orders)
    )
    check_rows = "".join(f"{location_id}{day:%m%d}{i},1.00\n" for i in range(checks))
    return {
        "OrderDetails.csv": f"Order Id,Amount,Tip,# of Guests,Voided\n{order_rows}".encode(),
        "CheckDetails.csv": f"Check Id,Total\n{check_rows}".encode(),
        "PaymentDetails.csv": b"",
        "CashEntries.csv": b"",
    }


def loaded_group(path: Path) -> DuckDBWarehouse:
    """A warehouse holding every delivery of DELIVERIES, the outsider's included."""
    warehouse = DuckDBWarehouse(path=str(path))
    loaded_at = datetime.now(UTC)
    with warehouse.session():
        for location_id, day in DELIVERIES:
            load = build_day_load(
                location_id,
                day,
                delivered_files(location_id, day),
                loaded_at=loaded_at,
                timezone="America/Chicago",
            )
            warehouse.replace_date(location_id, day, load.tables)
    assert warehouse.locations() == [BISTRO, CAFE, OUTSIDER]
    return warehouse


def analyse(warehouse: DuckDBWarehouse, *locations: str) -> dg.ExecuteInProcessResult:
    """Both analysis assets materialized for a group of `locations` (the bistro named)."""
    settings = GroupSettings(
        locations=locations,
        start_date=D1,
        holiday_country=None,
        overrides={BISTRO: {"name": "Bistro on Main"}},
    )
    result = dg.materialize(build_analysis_assets(settings), resources={"warehouse": warehouse})
    assert result.success
    return result


@pytest.fixture(scope="module")
def group_analysis(tmp_path_factory) -> tuple[DuckDBWarehouse, dg.ExecuteInProcessResult]:
    """Three dates of two listed locations and one unlisted one written to one warehouse, then
    both analysis assets materialized once for the group of the two."""
    warehouse = loaded_group(tmp_path_factory.mktemp("group") / "toast.duckdb")
    return warehouse, analyse(warehouse, BISTRO, CAFE)


def test_daily_trends_has_each_listed_locations_open_dates_and_the_groups_exact_totals(
    group_analysis,
):
    warehouse, result = group_analysis
    per_location = warehouse.query(
        "SELECT location_id, business_date, orders, covers, checks, net_sales, tips "
        f"FROM {warehouse.table('daily_trends')} ORDER BY location_id, business_date"
    )
    assert per_location.rows() == [
        (BISTRO, D1, 3, 6, 6, Decimal("60.60"), Decimal("3.60")),
        (BISTRO, D3, 3, 5, 7, Decimal("50.20"), Decimal("5.21")),
        (CAFE, D1, 2, 5, 8, Decimal("55.55"), Decimal("5.55")),
        (CAFE, D2, 2, 3, 8, Decimal("70.71"), Decimal("7.07")),
    ]
    group = f"FROM {warehouse.table('group_daily_trends')} ORDER BY business_date"
    counted = warehouse.query(
        f"SELECT location_id, business_date, open_locations, orders, covers, checks {group}"
    )
    assert counted.rows() == [
        ("group", D1, 2, 5, 11, 14),
        ("group", D2, 1, 2, 3, 8),
        ("group", D3, 1, 3, 5, 7),
    ]
    money = warehouse.query(
        f"SELECT business_date, net_sales, tips, average_check, net_sales_7d_avg {group}"
    )
    assert money.rows() == [
        (D1, Decimal("116.15"), Decimal("9.15"), Decimal("8.30"), Decimal("116.15")),
        (D2, Decimal("70.71"), Decimal("7.07"), Decimal("8.84"), Decimal("93.43")),
        (D3, Decimal("50.20"), Decimal("5.21"), Decimal("7.17"), Decimal("79.02")),
    ]

    metadata = result.asset_materializations_for_node("daily_trends")[0].metadata
    assert metadata["locations"].value == 2
    assert metadata["open_dates"].value == 4
    assert metadata["dagster/row_count"].value == 4
    sections = metadata["last_two_weeks"].value
    assert sections.startswith("### Bistro on Main (185129)\n\n| date |")
    assert "\n\n### 185342\n\n| date |" in sections
    assert "| 2024-04-02 | 2 | 3 | 70.71 |" in sections
    group_table = metadata["group_last_two_weeks"].value
    assert "| 2024-04-01 | 5 | 11 | 116.15 | 8.30 |" in group_table
    assert "500.00" not in sections + group_table


def test_closure_summary_covers_each_listed_location_and_the_group(group_analysis):
    warehouse, result = group_analysis
    stored = warehouse.query(
        "SELECT location_id, section, label, closures "
        f"FROM {warehouse.table('closure_summary')} WHERE section = 'reason' ORDER BY location_id"
    )
    assert stored.rows() == [(BISTRO, "reason", "no_files", 1), (CAFE, "reason", "low_activity", 1)]
    stored_locations = warehouse.query(
        f"SELECT DISTINCT location_id FROM {warehouse.table('closure_summary')} ORDER BY 1"
    )
    assert stored_locations.rows() == [(BISTRO,), (CAFE,)]

    metadata = result.asset_materializations_for_node("closure_summary")[0].metadata
    assert metadata["group"].value == "\n".join(
        [
            "| location | dates loaded | closed | delivery gaps | main closure reason |",
            "|---|---:|---:|---:|---|",
            "| Bistro on Main (185129) | 3 | 1 | 0 | no_files |",
            "| 185342 | 3 | 1 | 0 | low_activity |",
            "| group | 6 | 2 | 0 |  |",
        ]
    )
    assert metadata["locations"].value == 2
    assert metadata["closed_dates"].value == 2
    assert metadata["dates_loaded"].value == 6
    assert metadata["delivery_gaps"].value == {}
    summary = metadata["summary"].value
    assert summary.startswith("### Bistro on Main (185129)\n\n**1 closed** of 3 dates loaded")
    assert "\n\n### 185342\n\n**1 closed** of 3 dates loaded" in summary
    assert OUTSIDER not in summary + metadata["group"].value
    calendars = metadata["calendar"].value.split("\n\n")
    assert [c.split("](")[0] for c in calendars] == [
        "![Bistro on Main (185129) calendar",
        "![185342 calendar",
    ]
    assert all(c.split("](")[1].startswith("data:image/png;base64,iVBORw0KGgo") for c in calendars)


def test_regression_a_location_taken_out_of_the_group_leaves_the_analysis_tables(tmp_path):
    """Its last rows used to stay in daily_trends and closure_summary while the group totals left
    it out."""
    warehouse = loaded_group(tmp_path / "toast.duckdb")
    analyse(warehouse, BISTRO, CAFE, OUTSIDER)
    analyse(warehouse, BISTRO, CAFE)
    group = warehouse.query(
        "SELECT business_date, open_locations, net_sales "
        f"FROM {warehouse.table('group_daily_trends')} WHERE business_date = DATE '{D1}'"
    )
    assert group.rows() == [(D1, 2, Decimal("116.15"))]
    for table in ("daily_trends", "closure_summary"):
        stored = warehouse.query(
            f"SELECT DISTINCT location_id FROM {warehouse.table(table)} ORDER BY 1"
        )
        assert stored.rows() == [(BISTRO,), (CAFE,)], table
