"""The seven Toast tables and `business_days` as daily-partitioned assets, with the closure check.

One step reads a date's folder once and serves every selected table. A run may cover several
dates (a ranged backfill run): each date is fetched, judged and written on its own, and gets its
own materialization and check evaluation, so per-date truth survives batching. A date whose files
are malformed writes nothing and fails alone; the other dates of the run still load.
"""


import warnings
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import dagster as dg

# Dagster builds this pointer itself only for single-partition runs; a ranged run must pass it
# so each date's evaluation is tied to that date's materialization.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from pydantic import Field as ConfigField

from toast_pipeline.closures import ClosureThresholds
from toast_pipeline.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES, DayLoad, build_day_load
from toast_pipeline.export.parse import ExportParseError, polars_dtype
from toast_pipeline.export.specs import SPECS_BY_TABLE, TABLE_SPECS
from toast_pipeline.resources.sftp import ExportSource, IncompleteFileError
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import LocationSettings

GROUP = "toast"
CLOSURE_CHECK = "closure_detection"
BUSINESS_DAYS_KEY = dg.AssetKey([GROUP, BUSINESS_DAYS])
# Only Toast's seven files are downloaded; the folder's other exports are listed, not read.
TOAST_FILES = tuple(spec.file_name for spec in TABLE_SPECS)


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


class LoadConfig(dg.Config):
    """Closure thresholds (the seed's values by default): a date below any of them is closed."""

    min_files: int = ConfigField(default=4, description="Fewer Toast files than this: closed")
    min_records: int = ConfigField(default=10, description="Fewer data rows than this: closed")
    min_net_sales: str = ConfigField(default="50", description="Net sales below this: closed")

    def thresholds(self) -> ClosureThresholds:
        try:
            sales = Decimal(self.min_net_sales)
        except InvalidOperation:
            raise ValueError(f"min_net_sales must be a decimal amount, got {self.min_net_sales!r}") from None
        return ClosureThresholds(self.min_files, self.min_records, sales)


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(f.name, str(polars_dtype(f.kind, f.scale)), description=f.description or None)
            for f in WAREHOUSE_TABLES[table]
        ]
    )


def build_toast_assets(settings: LocationSettings, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            asset_key(table),
            description=(
                SPECS_BY_TABLE[table].description + f" From Toast's {SPECS_BY_TABLE[table].file_name}."
                if table in SPECS_BY_TABLE
                else "One row per business date: open or closed, why, and what was delivered."
            ),
            partitions_def=partitions_def,
            group_name=GROUP,
            kinds={"polars", settings.warehouse},
            skippable=True,
            metadata={"dagster/column_schema": column_schema(table)},
        )
        for table in WAREHOUSE_TABLES
    ]
    with warnings.catch_warnings():
        # Partition-aware checks are a Dagster preview that this project relies on by design.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        closure_check = dg.AssetCheckSpec(
            CLOSURE_CHECK,
            asset=BUSINESS_DAYS_KEY,
            partitions_def=partitions_def,
            description=(
                "Per date: open, or closed (no_files, insufficient_files, low_activity, low_sales). "
                "A closed date fails with WARN severity; its metadata holds the numbers."
            ),
        )

    @dg.multi_asset(
        name="toast_export",
        specs=specs,
        check_specs=[closure_check],
        can_subset=True,
        # Backfills run batches of dates; each date still gets its own materialization,
        # check evaluation and failure (see the loop below).
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=settings.batch_size),
    )
    def toast_export(
        context: dg.AssetExecutionContext,
        config: LoadConfig,
        source: ExportSource,
        warehouse: Warehouse,
    ):
        thresholds = config.thresholds()
        selected = [key.path[-1] for key in context.selected_asset_keys]
        check_selected = bool(context.selected_asset_check_keys)
        failures: dict[str, str] = {}
        with warehouse.session():
            for partition_key in context.partition_keys:
                business_date = date.fromisoformat(partition_key)
                try:
                    delivery = source.fetch(settings.location_id, business_date, names=TOAST_FILES)
                    day = build_day_load(
                        settings.location_id,
                        business_date,
                        delivery.files,
                        loaded_at=datetime.now(UTC),
                        timezone=settings.timezone,
                        thresholds=thresholds,
                        other_files=[f.name for f in delivery.listing if f.name not in TOAST_FILES],
                    )
                except (ExportParseError, IncompleteFileError) as exc:
                    context.log.error(f"{partition_key} not loaded: {exc}")
                    failures[partition_key] = str(exc)
                    continue
                warehouse.replace_date(
                    settings.location_id, business_date, {t: day.tables[t] for t in selected}
                )
                for table in selected:
                    yield dg.AssetMaterialization(
                        asset_key=asset_key(table),
                        partition=partition_key,
                        metadata=materialization_metadata(day, table),
                    )
                if check_selected:
                    yield closure_evaluation(context, day, partition_key, thresholds)
        if failures:
            raise dg.Failure(
                description="; ".join(f"{d} not loaded: {e}" for d, e in failures.items()),
                metadata={"failed_dates": dg.MetadataValue.json(failures)},
                allow_retries=False,
            )

    return toast_export


def materialization_metadata(day: DayLoad, table: str) -> dict[str, object]:
    frame = day.tables[table]
    markers = int(frame.get_column("closure_indicator").sum()) if "closure_indicator" in frame.columns else 0
    metadata: dict[str, object] = {
        "dagster/row_count": frame.height - markers,
        "closure_marker_rows": markers,
        "day_status": day.verdict.status,
        "dagster/column_schema": column_schema(table),
    }
    if day.verdict.reason is not None:
        metadata["closure_reason"] = str(day.verdict.reason)
    files = [day.source_files[table]] if table in day.source_files else list(day.source_files.values())
    metadata["source_files"] = dg.MetadataValue.json(
        [{"path": f.path, "size_bytes": f.size, "sha256": f.sha256} for f in files]
    )
    notes = day.drift.get(table, []) if table != BUSINESS_DAYS else [n for ns in day.drift.values() for n in ns]
    if table == BUSINESS_DAYS:
        metadata["rows_loaded"] = day.summary.records
    if table == BUSINESS_DAYS and day.ignored_files:
        notes = notes + [f"other file ignored: {name}" for name in day.ignored_files]
    metadata["drift_notes"] = dg.MetadataValue.json(notes)
    return metadata


def closure_evaluation(
    context: dg.AssetExecutionContext, day: DayLoad, partition_key: str, thresholds: ClosureThresholds
) -> dg.AssetCheckEvaluation:
    """One evaluation per date, bound to that date's business_days materialization."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY, asset_partitions=[partition_key]), limit=1
    ).records
    target = (
        AssetCheckEvaluationTargetMaterializationData(
            storage_id=records[0].storage_id, run_id=records[0].run_id, timestamp=records[0].timestamp
        )
        if records
        else None
    )
    summary, verdict = day.summary, day.verdict
    return dg.AssetCheckEvaluation(
        asset_key=BUSINESS_DAYS_KEY,
        check_name=CLOSURE_CHECK,
        passed=verdict.is_open,
        partition=partition_key,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{verdict.status}: {verdict.explanation}",
        target_materialization_data=target,
        metadata={
            "status": verdict.status,
            "reason": str(verdict.reason) if verdict.reason else "open",
            "explanation": verdict.explanation,
            "files_found": summary.files_found,
            "records": summary.records,
            "orders": summary.orders,
            "net_sales": dg.MetadataValue.text(str(summary.net_sales)),
            "rows_per_table": dg.MetadataValue.json(summary.rows),
            "thresholds": dg.MetadataValue.json(
                {
                    "min_files": thresholds.min_files,
                    "min_records": thresholds.min_records,
                    "min_net_sales": str(thresholds.min_net_sales),
                }
            ),
        },
    )
