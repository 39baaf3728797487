"""The sensor that finds the group's locations and loads each new date folder once it has settled.

One tick lists the root once (new numbered folders become locations, when they are discovered
rather than listed), then each location's date folders once; only folders that are new or changed
are listed further. The cursor keeps each location's arrivals apart.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, EXPECTED_FILES_KEY, FINGERPRINT_KEY
from toast_pipeline.defs.partitions import (
    LOCATIONS_PARTITIONS,
    has_date,
    known_locations,
    partition_key,
    split_key,
)
from toast_pipeline.resources.source import ExportSource, LocationNotFound
from toast_pipeline.settings import GroupSettings
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
    settings: GroupSettings,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.MultiPartitionsDefinition,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    @dg.sensor(
        name="toast_new_folders",
        job=job,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=default_status,
        description=(
            "Adds new location folders (unless TOAST_LOCATIONS lists them) and requests each new "
            "(or re-delivered) date folder once the files its location normally receives are "
            "present and unchanged across two looks, or after the maximum wait."
        ),
    )
    def toast_new_folders(context: dg.SensorEvaluationContext, source: ExportSource):
        cursor = GroupCursor.from_json(context.cursor)
        locations = watched_locations(settings, source)
        new = sorted(set(locations) - set(known_locations(context.instance, partitions_def)))
        now = datetime.now(UTC)
        expected = latest_expected_files(context.instance, len(locations))
        requests = []
        for location_id in locations:
            arrivals = cursor.arrivals.setdefault(location_id, Arrivals())
            start = settings.location(location_id).start_date
            try:
                listed = source.list_date_folders(location_id)
            except LocationNotFound as exc:
                context.log.warning(str(exc))  # one listed location gone must not stop the rest
                continue
            folders = [
                f
                for f in listed
                if f.business_date >= start and has_date(partitions_def, f.business_date)
            ]
            forget_missing(arrivals, [f.business_date for f in folders])
            mtimes = {f.business_date: f.mtime.timestamp() for f in folders}
            unseen = [d for d in mtimes if d.isoformat() not in arrivals.folders]
            loaded = loaded_fingerprints(context.instance, location_id, unseen)
            for day, fingerprint in loaded.items():
                remember_loaded(arrivals, day, mtimes[day], fingerprint)
            recheck_after = max(mtimes, default=now.date()) - timedelta(days=RECHECK_DAYS)
            wanted = expected.get(location_id, EXPECTED_FILES)
            for day in folders_to_look_at(arrivals, mtimes.items(), recheck_after):
                listing = Listing.of(source.list_files(location_id, day) or [])
                ready = settle(
                    arrivals, day, mtimes[day], listing, now, settings.folder_max_wait, wanted
                )
                if ready:
                    key = partition_key(location_id, day)
                    requests.append(
                        dg.RunRequest(
                            partition_key=key,
                            run_key=f"{key}:{ready}",
                            tags={
                                "toast/trigger": "new_folder_sensor",
                                "toast/location": location_id,
                            },
                        )
                    )
        if new and settings.discovers_locations:
            context.log.info(f"new locations: {', '.join(new)}")
        return dg.SensorResult(
            run_requests=requests,
            skip_reason=None if requests or new else "no new or changed date folder has settled",
            cursor=cursor.to_json(),
            dynamic_partitions_requests=(
                [dg.AddDynamicPartitionsRequest(LOCATIONS_PARTITIONS, new)]
                if new and settings.discovers_locations
                else None
            ),
        )

    return toast_new_folders


class GroupCursor:
    """Each location's `Arrivals`, as one JSON object keyed by location."""

    def __init__(self, arrivals: dict[str, Arrivals] | None = None) -> None:
        self.arrivals = arrivals or {}

    def to_json(self) -> str:
        return json.dumps(
            {"locations": {k: json.loads(v.to_json()) for k, v in sorted(self.arrivals.items())}}
        )

    @classmethod
    def from_json(cls, text: str | None) -> GroupCursor:
        """A cursor of an earlier, one-location version is dropped: the sensor rebuilds it from
        the instance's materializations (each loaded folder's fingerprint)."""
        document = json.loads(text) if text else {}
        stored = document.get("locations", {}) if isinstance(document, dict) else {}
        return cls({k: Arrivals.from_json(json.dumps(v)) for k, v in stored.items()})


def watched_locations(settings: GroupSettings, source: ExportSource) -> list[str]:
    """Listed locations, or the numbered folders under the root (one listing)."""
    if settings.locations:
        return list(settings.locations)
    return [name for name in source.list_locations() if settings.accepts(name)]


def loaded_fingerprints(
    instance: dg.DagsterInstance, location_id: str, dates: list[date]
) -> dict[date, str]:
    """The folder fingerprint each of the location's dates was last loaded from, read from its
    materializations."""
    if not dates:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=BUSINESS_DAYS_KEY,
            asset_partitions=[str(partition_key(location_id, d)) for d in dates],
        ),
        limit=10 * len(dates),
    ).records
    found: dict[date, str] = {}
    for record in records:
        materialization = record.asset_materialization
        fingerprint = materialization.metadata.get(FINGERPRINT_KEY) if materialization else None
        if fingerprint is None:
            continue
        _, day = split_key(materialization.partition)
        found.setdefault(day, fingerprint.value)
    return found


def latest_expected_files(
    instance: dg.DagsterInstance, locations: int, look_back: int = 20
) -> dict[str, frozenset[str]]:
    """Per location, the file set its latest load learnt (a location missing here: all seven)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY),
        limit=look_back * max(locations, 1),
        ascending=False,
    ).records
    found: dict[str, frozenset[str]] = {}
    for record in records:
        materialization = record.asset_materialization
        entry = materialization.metadata.get(EXPECTED_FILES_KEY) if materialization else None
        if entry is not None and materialization.partition:
            location_id, _ = split_key(materialization.partition)
            found.setdefault(location_id, frozenset(entry.value))
    return found
