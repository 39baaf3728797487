"""The production instance's run queue: every run of one location is tagged `toast/location`.

`deploy/dagster.yaml` lets one run per location run at a time (a `tag_concurrency_limits` entry
on this tag, one run per value): a location's runs re-judge its neighbouring dates, so two of them
at once could judge from each other's half-written history. Dagster tags a single-partition run
with `dagster/partition/location`, but every backfill run of the Toast assets is a ranged run
(their backfill policy makes it so, even for one date) and carries only the range's first and
last keys, `dagster/asset_partition_range_start` and `_end`. No instance setting derives a tag
from those, so this coordinator adds the location's tag as a run is queued, whoever created it
(a backfill of the daemon, of the UI or of `toast-pipeline backfill`, a sensor, a schedule).
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from toast_pipeline.defs.partitions import split_key

LOCATION_TAG = "toast/location"
PARTITION_LOCATION_TAG = "dagster/partition/location"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def location_of(tags: Mapping[str, str]) -> str | None:
    """The one location a run covers; None for a run of no partition or of several locations.

    A range of the date × location partitions is a rectangle, so a range whose first and last
    keys name the same location covers that location alone.
    """
    if tags.get(PARTITION_LOCATION_TAG):
        return tags[PARTITION_LOCATION_TAG]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if not start or not end or "|" not in start or "|" not in end:
        return None
    first, last = split_key(start)[0], split_key(end)[0]
    return first if first == last else None


class LocationTaggingRunCoordinator(dg.QueuedRunCoordinator):
    """Dagster's queued run coordinator (same configuration, same `concurrency:` limits), which
    tags each run with its location before queueing it."""

    def submit_run(self, context: dg.SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        location = location_of(run.tags)
        if location is not None and run.tags.get(LOCATION_TAG) != location:
            # Stored before the run is queued; the queue reads the run's tags from storage.
            self._instance.add_run_tags(run.run_id, {LOCATION_TAG: location})
        return super().submit_run(context)
