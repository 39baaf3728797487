"""The code location: assets, check, job and resources, built when Dagster loads it.

Everything is decided inside the `@definitions` function, not at import: the location's settings
come from the environment then, secrets are bound with `EnvVar` and resolved only when a run starts.

With no server configured (no TOAST_SFTP_HOST, and not TOAST_SOURCE=archive) the location still
loads, so `dagster dev` on a fresh checkout shows it, but its sensor and schedule stay stopped and
its job says what to set; a run started by hand fails on the missing TOAST_SFTP_HOST.
"""

from __future__ import annotations

import os

import dagster as dg

from toast_pipeline.defs.analysis_assets import analysis_automation_sensor, build_analysis_assets
from toast_pipeline.defs.assets import GROUP, build_toast_assets
from toast_pipeline.defs.factories import archive_from_env, source_from_env, warehouse_from_env
from toast_pipeline.defs.partitions import partitions_for
from toast_pipeline.defs.schedules import build_daily_schedules
from toast_pipeline.defs.sensors import build_new_folder_sensor
from toast_pipeline.resources.archive import RawArchive
from toast_pipeline.resources.source import ExportSource
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings

DAILY_JOB = "toast_daily"
NOT_CONFIGURED = (
    "set TOAST_SFTP_HOST, TOAST_SFTP_USERNAME and TOAST_START_DATE (or "
    "TOAST_SOURCE=archive to read the raw archive) in the environment Dagster loads this code "
    "location in."
)


def build_definitions(
    settings: GroupSettings,
    *,
    source: ExportSource,
    archive: RawArchive,
    warehouse: Warehouse,
    watch_server: bool = True,
) -> dg.Definitions:
    """The whole code location for a Toast group (one location or many); tests pass their own
    resources.

    `watch_server=False` leaves the new-folder sensor stopped (it can be started in the UI); without
    a server (`settings.has_server`) the schedule is stopped too.
    """
    partitions_def = partitions_for(settings)
    toast_assets = build_toast_assets(settings, partitions_def)
    description = (
        "Load Toast export dates of each location into the warehouse and judge each location-date "
        "open or closed."
    )
    if not settings.has_server:
        description += f" Nothing to load from yet: {NOT_CONFIGURED}"
    daily_job = dg.define_asset_job(
        DAILY_JOB, selection=dg.AssetSelection.groups(GROUP), description=description
    )
    return dg.Definitions(
        assets=[toast_assets, *build_analysis_assets(settings)],
        jobs=[daily_job],
        sensors=[
            build_new_folder_sensor(
                settings,
                daily_job,
                partitions_def,
                dg.DefaultSensorStatus.RUNNING if watch_server else dg.DefaultSensorStatus.STOPPED,
            ),
            analysis_automation_sensor(),
        ],
        schedules=build_daily_schedules(
            settings,
            daily_job,
            partitions_def,
            dg.DefaultScheduleStatus.RUNNING
            if settings.has_server
            else dg.DefaultScheduleStatus.STOPPED,
        ),
        resources={"source": source, "archive": archive, "warehouse": warehouse},
        # One step per run: a subprocess per step would only add start-up time.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    env = os.environ
    settings = GroupSettings.from_env(env)
    archive = archive_from_env(env)
    return build_definitions(
        settings,
        source=source_from_env(settings, env, archive),
        archive=archive,
        warehouse=warehouse_from_env(settings, env),
        # Without a server to watch, the sensor would only log a configuration error every tick.
        watch_server=settings.watches_server,
    )
