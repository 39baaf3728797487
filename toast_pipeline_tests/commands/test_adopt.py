"""`toast-pipeline adopt` on an instance of the one-location version: the warehouse's location-dates
become materializations (and check results) under the date|location keys, once, and nothing else
changes."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from toast_pipeline.commands.backfill import BackfillRequest, plan_group
from toast_pipeline.commands.cli import main
from toast_pipeline.commands.instance import open_instance
from toast_pipeline.defs.assets import (
    BUSINESS_DAYS_KEY,
    CLOSURE_CHECK,
    FINGERPRINT_KEY,
    asset_key,
)
from toast_pipeline.defs.partitions import LOCATIONS_PARTITIONS, partitions_for
from toast_pipeline.defs.sensors import latest_expected_files, loaded_fingerprints
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline_tests.helpers import DAY, LOCATION, PROJECT_ROOT, day_tables

CAFE = "185342"
NEXT = DAY + timedelta(days=1)
CHECK_KEY = dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK)
# The folder listing the old version loaded DAY from, as its materialization recorded it.
OLD_FINGERPRINT = "old-listing-fingerprint"


def cafe_tables(day: date, status: str | None = None) -> dict[str, pl.DataFrame]:
    """`day_tables` stored for the café; with `status`, its business_days verdict replaced."""
    tables = {
        t: f.with_columns(pl.lit(CAFE).alias("location_id")) for t, f in day_tables(day).items()
    }
    if status is not None:
        tables["business_days"] = tables["business_days"].with_columns(
            pl.lit(status).alias("status"),
            pl.lit(status).alias("closure_reason"),
            pl.lit("no folder for 5 days in a row").alias("explanation"),
        )
    return tables


@pytest.fixture(scope="module")
def old_template(tmp_path_factory) -> Path:
    """What the one-location version left, built once: a warehouse with two dates of the bistro
    (open, then closed) and an instance whose materializations use date-only keys."""
    folder = tmp_path_factory.mktemp("old_state")
    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    warehouse = DuckDBWarehouse(path=str(folder / "toast.duckdb"))
    warehouse.replace_date(LOCATION, DAY, day_tables(DAY, orders=12))
    warehouse.replace_date(LOCATION, NEXT, day_tables(NEXT, orders=0))
    with open_instance(home) as instance:
        for day in (DAY, NEXT):
            for table in WAREHOUSE_TABLES:
                metadata = {"day_status": "open" if day == DAY else "closed"}
                if table == "business_days":
                    metadata[FINGERPRINT_KEY] = f"{OLD_FINGERPRINT}-{day}"
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        asset_key(table), partition=day.isoformat(), metadata=metadata
                    )
                )
    return folder


@pytest.fixture
def old_state(old_template, tmp_path, monkeypatch) -> tuple[Path, DuckDBWarehouse]:
    """The test's own copy of the old state, with the TOAST_* environment cleared and pointed at
    it."""
    for name in list(os.environ):
        if name.startswith("TOAST_"):
            monkeypatch.delenv(name)
    folder = shutil.copytree(old_template, tmp_path / "old")
    home = folder / "dagster_home"
    warehouse = DuckDBWarehouse(path=str(folder / "toast.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TOAST_DUCKDB_PATH", warehouse.path)
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")
    monkeypatch.setenv("TOAST_HOLIDAY_COUNTRY", "none")
    return home, warehouse


def output(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def latest(instance: dg.DagsterInstance, table: str, key: str) -> dg.EventLogRecord:
    """The one materialization of a table's partition (adopting reports each once)."""
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key(table), asset_partitions=[key]), limit=5
    ).records
    return record


def checks(instance: dg.DagsterInstance) -> dict[str, list]:
    found: dict[str, list] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(
        CHECK_KEY, limit=100
    ):
        found.setdefault(record.partition, []).append(record)
    return found


def event_count(instance: dg.DagsterInstance) -> int:
    return len(instance.all_logs(""))  # runless events are stored under the empty run id


def test_a_one_location_instance_is_adopted_under_the_new_keys(old_state, monkeypatch, capsys):
    home, _ = old_state
    monkeypatch.setenv("TOAST_LOCATION_ID", LOCATION)

    assert main(["adopt"]) == 0

    out = output(capsys)
    assert (
        f"{LOCATION}: 2 dates in the warehouse; adopted 2 (16 materializations, 2 check results), 0 already materialized; folder fingerprints of 2 dates taken from the old partitions"
        in out
    )
    assert (
        "Adopted 2 location-dates (16 materializations, 2 check results); 0 already materialized. Nothing was reloaded."
        in out
    )
    assert (
        "old date-only keys (2 dates of toast/business_days, 2024-04-04 to 2024-04-05) stays in its event log"
        in out
    )
    settings = GroupSettings.from_env(os.environ)
    partitions_def = partitions_for(settings)
    open_key, closed_key = f"{DAY}|{LOCATION}", f"{NEXT}|{LOCATION}"
    with open_instance(home) as instance:
        for table in WAREHOUSE_TABLES:
            # The old history is still there, under its old keys, beside the new ones.
            assert instance.get_materialized_partitions(asset_key(table)) == {
                DAY.isoformat(),
                NEXT.isoformat(),
                open_key,
                closed_key,
            }
            status = instance.get_status_by_partition(
                asset_key(table),
                [open_key, closed_key, f"{DAY + timedelta(2)}|{LOCATION}"],
                partitions_def,
            )
            assert list(status.values()) == [
                dg.AssetPartitionStatus.MATERIALIZED,
                dg.AssetPartitionStatus.MATERIALIZED,
                None,
            ]
        opened = latest(instance, "business_days", open_key).asset_materialization.metadata
        assert opened["day_status"].value == "open"
        assert "closure_reason" not in opened
        assert opened["rows_loaded"].value == 12
        assert opened["adopted_from_warehouse"].value is True
        assert opened[FINGERPRINT_KEY].value == f"{OLD_FINGERPRINT}-{DAY}"
        closed = latest(instance, "business_days", closed_key).asset_materialization.metadata
        assert (closed["day_status"].value, closed["closure_reason"].value) == (
            "closed",
            "low_activity",
        )
        assert closed["rows_loaded"].value == 0
        orders = latest(instance, "order_details", open_key).asset_materialization.metadata
        assert orders["dagster/row_count"].value == 12
        assert orders["closure_marker_rows"].value == 0
        marker = latest(instance, "check_details", closed_key).asset_materialization.metadata
        assert (marker["dagster/row_count"].value, marker["closure_marker_rows"].value) == (0, 1)

        evaluations = checks(instance)
        assert set(evaluations) == {open_key, closed_key}
        passed = evaluations[open_key][0].event.asset_check_evaluation
        failed = evaluations[closed_key][0].event.asset_check_evaluation
        assert passed.passed and not failed.passed
        assert failed.severity == dg.AssetCheckSeverity.WARN
        assert failed.metadata["reason"].value == "low_activity"
        # Each result is bound to its date's new materialization, as a run binds it.
        target = latest(instance, "business_days", closed_key)
        assert failed.target_materialization_data.storage_id == target.storage_id
        # What the UI's check status per partition reads: each result is of the latest
        # materialization, so it is current, failed for the closed date, passed for the open one.
        infos = {
            info.partition_key: info
            for info in instance.event_log_storage.get_asset_check_partition_info([CHECK_KEY])
        }
        assert {k: i.latest_execution_status.value for k, i in infos.items()} == {
            open_key: "SUCCEEDED",
            closed_key: "FAILED",
        }
        for info in infos.values():
            assert info.latest_target_materialization_storage_id == (
                info.latest_materialization_storage_id
            )

        # The sensor sees both folders as loaded from the listings the old version loaded.
        assert loaded_fingerprints(instance, LOCATION, [DAY, NEXT]) == {
            DAY: f"{OLD_FINGERPRINT}-{DAY}",
            NEXT: f"{OLD_FINGERPRINT}-{NEXT}",
        }
        assert LOCATION in latest_expected_files(instance, 1)
        # A listed location: a static dimension, nothing added to the instance.
        assert instance.get_dynamic_partitions(LOCATIONS_PARTITIONS) == []


def test_a_second_run_reports_nothing(old_state, monkeypatch, capsys):
    home, _ = old_state
    monkeypatch.setenv("TOAST_LOCATION_ID", LOCATION)
    assert main(["adopt"]) == 0
    capsys.readouterr()
    with open_instance(home) as instance:
        before = event_count(instance)

    assert main(["adopt"]) == 0

    out = output(capsys)
    assert "adopted 0 (0 materializations, 0 check results), 2 already materialized" in out
    assert "Adopted 0 location-dates (0 materializations, 0 check results); 2 already" in out
    with open_instance(home) as instance:
        assert event_count(instance) == before


def test_a_dry_run_writes_nothing(old_state, capsys):
    home, _ = old_state
    with open_instance(home) as instance:
        before = event_count(instance)

    assert main(["adopt", "--dry-run"]) == 0

    out = output(capsys)
    assert (
        f"{LOCATION}: 2 dates in the warehouse; would adopt 2 (16 materializations, 2 check results)"
        in out
    )
    assert "Dry run: nothing was written to the instance." in out
    with open_instance(home) as instance:
        assert event_count(instance) == before
        assert instance.get_dynamic_partitions(LOCATIONS_PARTITIONS) == []


def test_discovered_locations_are_added_first_and_a_gap_fails_with_error(old_state, capsys):
    home, warehouse = old_state
    warehouse.replace_date(CAFE, DAY, cafe_tables(DAY, status="delivery_gap"))
    warehouse.replace_date(CAFE, NEXT, cafe_tables(NEXT))

    assert main(["adopt", "--locations", CAFE, "--previous-location", LOCATION]) == 0

    out = output(capsys)
    assert f"Locations added to the instance's partitions: {CAFE}" in out
    assert (
        f"{CAFE}: 2 dates in the warehouse; adopted 2 (16 materializations, 2 check results)" in out
    )
    with open_instance(home) as instance:
        assert instance.get_dynamic_partitions(LOCATIONS_PARTITIONS) == [CAFE]
        assert instance.get_materialized_partitions(BUSINESS_DAYS_KEY) == {
            DAY.isoformat(),
            NEXT.isoformat(),
            f"{DAY}|{CAFE}",
            f"{NEXT}|{CAFE}",
        }
        evaluations = checks(instance)
        gap = evaluations[f"{DAY}|{CAFE}"][0].event.asset_check_evaluation
        assert (gap.passed, gap.severity) == (False, dg.AssetCheckSeverity.ERROR)
        assert evaluations[f"{NEXT}|{CAFE}"][0].event.asset_check_evaluation.passed
        # The old keys are the bistro's history: nothing of it is given to the café.
        metadata = latest(instance, "business_days", f"{DAY}|{CAFE}").asset_materialization.metadata
        assert FINGERPRINT_KEY not in metadata

    assert main(["adopt"]) == 0  # then every location of the warehouse
    out = output(capsys)
    assert f"Locations added to the instance's partitions: {LOCATION}" in out
    assert f"{CAFE}: 2 dates in the warehouse; adopted 0" in out
    assert f"{LOCATION}: 2 dates in the warehouse; adopted 2" in out
    with open_instance(home) as instance:
        assert sorted(instance.get_dynamic_partitions(LOCATIONS_PARTITIONS)) == [LOCATION, CAFE]


def test_dates_outside_the_partitions_are_left_out(old_state, monkeypatch, capsys):
    monkeypatch.setenv("TOAST_START_DATE", NEXT.isoformat())
    assert main(["adopt", "--locations", LOCATION]) == 0
    out = output(capsys)
    assert "adopted 1 (8 materializations, 1 check result)" in out
    assert (
        f"1 not partitions, left out (before the group's first date or after yesterday: {DAY} …)"
        in out
    )


def test_a_location_outside_the_group_or_no_start_date_is_refused(old_state, monkeypatch, capsys):
    monkeypatch.setenv("TOAST_LOCATIONS", LOCATION)
    assert main(["adopt", "--locations", CAFE]) == 2
    assert f"--locations {CAFE}: not locations of this group ({LOCATION})" in output(capsys)
    monkeypatch.delenv("TOAST_START_DATE")
    assert main(["adopt"]) == 2
    assert "TOAST_START_DATE must be set" in output(capsys)


class ListedDates:
    """A source whose folders are the adopted dates (the backfill plans from its listing)."""

    def list_locations(self) -> list[str]:
        return [LOCATION]

    def list_dates(self, location_id: str) -> list[date]:
        return [DAY, NEXT]


def test_a_backfill_after_adopting_has_nothing_to_run(old_state, monkeypatch):
    _, warehouse = old_state
    monkeypatch.setenv("TOAST_LOCATION_ID", LOCATION)
    assert main(["adopt"]) == 0
    settings = GroupSettings.from_env(os.environ)
    group = plan_group(
        BackfillRequest(all_dates=True),
        settings,
        partitions_for(settings),
        ListedDates(),
        warehouse,
    )
    [located] = group.locations
    assert (located.plan.requested, located.plan.to_run) == ([DAY, NEXT], [])
