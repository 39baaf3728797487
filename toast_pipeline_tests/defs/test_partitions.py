"""The partitions every Toast asset shares: business date × location."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from toast_pipeline.defs.partitions import (
    LOCATIONS_PARTITIONS,
    add_locations,
    has_date,
    known_locations,
    partition_key,
    partitions_for,
    split_key,
)
from toast_pipeline.settings import GroupSettings

LISTED = GroupSettings(
    date(2024, 4, 1),
    timezone="America/Denver",
    locations=("185342", "185129"),
    overrides={"185129": {"start_date": date(2024, 3, 28)}},
)
DISCOVERED = GroupSettings(date(2024, 4, 1))


def location_dimension(settings: GroupSettings) -> dg.PartitionsDefinition:
    return partitions_for(settings).get_partitions_def_for_dimension("location")


def test_the_dates_start_at_the_group_s_first_date_in_its_time_zone():
    dates = partitions_for(LISTED).get_partitions_def_for_dimension("date")
    assert isinstance(dates, dg.DailyPartitionsDefinition)
    assert (dates.get_first_partition_key(), dates.timezone) == ("2024-03-28", "America/Denver")


def test_listed_locations_are_a_static_dimension_in_their_order():
    """A fresh instance can materialize listed locations at once: nothing to add first."""
    dimension = location_dimension(LISTED)
    assert isinstance(dimension, dg.StaticPartitionsDefinition)
    assert dimension.get_partition_keys() == ["185342", "185129"]


def test_without_a_list_the_locations_are_a_dynamic_dimension():
    dimension = location_dimension(DISCOVERED)
    assert isinstance(dimension, dg.DynamicPartitionsDefinition)
    assert dimension.name == LOCATIONS_PARTITIONS == "toast_locations"


def test_dimensions_are_ordered_date_then_location():
    assert [d.name for d in partitions_for(LISTED).partitions_defs] == ["date", "location"]


@pytest.mark.parametrize(
    ("location_id", "day", "key"),
    [
        ("185129", date(2024, 4, 4), "2024-04-04|185129"),
        ("7", date(2023, 12, 31), "2023-12-31|7"),
    ],
)
def test_a_partition_key_names_the_date_then_the_location(location_id, day, key):
    multi = partition_key(location_id, day)
    assert isinstance(multi, dg.MultiPartitionKey)
    assert str(multi) == key
    assert multi.keys_by_dimension == {"date": day.isoformat(), "location": location_id}
    assert split_key(multi) == (location_id, day)
    assert split_key(key) == (location_id, day)
    assert split_key(dg.MultiPartitionKey({"location": location_id, "date": day.isoformat()})) == (
        location_id,
        day,
    )


def test_a_partition_key_is_one_of_the_definition_s_keys():
    partitions_def = partitions_for(LISTED)
    key = partition_key("185129", date(2024, 3, 28))
    assert partitions_def.has_partition_key(key)
    assert partitions_def.get_partition_keys()[:2] == ["2024-03-28|185342", "2024-03-28|185129"]


@pytest.mark.parametrize(
    ("day", "held"),
    [
        (date(2024, 3, 27), False),  # before the first start date
        (date(2024, 3, 28), True),
        (date(2024, 4, 5), True),
        (datetime.now(ZoneInfo("America/Denver")).date() - timedelta(days=1), True),  # yesterday
        (datetime.now(ZoneInfo("America/Denver")).date() + timedelta(days=1), False),
    ],
)
def test_the_date_dimension_holds_first_date_to_yesterday(day, held):
    assert has_date(partitions_for(LISTED), day) is held


def test_known_locations_of_a_static_dimension_are_the_listed_ones():
    with dg.DagsterInstance.ephemeral() as instance:
        assert known_locations(instance, partitions_for(LISTED)) == ["185342", "185129"]


def test_adding_locations_to_a_static_dimension_does_nothing():
    partitions_def = partitions_for(LISTED)
    with dg.DagsterInstance.ephemeral() as instance:
        assert add_locations(instance, partitions_def, ["185129", "999"]) == []
        assert instance.get_dynamic_partitions(LOCATIONS_PARTITIONS) == []
        assert known_locations(instance, partitions_def) == ["185342", "185129"]


def test_discovered_locations_are_added_once_each_in_the_order_found():
    partitions_def = partitions_for(DISCOVERED)
    with dg.DagsterInstance.ephemeral() as instance:
        assert known_locations(instance, partitions_def) == []
        assert add_locations(instance, partitions_def, ["185342", "185129", "185342"]) == [
            "185342",
            "185129",
        ]
        assert add_locations(instance, partitions_def, ["185129", "7"]) == ["7"]
        assert add_locations(instance, partitions_def, ["7"]) == []
        assert add_locations(instance, partitions_def, []) == []
        assert known_locations(instance, partitions_def) == ["185342", "185129", "7"]
        with dg.partition_loading_context(dynamic_partitions_store=instance):
            assert partitions_def.has_partition_key(partition_key("7", date(2024, 4, 1)))
            assert not partitions_def.has_partition_key(partition_key("8", date(2024, 4, 1)))
