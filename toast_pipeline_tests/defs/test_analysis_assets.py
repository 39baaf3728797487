"""The analysis assets over a loaded warehouse, their automation, and `toast-pipeline closures`."""

from datetime import date

import dagster as dg
import pytest

from toast_pipeline.commands.cli import main
from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.analysis_assets import CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import LocationSettings

pytestmark = pytest.mark.e2e

LOCATION = "185129"
ANALYSIS = {CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY}


@pytest.fixture
def warehouse(tmp_path):
    return DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))


@pytest.fixture
def defs(sample_server, sftp_source_factory, warehouse, archive):
    settings = LocationSettings(location_id=LOCATION, start_date=date(2024, 4, 1))
    return build_definitions(
        settings, source=sftp_source_factory(sample_server), archive=archive, warehouse=warehouse
    )


def load(defs, instance, first: str, last: str) -> None:
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    assert defs.resolve_job_def(DAILY_JOB).execute_in_process(tags=tags, instance=instance).success


def requested(defs, instance, cursor=None):
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    return {r.key for r in result.results if r.true_subset.size}, result.cursor


def test_the_analysis_refreshes_when_the_tables_change(
    defs, warehouse, sample_export, tmp_path, capsys
):
    with dg.DagsterInstance.ephemeral() as instance:  # in memory: several times faster
        _, cursor = requested(defs, instance)  # the first evaluation starts the clock
        load(defs, instance, "2024-04-01", "2024-04-04")
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
        load(defs, instance, "2024-04-05", "2024-04-05")
        assert requested(defs, instance, cursor)[0] == ANALYSIS

    summary = result.asset_materializations_for_node("closure_summary")[0].metadata
    assert (
        summary["closed_dates"].value == 2
    )  # 04-02 no folder (04-03 came after), 04-03 headers only
    assert "| no_files | 1 | 50.0% |" in summary["summary"].value
    assert summary["calendar"].value.startswith(
        "![closure calendar](data:image/png;base64,iVBORw0KGgo"
    )
    stored = warehouse.query(
        f"SELECT section, label, closures FROM {warehouse.table('closure_summary')}"
    )
    assert ("reason", "low_activity", 1) in stored.rows()

    trends = warehouse.query(
        f"SELECT business_date, orders, net_sales FROM {warehouse.table('daily_trends')} ORDER BY business_date"
    )
    open_days = [
        d for d in sample_export.days if d.status == "open" and d.business_date <= date(2024, 4, 4)
    ]
    assert trends.rows() == [(d.business_date, d.orders, d.net_sales) for d in open_days]

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
