from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from toast_pipeline.definitions import build_definitions
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.settings import LocationSettings

SETTINGS = LocationSettings(
    location_id="185129", start_date=date(2024, 4, 1), schedule_time=(6, 30)
)


def definitions() -> dg.Definitions:
    source = SFTPExportSource(host="127.0.0.1", username="u", password="unused")
    return build_definitions(
        SETTINGS,
        source=source,
        archive=LocalRawArchive(path="unused"),
        warehouse=DuckDBWarehouse(path="unused.duckdb"),
    )


def schedule():
    return definitions().resolve_schedule_def("toast_daily_safety_net")


def evaluate(instance, when: datetime):
    repository = definitions().get_repository_def()
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=repository
    )
    return schedule().evaluate_tick(context)


def test_runs_yesterday_at_the_local_time():
    assert schedule().cron_schedule == "30 6 * * *"
    assert schedule().execution_timezone == "America/Chicago"
    with dg.instance_for_test() as instance:
        result = evaluate(instance, datetime(2024, 4, 5, 6, 30, tzinfo=ZoneInfo("America/Chicago")))
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        ("2024-04-04", "schedule:2024-04-04")
    ]


def test_skips_a_date_the_sensor_already_loaded():
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(BUSINESS_DAYS_KEY, partition="2024-04-04")
        )
        result = evaluate(instance, datetime(2024, 4, 5, 6, 30, tzinfo=ZoneInfo("America/Chicago")))
    assert not result.run_requests
    assert "already loaded" in result.skip_message


def test_skips_before_the_first_partition():
    with dg.instance_for_test() as instance:
        result = evaluate(
            instance, datetime(2024, 3, 20, 6, 30, tzinfo=ZoneInfo("America/Chicago"))
        )
    assert "is not a partition" in result.skip_message
