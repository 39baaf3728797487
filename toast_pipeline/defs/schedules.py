"""The daily safety net: load yesterday at a set local time, unless the sensor already did.

"Yesterday" is each location's own: one schedule per time zone of the group (the group's zone, and
any a location sets in the locations file), each requesting the locations in its zone.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
from toast_pipeline.defs.partitions import has_date, known_locations, partition_key, split_key
from toast_pipeline.settings import GroupSettings

SCHEDULE = "toast_daily_safety_net"


def schedule_name(settings: GroupSettings, timezone: str) -> str:
    if timezone == settings.timezone:
        return SCHEDULE
    return f"{SCHEDULE}_{re.sub(r'[^a-z0-9]+', '_', timezone.lower())}"


def build_daily_schedules(
    settings: GroupSettings,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.MultiPartitionsDefinition,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> list[dg.ScheduleDefinition]:
    return [
        build_daily_schedule(settings, job, partitions_def, timezone, default_status)
        for timezone in settings.timezones
    ]


def build_daily_schedule(
    settings: GroupSettings,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.MultiPartitionsDefinition,
    timezone: str,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    hour, minute = settings.schedule_time

    @dg.schedule(
        name=schedule_name(settings, timezone),
        job=job,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=timezone,
        default_status=default_status,
        description=f"Loads yesterday's business date of each location in {timezone} if the "
        "new-folder sensor has not.",
    )
    def toast_daily_safety_net(context: dg.ScheduleEvaluationContext):
        local_now = context.scheduled_execution_time.astimezone(ZoneInfo(timezone))
        yesterday = local_now.date() - timedelta(days=1)
        if not has_date(partitions_def, yesterday):
            return dg.SkipReason(f"{yesterday} is not a partition")
        locations = [
            location_id
            for location_id in known_locations(context.instance, partitions_def)
            if settings.location(location_id).timezone == timezone
            and settings.location(location_id).start_date <= yesterday
        ]
        keys = [str(partition_key(location_id, yesterday)) for location_id in locations]
        loaded = context.instance.get_materialized_partitions(BUSINESS_DAYS_KEY)
        requests = [
            dg.RunRequest(
                partition_key=key,
                run_key=f"schedule:{key}",
                tags={"toast/location": split_key(key)[0]},
            )
            for key in keys
            if key not in loaded
        ]
        if not requests:
            return dg.SkipReason(f"{yesterday} is already loaded for every location in {timezone}")
        return requests

    return toast_daily_safety_net
