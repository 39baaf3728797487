"""The sensor that loads each new date folder once it has settled on the server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, EXPECTED_FILES_KEY, FINGERPRINT_KEY
from toast_pipeline.resources.source import ExportSource
from toast_pipeline.settings import LocationSettings
from toast_pipeline.toast.arrivals import (
    EXPECTED_FILES,
    Arrivals,
    Listing,
    folders_to_look_at,
    forget_missing,
    remember_loaded,
    settle,
)

# Toast keeps a week of exports; re-deliveries older than this are not expected.
RECHECK_DAYS = 8


def build_new_folder_sensor(
    settings: LocationSettings,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.PartitionsDefinition,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="toast_new_folders",
        job=job,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=default_status,
        description=(
            "Requests each new (or re-delivered) date folder once the files the location normally "
            "receives are present and unchanged across two looks, or after the maximum wait."
        ),
    )
    def toast_new_folders(context: dg.SensorEvaluationContext, source: ExportSource):
        arrivals = Arrivals.from_json(context.cursor)
        folders = [
            f
            for f in source.list_date_folders(settings.location_id)
            if partitions_def.has_partition_key(f.business_date.isoformat())
        ]
        forget_missing(arrivals, [f.business_date for f in folders])
        mtimes = {f.business_date: f.mtime.timestamp() for f in folders}
        unseen = [d for d in mtimes if d.isoformat() not in arrivals.folders]
        for day, fingerprint in loaded_fingerprints(context.instance, unseen).items():
            remember_loaded(arrivals, day, mtimes[day], fingerprint)
        recheck_after = max(mtimes, default=datetime.now(UTC).date()) - timedelta(days=RECHECK_DAYS)
        now = datetime.now(UTC)
        expected = latest_expected_files(context.instance)
        requests = []
        for day in folders_to_look_at(arrivals, mtimes.items(), recheck_after):
            listed = source.list_files(settings.location_id, day) or []
            listing = Listing.of(listed)
            ready = settle(
                arrivals, day, mtimes[day], listing, now, settings.folder_max_wait, expected
            )
            if ready:
                requests.append(
                    dg.RunRequest(
                        partition_key=day.isoformat(),
                        run_key=f"{day.isoformat()}:{ready}",
                        tags={"toast/trigger": "new_folder_sensor"},
                    )
                )
        context.update_cursor(arrivals.to_json())
        if not requests:
            return dg.SkipReason("no new or changed date folder has settled")
        return requests

    return toast_new_folders


def loaded_fingerprints(instance: dg.DagsterInstance, dates: list) -> dict:
    """The folder fingerprint each date was last loaded from, read from its materializations."""
    if not dates:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=BUSINESS_DAYS_KEY, asset_partitions=[d.isoformat() for d in dates]
        ),
        limit=10 * len(dates),
    ).records
    found = {}
    for record in records:
        materialization = record.asset_materialization
        fingerprint = materialization.metadata.get(FINGERPRINT_KEY) if materialization else None
        day = date.fromisoformat(materialization.partition) if materialization else None
        if fingerprint is not None and day not in found:
            found[day] = fingerprint.value
    return found


def latest_expected_files(instance: dg.DagsterInstance, look_back: int = 20) -> frozenset[str]:
    """The file set the latest load learnt for the location (all seven before any load)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY), limit=look_back, ascending=False
    ).records
    for record in records:
        materialization = record.asset_materialization
        entry = materialization.metadata.get(EXPECTED_FILES_KEY) if materialization else None
        if entry is not None:
            return frozenset(entry.value)
    return EXPECTED_FILES
