"""`toast-pipeline adopt`: tell a Dagster instance of the one-location version which location-dates
the warehouse already holds, under the group's partition keys.

The one-location version partitioned every `toast/*` asset by date alone (`2024-04-04`); the group
version partitions them by date and location (`2024-04-04|185129`). Dagster does not migrate
partition keys: an instance that ran the old version keeps its history in its event log under the
old keys (each asset's events still list those runs and their metadata), but the partitions view
only knows the new keys, so it shows every location-date as missing and the sensor and the
schedule find nothing loaded. Nothing here deletes or rewrites that old history.

The warehouse is the record of what is loaded, so this command reads each location's
`business_days` rows and reports every stored location-date to the instance as materialized under
its new key: one runless `AssetMaterialization` per `toast/*` table, carrying the metadata a load
writes where the warehouse holds it (`dagster/row_count`, `closure_marker_rows`, `day_status`,
`closure_reason`; on `business_days` also `rows_loaded` and `expected_file_names`) and
`adopted_from_warehouse: true`. Then the closure check's result for that date, from the stored
verdict (passed when open; a closed date fails with WARN severity, a delivery gap with ERROR),
bound to the new `business_days` materialization as a run binds it. On the location whose history
the old keys hold, each date's `folder_fingerprint` is copied from its last old load, so the sensor
knows those folders are loaded and does not request them again.

Locations are added to the instance's dynamic location dimension first (a materialization of a
location the instance does not list is stored, but the UI does not count it). A location-date whose
eight assets are already materialized under the new key is skipped, so a second run reports
nothing. Nothing is fetched, parsed or written to the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
import polars as pl
from rich.console import Console

from toast_pipeline.defs.assets import (
    BUSINESS_DAYS_KEY,
    CLOSURE_CHECK,
    EXPECTED_FILES_KEY,
    FINGERPRINT_KEY,
    LoadConfig,
    asset_key,
)
from toast_pipeline.defs.partitions import add_locations, has_date, partition_key
from toast_pipeline.settings import GroupSettings, LocationSettings, SettingsError
from toast_pipeline.toast.arrivals import file_names
from toast_pipeline.toast.baselines import expected_files, summaries_from_business_days
from toast_pipeline.toast.daily_load import BUSINESS_DAYS
from toast_pipeline.toast.specs import TABLE_SPECS

ADOPTED_KEY = "adopted_from_warehouse"
# business_days last: a location-date counts as adopted once its business_days partition is.
TABLES = [spec.table for spec in TABLE_SPECS] + [BUSINESS_DAYS]
# Partition keys per event-log query.
CHUNK = 500


@dataclass(frozen=True)
class AdoptRequest:
    locations: tuple[str, ...] = ()
    dry_run: bool = False
    # The location the old date-only partitions belong to (default: TOAST_LOCATION_ID, else the
    # warehouse's only location).
    previous_location: str | None = None


@dataclass
class LocationAdoption:
    """One location: what the warehouse holds and what the instance is (or would be) told."""

    location: LocationSettings
    stored: int = 0
    adopted: list[date] = field(default_factory=list)
    already: int = 0  # every asset already materialized under the new key
    outside: list[date] = field(default_factory=list)  # stored, but not a partition
    materializations: int = 0
    checks: int = 0
    fingerprints: int = 0  # folder fingerprints carried over from the old keys

    def line(self, dry_run: bool) -> str:
        verb = "would adopt" if dry_run else "adopted"
        text = (
            f"{self.location.display_name}: {counted(self.stored, 'date')} in the warehouse; "
            f"{verb} {len(self.adopted)} ({counted(self.materializations, 'materialization')}, "
            f"{counted(self.checks, 'check result')}), {self.already} already materialized"
        )
        if self.fingerprints:
            text += (
                f"; folder fingerprints of {counted(self.fingerprints, 'date')} taken from the "
                "old partitions"
            )
        if self.outside:
            text += (
                f"; {len(self.outside)} not partitions, left out (before the group's first date "
                f"or after yesterday: {self.outside[0]} …)"
            )
        return text


@dataclass(frozen=True)
class Planned:
    """One location-date to adopt: its stored row and the tables not yet materialized."""

    business_date: date
    key: str
    row: Mapping[str, object]
    tables: list[str]


def adopt_command(env: Mapping[str, str], request: AdoptRequest, console: Console) -> int:
    """The whole command: the warehouse of the TOAST_* environment, the instance of DAGSTER_HOME
    (or the project's)."""
    from toast_pipeline.commands.instance import dagster_home, open_instance
    from toast_pipeline.defs.factories import warehouse_from_env
    from toast_pipeline.defs.partitions import partitions_for

    if not env.get("TOAST_START_DATE"):
        raise SettingsError(
            "TOAST_START_DATE must be set as the code location has it: the date partitions "
            "start there"
        )
    settings = GroupSettings.from_env(env)
    refused = [i for i in request.locations if not settings.accepts(i)]
    if refused:
        allowed = ", ".join(settings.locations) or "numbered folders"
        raise SettingsError(
            f"--locations {' '.join(refused)}: not locations of this group ({allowed})"
        )
    partitions_def = partitions_for(settings)
    home = dagster_home(env)
    warehouse = warehouse_from_env(settings, env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        stored = resources.warehouse.locations()
        wanted = list(dict.fromkeys(request.locations)) or stored
        others = [i for i in wanted if not settings.accepts(i)]
        wanted = [i for i in wanted if settings.accepts(i)]
        days = {i: resources.warehouse.business_days(i) for i in wanted}
        described = resources.warehouse.describe()
    previous = request.previous_location or env.get("TOAST_LOCATION_ID", "").strip() or None
    if previous is None and len(stored) == 1:
        previous = stored[0]
    console.print(f"Instance {home}; warehouse {described}.", markup=False, highlight=False)
    for location_id in others:
        console.print(
            f"{location_id}: in the warehouse but not a location of this group "
            "(TOAST_LOCATIONS): not adopted",
            markup=False,
            highlight=False,
        )
    with open_instance(home) as instance:
        if not request.dry_run:
            new = add_locations(instance, partitions_def, wanted)
            if new:
                console.print(f"Locations added to the instance's partitions: {', '.join(new)}")
        results = []
        # Each location is printed once it is done: a long history takes a while to report.
        for result in adopt(
            instance,
            settings,
            partitions_def,
            days,
            previous_location=previous,
            dry_run=request.dry_run,
        ):
            console.print(result.line(request.dry_run), markup=False, highlight=False)
            results.append(result)
        old_dates = sorted(
            k for k in instance.get_materialized_partitions(BUSINESS_DAYS_KEY) if is_date_key(k)
        )
    console.print(
        f"{'Would adopt' if request.dry_run else 'Adopted'} "
        f"{counted(sum(len(r.adopted) for r in results), 'location-date')} "
        f"({counted(sum(r.materializations for r in results), 'materialization')}, "
        f"{counted(sum(r.checks for r in results), 'check result')}); "
        f"{sum(r.already for r in results)} already materialized. Nothing was reloaded."
        + (" Dry run: nothing was written to the instance." if request.dry_run else "")
    )
    if old_dates:
        console.print(
            f"The instance's history under the old date-only keys ({len(old_dates)} dates of "
            f"toast/business_days, {old_dates[0]} to {old_dates[-1]}) stays in its event log; "
            "Dagster does not move it to the new keys.",
            markup=False,
            highlight=False,
        )
    return 0


def adopt(
    instance: dg.DagsterInstance,
    settings: GroupSettings,
    partitions_def: dg.MultiPartitionsDefinition,
    business_days: Mapping[str, pl.DataFrame],
    *,
    previous_location: str | None = None,
    dry_run: bool = False,
) -> Iterator[LocationAdoption]:
    """Report each stored location-date (`business_days` per location) as materialized under its
    new key, with its check result; skip those already materialized. Locations must already be
    partitions (`add_locations`)."""
    materialized = {t: set(instance.get_materialized_partitions(asset_key(t))) for t in TABLES}
    rules = LoadConfig().rules()
    for location_id, days in business_days.items():
        result = LocationAdoption(settings.location(location_id), stored=days.height)
        planned: list[Planned] = []
        for row in days.iter_rows(named=True):
            business_date = row["business_date"]
            if not has_date(partitions_def, business_date):
                result.outside.append(business_date)
                continue
            key = str(partition_key(location_id, business_date))
            missing = [t for t in TABLES if key not in materialized[t]]
            if not missing:
                result.already += 1
                continue
            planned.append(Planned(business_date, key, row, missing))
        result.adopted = [p.business_date for p in planned]
        result.materializations = sum(len(p.tables) for p in planned)
        checked = [p for p in planned if BUSINESS_DAYS in p.tables]
        result.checks = len(checked)
        fingerprints = (
            old_fingerprints(instance, [p.business_date for p in checked])
            if location_id == previous_location
            else {}
        )
        result.fingerprints = sum(p.business_date in fingerprints for p in checked)
        if dry_run or not planned:
            yield result
            continue
        facts = summaries_from_business_days(days)
        for item in planned:
            expected = file_names(expected_files(item.business_date, facts, rules))
            for table in item.tables:
                metadata = materialization_metadata(item.row, table)
                if table == BUSINESS_DAYS:
                    metadata[EXPECTED_FILES_KEY] = dg.MetadataValue.json(sorted(expected))
                    if item.business_date in fingerprints:
                        metadata[FINGERPRINT_KEY] = fingerprints[item.business_date]
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(
                        asset_key=asset_key(table), partition=item.key, metadata=metadata
                    )
                )
        targets = latest_records(instance, [p.key for p in checked])
        for item in checked:
            instance.report_runless_asset_event(
                check_evaluation(item.row, item.key, targets.get(item.key))
            )
        yield result


def materialization_metadata(row: Mapping[str, object], table: str) -> dict[str, object]:
    """What a load writes on a table's materialization, as far as the stored row says it."""
    status = str(row["status"])
    metadata: dict[str, object] = {
        "day_status": status,
        ADOPTED_KEY: True,
    }
    if row.get("closure_reason") is not None:
        metadata["closure_reason"] = str(row["closure_reason"])
    if table == BUSINESS_DAYS:
        metadata["dagster/row_count"] = 1
        metadata["closure_marker_rows"] = 0
        if row.get("records") is not None:
            metadata["rows_loaded"] = int(row["records"])
        return metadata
    rows = row.get(f"{table}_rows")
    if rows is not None:
        metadata["dagster/row_count"] = int(rows)
        # As when it was loaded: a closed date has one marker row in each table it had no rows in.
        metadata["closure_marker_rows"] = int(status == "closed" and not rows)
    return metadata


def check_evaluation(
    row: Mapping[str, object], key: str, target: dg.EventLogRecord | None
) -> dg.AssetCheckEvaluation:
    """The closure check's result from the stored verdict, bound to the date's materialization."""
    from toast_pipeline.defs.dagster_internals import (
        AssetCheckEvaluationTargetMaterializationData,
    )

    status = str(row["status"])
    reason = row.get("closure_reason")
    explanation = str(row.get("explanation") or "")
    metadata: dict[str, object] = {
        "status": status,
        "reason": str(reason) if reason else "open",
        "explanation": explanation,
        ADOPTED_KEY: True,
    }
    for name in ("files_found", "records", "orders"):
        if row.get(name) is not None:
            metadata[name] = int(row[name])
    if row.get("net_sales") is not None:
        metadata["net_sales"] = dg.MetadataValue.text(str(row["net_sales"]))
    metadata["rows_per_table"] = dg.MetadataValue.json(
        {s.table: int(row[f"{s.table}_rows"]) for s in TABLE_SPECS if row.get(f"{s.table}_rows")}
    )
    return dg.AssetCheckEvaluation(
        asset_key=BUSINESS_DAYS_KEY,
        check_name=CLOSURE_CHECK,
        passed=status == "open",
        partition=key,
        severity=(
            dg.AssetCheckSeverity.ERROR if status == "delivery_gap" else dg.AssetCheckSeverity.WARN
        ),
        description=f"{status}: {explanation} (adopted from the warehouse)",
        target_materialization_data=(
            AssetCheckEvaluationTargetMaterializationData(
                storage_id=target.storage_id, run_id=target.run_id, timestamp=target.timestamp
            )
            if target is not None
            else None
        ),
        metadata=metadata,
    )


def latest_records(
    instance: dg.DagsterInstance, keys: Sequence[str]
) -> dict[str, dg.EventLogRecord]:
    """The latest business_days materialization of each partition key."""
    found: dict[str, dg.EventLogRecord] = {}
    for chunk in chunks(keys):
        for record in _all_records(instance, chunk):
            found.setdefault(record.partition_key, record)
    return found


def old_fingerprints(instance: dg.DagsterInstance, dates: Sequence[date]) -> dict[date, str]:
    """The folder fingerprint each date was last loaded from under its old date-only key."""
    found: dict[date, str] = {}
    for chunk in chunks([d.isoformat() for d in dates]):
        for record in _all_records(instance, chunk):
            materialization = record.asset_materialization
            entry = materialization.metadata.get(FINGERPRINT_KEY) if materialization else None
            if entry is not None:
                found.setdefault(date.fromisoformat(record.partition_key), entry.value)
    return found


def _all_records(instance: dg.DagsterInstance, partitions: list[str]) -> list[dg.EventLogRecord]:
    """Every business_days materialization of these partitions, newest first."""
    records, cursor = [], None
    while True:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY, asset_partitions=partitions),
            limit=CHUNK,
            cursor=cursor,
        )
        records += result.records
        if not result.has_more:
            return records
        cursor = result.cursor


def is_date_key(key: str) -> bool:
    """A key of the one-location version: a date alone (`2024-04-04`)."""
    try:
        date.fromisoformat(key)
    except ValueError:
        return False
    return True


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])
