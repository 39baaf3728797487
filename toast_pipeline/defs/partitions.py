"""Partitions: business date × location, and the keys that name one location's date.

Every Toast asset, `business_days` and the closure check share one `MultiPartitionsDefinition`:
a daily dimension from the group's first start date (in the group's easternmost time zone, so
each location's yesterday is a partition once its own day has ended), and a location
dimension. Listed locations (TOAST_LOCATIONS, or the single TOAST_LOCATION_ID) are a static
dimension, so a fresh instance can materialize them at once; otherwise the dimension is dynamic and
the sensor and the backfill command add each numbered folder they find on the server.

One partitions definition for the whole group, rather than one asset per location, keeps the
asset graph the same size for a hundred locations and lets the UI filter a check's partitions by
location; a location's own start date and time zone are applied by whoever picks its dates (the
backfill, the sensor, the schedule), not by the date dimension.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from toast_pipeline.settings import GroupSettings

DATE = "date"
LOCATION = "location"
LOCATIONS_PARTITIONS = "toast_locations"


def partitions_for(settings: GroupSettings) -> dg.MultiPartitionsDefinition:
    """One partition per business date and location, dates up to yesterday."""
    dates = dg.DailyPartitionsDefinition(
        start_date=settings.first_date.isoformat(), timezone=settings.partition_timezone
    )
    locations: dg.PartitionsDefinition = (
        dg.DynamicPartitionsDefinition(name=LOCATIONS_PARTITIONS)
        if settings.discovers_locations
        else dg.StaticPartitionsDefinition(list(settings.locations))
    )
    return dg.MultiPartitionsDefinition({DATE: dates, LOCATION: locations})


def partition_key(location_id: str, business_date: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DATE: business_date.isoformat(), LOCATION: location_id})


def split_key(key: str | dg.MultiPartitionKey) -> tuple[str, date]:
    """(location, business date) of a partition key such as `2024-03-05|185129`."""
    if not isinstance(key, dg.MultiPartitionKey):
        day, _, location_id = key.partition("|")
        return location_id, date.fromisoformat(day)
    dimensions = key.keys_by_dimension
    return dimensions[LOCATION], date.fromisoformat(dimensions[DATE])


def dates_partitions(partitions_def: dg.MultiPartitionsDefinition) -> dg.DailyPartitionsDefinition:
    return partitions_def.get_partitions_def_for_dimension(DATE)


def has_date(partitions_def: dg.MultiPartitionsDefinition, business_date: date) -> bool:
    """Whether the date dimension holds the date (from the first start date up to yesterday)."""
    return dates_partitions(partitions_def).has_partition_key(business_date.isoformat())


def known_locations(
    instance: dg.DagsterInstance, partitions_def: dg.MultiPartitionsDefinition
) -> list[str]:
    """The locations the partitions hold: listed ones, or those added to the instance."""
    dimension = partitions_def.get_partitions_def_for_dimension(LOCATION)
    if isinstance(dimension, dg.DynamicPartitionsDefinition):
        return list(instance.get_dynamic_partitions(LOCATIONS_PARTITIONS))
    return list(dimension.get_partition_keys())


def add_locations(
    instance: dg.DagsterInstance,
    partitions_def: dg.MultiPartitionsDefinition,
    location_ids: Iterable[str],
) -> list[str]:
    """Add discovered locations to a dynamic dimension; returns those that were new."""
    dimension = partitions_def.get_partitions_def_for_dimension(LOCATION)
    if not isinstance(dimension, dg.DynamicPartitionsDefinition):
        return []
    known = set(instance.get_dynamic_partitions(LOCATIONS_PARTITIONS))
    new = [location_id for location_id in dict.fromkeys(location_ids) if location_id not in known]
    if new:
        instance.add_dynamic_partitions(LOCATIONS_PARTITIONS, new)
    return new
