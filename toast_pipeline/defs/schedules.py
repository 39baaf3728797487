"""The daily safety net: load yesterday at a set local time, unless the sensor already did."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
from toast_pipeline.settings import LocationSettings


def build_daily_schedule(
    settings: LocationSettings,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.PartitionsDefinition,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    hour, minute = settings.schedule_time

    @dg.schedule(
        name="toast_daily_safety_net",
        job=job,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=settings.timezone,
        default_status=default_status,
        description="Loads yesterday's business date if the new-folder sensor has not.",
    )
    def toast_daily_safety_net(context: dg.ScheduleEvaluationContext):
        local_now = context.scheduled_execution_time.astimezone(ZoneInfo(settings.timezone))
        yesterday = (local_now.date() - timedelta(days=1)).isoformat()
        if not partitions_def.has_partition_key(yesterday):
            return dg.SkipReason(f"{yesterday} is not a partition")
        loaded = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY, asset_partitions=[yesterday]),
            limit=1,
        ).records
        if loaded:
            return dg.SkipReason(f"{yesterday} is already loaded")
        return dg.RunRequest(partition_key=yesterday, run_key=f"schedule:{yesterday}")

    return toast_daily_safety_net
