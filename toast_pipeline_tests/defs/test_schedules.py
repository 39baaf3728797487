from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from toast_pipeline.definitions import build_definitions
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
from toast_pipeline.defs.partitions import LOCATIONS_PARTITIONS
from toast_pipeline.defs.schedules import schedule_name
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.settings import GroupSettings

SETTINGS = GroupSettings(locations=("185129",), start_date=date(2024, 4, 1), schedule_time=(6, 30))
CHICAGO, DENVER = ZoneInfo("America/Chicago"), ZoneInfo("America/Denver")
SCHEDULE = "toast_daily_safety_net"
DENVER_SCHEDULE = "toast_daily_safety_net_america_denver"
# The bistro (Chicago, the group's zone), the café (Denver) and a bar that opens on 2024-04-10.
LOCATIONS_FILE = """
[locations."185342"]
name = "Café on Colfax"
timezone = "America/Denver"
holiday_subdivision = "CO"

[locations."185777"]
start_date = 2024-04-10
"""


def definitions(settings: GroupSettings = SETTINGS) -> dg.Definitions:
    source = SFTPExportSource(host="127.0.0.1", username="u", password="unused")
    return build_definitions(
        settings,
        source=source,
        archive=LocalRawArchive(path="unused"),
        warehouse=DuckDBWarehouse(path="unused.duckdb"),
    )


def evaluate(instance, when: datetime, settings: GroupSettings = SETTINGS, name: str = SCHEDULE):
    built = definitions(settings)
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=built.get_repository_def()
    )
    return built.resolve_schedule_def(name).evaluate_tick(context)


def requested(result) -> list[tuple[str, str, dict[str, str]]]:
    return [
        (r.partition_key, r.run_key, {"toast/location": r.tags["toast/location"]})
        for r in result.run_requests
    ]


def loaded(instance, *keys: str) -> None:
    """As the new-folder sensor's run leaves it: business_days materialized for the key."""
    for key in keys:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(BUSINESS_DAYS_KEY, partition=key)
        )


@pytest.fixture
def group(tmp_path: Path) -> GroupSettings:
    path = tmp_path / "locations.toml"
    path.write_text(LOCATIONS_FILE, encoding="utf-8")
    env = {
        "TOAST_LOCATIONS": "185129,185342,185777",
        "TOAST_START_DATE": "2024-04-01",
        "TOAST_SCHEDULE_TIME": "06:30",
        "TOAST_LOCATIONS_FILE": str(path),
    }
    return GroupSettings.from_env(env)


def test_runs_yesterday_at_the_local_time():
    schedule = definitions().resolve_schedule_def(SCHEDULE)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "30 6 * * *",
        "America/Chicago",
    )
    with dg.instance_for_test() as instance:
        result = evaluate(instance, datetime(2024, 4, 5, 6, 30, tzinfo=CHICAGO))
    assert requested(result) == [
        ("2024-04-04|185129", "schedule:2024-04-04|185129", {"toast/location": "185129"})
    ]


def test_skips_a_date_the_sensor_already_loaded():
    with dg.instance_for_test() as instance:
        loaded(instance, "2024-04-04|185129")
        result = evaluate(instance, datetime(2024, 4, 5, 6, 30, tzinfo=CHICAGO))
    assert not result.run_requests
    assert (
        result.skip_message == "2024-04-04 is already loaded for every location in America/Chicago"
    )


def test_skips_before_the_first_partition():
    with dg.instance_for_test() as instance:
        result = evaluate(instance, datetime(2024, 3, 20, 6, 30, tzinfo=CHICAGO))
    assert result.skip_message == "2024-03-19 is not a partition"


def test_a_location_in_another_zone_gets_a_schedule_of_its_own(group):
    """The group's zone keeps the schedule's name; the other zone's is named after it."""
    assert group.timezones == ["America/Chicago", "America/Denver"]
    assert [schedule_name(group, z) for z in group.timezones] == [SCHEDULE, DENVER_SCHEDULE]
    schedules = {s.name: s for s in definitions(group).get_repository_def().schedule_defs}
    assert {n: (s.cron_schedule, s.execution_timezone) for n, s in schedules.items()} == {
        SCHEDULE: ("30 6 * * *", "America/Chicago"),
        DENVER_SCHEDULE: ("30 6 * * *", "America/Denver"),
    }


def test_one_zone_per_group_however_many_locations_share_it():
    settings = GroupSettings(
        date(2024, 4, 1),
        locations=("1", "2", "3"),
        overrides={"1": {"timezone": "America/Chicago"}, "2": {"timezone": "America/Chicago"}},
    )
    assert settings.timezones == ["America/Chicago"]
    assert [s.name for s in definitions(settings).get_repository_def().schedule_defs] == [SCHEDULE]


def test_each_zone_s_schedule_requests_its_own_locations_yesterday(group):
    """At 06:30 in Denver (07:30 in Chicago) only the café is due; the bar opens on 2024-04-10."""
    with dg.instance_for_test() as instance:
        denver = evaluate(
            instance, datetime(2024, 4, 5, 6, 30, tzinfo=DENVER), group, DENVER_SCHEDULE
        )
        chicago = evaluate(instance, datetime(2024, 4, 5, 6, 30, tzinfo=CHICAGO), group)
    assert requested(denver) == [
        ("2024-04-04|185342", "schedule:2024-04-04|185342", {"toast/location": "185342"})
    ]
    assert requested(chicago) == [
        ("2024-04-04|185129", "schedule:2024-04-04|185129", {"toast/location": "185129"})
    ]


def test_a_location_is_requested_from_its_own_start_date(group):
    with dg.instance_for_test() as instance:
        before = evaluate(instance, datetime(2024, 4, 10, 6, 30, tzinfo=CHICAGO), group)
        first = evaluate(instance, datetime(2024, 4, 11, 6, 30, tzinfo=CHICAGO), group)
    assert [r.partition_key for r in before.run_requests] == ["2024-04-09|185129"]
    assert [r.partition_key for r in first.run_requests] == [
        "2024-04-10|185129",
        "2024-04-10|185777",
    ]


def test_only_the_location_dates_not_loaded_yet_are_requested(group):
    with dg.instance_for_test() as instance:
        loaded(instance, "2024-04-10|185129", "2024-04-09|185777", "2024-04-10|185342")
        result = evaluate(instance, datetime(2024, 4, 11, 6, 30, tzinfo=CHICAGO), group)
        loaded(instance, "2024-04-10|185777")
        done = evaluate(instance, datetime(2024, 4, 11, 6, 30, tzinfo=CHICAGO), group)
    assert [r.partition_key for r in result.run_requests] == ["2024-04-10|185777"]
    assert done.skip_message == "2024-04-10 is already loaded for every location in America/Chicago"


def test_a_discovering_group_requests_the_locations_found_so_far():
    settings = GroupSettings(date(2024, 4, 1))
    when = datetime(2024, 4, 5, 6, 0, tzinfo=CHICAGO)
    with dg.instance_for_test() as instance:
        nothing = evaluate(instance, when, settings)
        instance.add_dynamic_partitions(LOCATIONS_PARTITIONS, ["185342", "185129"])
        found = evaluate(instance, when, settings)
    assert nothing.skip_message == (
        "2024-04-04 is already loaded for every location in America/Chicago"
    )
    assert [r.partition_key for r in found.run_requests] == [
        "2024-04-04|185342",
        "2024-04-04|185129",
    ]
