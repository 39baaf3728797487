"""The seven Toast tables and `business_days` as assets partitioned by date × location, with the
closure check.

One step reads a location-date's folder once and serves every selected table. A run may cover
several dates (a ranged backfill run), even several locations: each location-date is fetched,
judged and written on its own, and gets its own materialization and check evaluation, so per-date
truth survives batching. A location-date whose files are malformed writes nothing and fails alone;
the others of the run still load.

Verdicts are learnt from each location's own stored history (`baselines.py`); after its dates are
written the run re-judges the stored dates of that location whose history they belong to
(`verdicts.py`), so a verdict never depends on the order dates were loaded in.
"""

import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial

import dagster as dg
from pydantic import Field as ConfigField

# Dagster builds this pointer itself only for single-partition runs; a ranged run must pass it
# so each date's evaluation is tied to that date's materialization.
from toast_pipeline.defs.dagster_internals import AssetCheckEvaluationTargetMaterializationData
from toast_pipeline.defs.partitions import partition_key, split_key
from toast_pipeline.resources.archive import RawArchive, archived_delivery
from toast_pipeline.resources.sftp import AuthenticationFailed, HostKeyRejected, SFTPConfigError
from toast_pipeline.resources.source import (
    ExportSource,
    FileTooLarge,
    IncompleteFileError,
    LocationNotFound,
)
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.resources.write_queue import WriteQueue
from toast_pipeline.settings import GroupSettings, LocationSettings
from toast_pipeline.toast.arrivals import Listing, file_names, still_arriving
from toast_pipeline.toast.baselines import ClosureRules, public_holidays
from toast_pipeline.toast.closures import ClosureThresholds, DaySummary, Verdict
from toast_pipeline.toast.daily_load import (
    BUSINESS_DAYS,
    WAREHOUSE_TABLES,
    DayLoad,
    ParsedDay,
    judged_day_load,
    parse_day,
)
from toast_pipeline.toast.delivery import Delivery
from toast_pipeline.toast.parse import ExportParseError, polars_dtype
from toast_pipeline.toast.polars_turn import POLARS_TURN
from toast_pipeline.toast.specs import SPECS_BY_TABLE, TABLE_SPECS
from toast_pipeline.toast.verdicts import VerdictBook

GROUP = "toast"
CLOSURE_CHECK = "closure_detection"
BUSINESS_DAYS_KEY = dg.AssetKey([GROUP, BUSINESS_DAYS])
# The folder listing a date was loaded from, so the sensor knows what is already loaded.
FINGERPRINT_KEY = "folder_fingerprint"
# The Toast files the location normally receives, so the sensor waits for those only.
EXPECTED_FILES_KEY = "expected_file_names"
# Only Toast's seven files are downloaded; the folder's other exports are listed, not read.
TOAST_FILES = tuple(spec.file_name for spec in TABLE_SPECS)
# Retrying these cannot help and could lock the account: the run fails at once.
NOT_RETRIED = (AuthenticationFailed, HostKeyRejected, SFTPConfigError, LocationNotFound)
# DuckDB has one writer: its runs take turns through this Dagster pool (limit 1 on the instance)
# instead of waiting on the file's lock. BigQuery takes writers in parallel: no pool.
DUCKDB_WRITER_POOL = "toast_duckdb_writer"
# Dates judged and queued for writing but not yet reported: bounds the frames held in memory.
MAX_UNREPORTED = 24


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


class LoadConfig(dg.Config):
    """Closure rules: learnt from history; the fixed floors apply while history is short."""

    closed_fraction: float = ConfigField(
        default=0.1,
        description="Closed below this share of the weekday's normal orders or net sales",
    )
    stray_orders: int = ConfigField(
        default=2, description="At most this many orders: stray rows, closed"
    )
    lookback_weeks: int = ConfigField(
        default=8, description="Weeks of history a baseline is learnt from"
    )
    max_missing_run: int = ConfigField(
        default=3,
        description="More missing folders in a row than this: a delivery gap, not closures",
    )
    min_files: int = ConfigField(default=4, description="Fewer Toast files than this: closed")
    min_records: int = ConfigField(
        default=10, description="Floor: fewer data rows than this: closed"
    )
    min_net_sales: str = ConfigField(
        default="50", description="Floor: net sales below this: closed"
    )

    def rules(self) -> ClosureRules:
        return ClosureRules(
            closed_fraction=self.closed_fraction,
            stray_orders=self.stray_orders,
            lookback_weeks=self.lookback_weeks,
            max_missing_run=self.max_missing_run,
            floors=self.thresholds(),
        )

    def thresholds(self) -> ClosureThresholds:
        try:
            sales = Decimal(self.min_net_sales)
        except InvalidOperation:
            raise ValueError(
                f"min_net_sales must be a decimal amount, got {self.min_net_sales!r}"
            ) from None
        return ClosureThresholds(self.min_files, self.min_records, sales)


def writer_pool(settings: GroupSettings) -> str | None:
    """The pool of every asset that writes to the warehouse: DuckDB's one writer, or none."""
    return DUCKDB_WRITER_POOL if settings.warehouse == "duckdb" else None


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                f.name, str(polars_dtype(f.kind, f.scale)), description=f.description or None
            )
            for f in WAREHOUSE_TABLES[table]
        ]
    )


def build_toast_assets(
    settings: GroupSettings, partitions_def: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            asset_key(table),
            description=(
                SPECS_BY_TABLE[table].description
                + f" From Toast's {SPECS_BY_TABLE[table].file_name}."
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
                "Per location and date: open, closed (no_files, insufficient_files, low_activity, low_sales) or "
                "a probable delivery gap. A closed date fails with WARN severity, a gap with ERROR; "
                "the metadata holds the numbers, the learnt baseline and the thresholds."
            ),
        )

    @dg.multi_asset(
        name="toast_export",
        specs=specs,
        check_specs=[closure_check],
        can_subset=True,
        pool=writer_pool(settings),
        # Backfills run batches of dates; each location-date still gets its own materialization,
        # check evaluation and failure (see the loop below).
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=settings.batch_size),
        # For an unreachable server; dates are replaced whole, so a retried run loads each once.
        retry_policy=dg.RetryPolicy(
            max_retries=settings.run_retries,
            delay=settings.run_retry_delay_seconds,
            backoff=dg.Backoff.EXPONENTIAL,
            jitter=dg.Jitter.PLUS_MINUS,
        ),
    )
    def toast_export(
        context: dg.AssetExecutionContext,
        config: LoadConfig,
        source: ExportSource,
        archive: RawArchive,
        warehouse: Warehouse,
    ):
        rules = config.rules()
        selected = [key.path[-1] for key in context.selected_asset_keys]
        check_selected = bool(context.selected_asset_check_keys)
        by_location: dict[str, list[date]] = {}
        for key in context.partition_keys:
            location_id, business_date = split_key(key)
            by_location.setdefault(location_id, []).append(business_date)
        failures: dict[str, str] = {}
        with warehouse.session():
            for location_id, dates in by_location.items():
                yield from load_location(
                    context,
                    settings.location(location_id),
                    sorted(dates),
                    rules,
                    selected,
                    check_selected,
                    failures,
                    (source, archive, warehouse),
                    settings.folder_max_wait,
                )
        if failures:
            raise dg.Failure(
                description="; ".join(f"{k} not loaded: {e}" for k, e in failures.items()),
                metadata={"failed_dates": dg.MetadataValue.json(failures)},
                allow_retries=False,
            )

    return toast_export


def load_location(
    context: dg.AssetExecutionContext,
    location: LocationSettings,
    dates: list[date],
    rules: ClosureRules,
    selected: list[str],
    check_selected: bool,
    failures: dict[str, str],
    resources: tuple[ExportSource, RawArchive, Warehouse],
    folder_max_wait: timedelta,
):
    """Load one location's dates of the run, judged against that location's own history; a date
    that cannot be loaded is added to `failures` (by partition key) and skipped.

    Four things overlap: the next dates download and parse in worker threads, their raw files
    are archived in another, the judged dates are written by a write queue (as many per
    transaction as have queued up), and the written dates' events are recorded meanwhile. A date
    is materialized only once its raw files are archived and its write has committed.
    """
    source, archive, warehouse = resources
    location_id = location.location_id
    calendar = public_holidays(location.holiday_country, location.holiday_subdivision)
    book = VerdictBook(warehouse.business_days(location_id), rules, calendar)
    written: list[date] = []
    with (
        closing(source.fetch_many(location_id, dates, names=TOAST_FILES)) as deliveries,
        ThreadPoolExecutor(1, thread_name_prefix="toast-parse") as parser,
        ThreadPoolExecutor(1, thread_name_prefix="toast-archive") as archiver,
        WriteQueue(partial(warehouse.replace_dates, location_id)) as writes,
    ):
        # Dates submitted and not yet reported, in order: the futures they wait on, their events.
        unreported: deque[tuple[list[Future[None]], Callable[[], Iterator]]] = deque()
        archiving: list[Future[None]] = []
        checked = 0
        for business_date, fetched, parsed in _parsed_ahead(dates, deliveries, parser, location_id):
            key = partition_key(location_id, business_date)
            expected = file_names(book.expected_tables(business_date))
            try:
                delivery = fetch_and_archive(
                    context,
                    fetched,
                    archive,
                    location_id,
                    business_date,
                    expected,
                    folder_max_wait,
                    keep=lambda d: archiving.append(archiver.submit(archive.keep, d)),
                )
                # A folder read back from the archive was not among the parsed downloads.
                parsed_day = (
                    parsed.result()
                    if delivery is fetched.result()
                    else parse_delivery(location_id, business_date, delivery)
                )
            except (ExportParseError, IncompleteFileError, FileTooLarge, DeliveryInProgress) as exc:
                context.log.error(f"{key} not loaded: {exc}")
                failures[str(key)] = str(exc)
                continue
            except NOT_RETRIED as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None
            with POLARS_TURN:
                day = judged_day_load(
                    parsed_day,
                    book.verdict_for(business_date, parsed_day.summary),
                    timezone=location.timezone,
                )
                if BUSINESS_DAYS in selected:
                    book.record(day.tables[BUSINESS_DAYS], day.summary)
                    written.append(business_date)
                materializations = day_materializations(day, delivery, expected, key, selected)
            # This date's archiving is checked with its write; a failed date's at the end.
            archived, checked = archiving[checked:], len(archiving)
            write = writes.submit(
                business_date, {t: day.tables[t] for t in selected}, after=archived
            )
            unreported.append(
                (
                    [*archived, write],
                    partial(day_events, context, day, materializations, key, check_selected, rules),
                )
            )
            # Report every date written so far; wait for the oldest when too many are in flight.
            while unreported and (
                len(unreported) > MAX_UNREPORTED or all(f.done() for f in unreported[0][0])
            ):
                yield from _once_done(*unreported.popleft())
        writes.flush()
        while unreported:
            yield from _once_done(*unreported.popleft())
        for archived_day in archiving:  # the dates that failed to parse were archived too
            archived_day.result()
    if written:
        yield from rejudge(
            context, warehouse, location_id, rules, calendar, written, check_selected
        )


def _parsed_ahead(
    dates: list[date],
    deliveries: Iterator[Future[Delivery]],
    parser: ThreadPoolExecutor,
    location_id: str,
    ahead: int = 2,
) -> Iterator[tuple[date, Future[Delivery], Future[ParsedDay]]]:
    """Each date with its download and its parse, the parse started a few dates ahead."""

    def parse(fetched: Future[Delivery], business_date: date) -> ParsedDay:
        delivery = fetched.result()
        return parse_delivery(location_id, business_date, delivery)

    pending: deque[tuple[date, Future[Delivery], Future[ParsedDay]]] = deque()
    for business_date, fetched in zip(dates, deliveries):
        pending.append((business_date, fetched, parser.submit(parse, fetched, business_date)))
        if len(pending) > ahead:
            yield pending.popleft()
    yield from pending


def parse_delivery(location_id: str, business_date: date, delivery: Delivery) -> ParsedDay:
    return parse_day(
        location_id,
        business_date,
        delivery.files,
        loaded_at=datetime.now(UTC),
        other_files=[f.name for f in delivery.listing if f.name not in TOAST_FILES],
    )


def _once_done(work: list[Future[None]], events: Callable[[], Iterator]) -> Iterator:
    """A date's events once its archiving and its write have succeeded (or their error)."""
    for task in work:
        task.result()
    yield from events()


def day_materializations(
    day: DayLoad, delivery: Delivery, expected: frozenset[str], key: str, selected: list[str]
) -> list[dg.AssetMaterialization]:
    """A date's materializations, one per selected table, built as soon as it is judged (their
    metadata reads its frames) and recorded once it is written."""
    materializations = []
    for table in selected:
        metadata = materialization_metadata(day, table)
        if table == BUSINESS_DAYS:
            metadata[FINGERPRINT_KEY] = Listing.of(delivery.listing).fingerprint
            metadata[EXPECTED_FILES_KEY] = dg.MetadataValue.json(sorted(expected))
        materializations.append(
            dg.AssetMaterialization(asset_key=asset_key(table), partition=key, metadata=metadata)
        )
    return materializations


def day_events(
    context: dg.AssetExecutionContext,
    day: DayLoad,
    materializations: list[dg.AssetMaterialization],
    key: str,
    check_selected: bool,
    rules: ClosureRules,
) -> Iterator:
    """A written date's materializations, and its check evaluation bound to them."""
    yield from materializations
    if check_selected:
        yield closure_evaluation(context, day.summary, day.verdict, key, rules)


class DeliveryInProgress(Exception):
    """Toast is still writing the date's folder: loading it now would load part of a day."""


def fetch_and_archive(
    context: dg.AssetExecutionContext,
    fetched: Future[Delivery],
    archive: RawArchive,
    location_id: str,
    business_date: date,
    expected: frozenset[str],
    folder_max_wait: timedelta,
    keep: Callable[[Delivery], None],
) -> Delivery:
    """The date's delivery, handed to `keep` for the archive whatever its parse will say.

    A folder Toast is still writing is refused. A folder gone from the server (Toast keeps about
    a week) is read back from the archive instead of being loaded as a closed day.
    """
    delivery = fetched.result()
    if not delivery.folder_found:
        kept = archived_delivery(archive, location_id, business_date, TOAST_FILES)
        if kept is not None:
            context.log.warning(
                f"{location_id} {business_date}: no folder on the server any more; loading its archived delivery "
                f"from {archive.describe()}"
            )
            return kept
        return delivery
    reason = still_arriving(
        Listing.of(delivery.listing), datetime.now(UTC), folder_max_wait, expected
    )
    if reason is not None:
        raise DeliveryInProgress(reason)
    keep(delivery)
    return delivery


def materialization_metadata(day: DayLoad, table: str) -> dict[str, object]:
    frame = day.tables[table]
    markers = (
        int(frame.get_column("closure_indicator").sum())
        if "closure_indicator" in frame.columns
        else 0
    )
    metadata: dict[str, object] = {
        "dagster/row_count": frame.height - markers,
        "closure_marker_rows": markers,
        "day_status": day.verdict.status,
    }
    if day.verdict.reason is not None:
        metadata["closure_reason"] = str(day.verdict.reason)
    files = (
        [day.source_files[table]] if table in day.source_files else list(day.source_files.values())
    )
    metadata["source_files"] = dg.MetadataValue.json(
        [{"path": f.path, "size_bytes": f.size, "sha256": f.sha256} for f in files]
    )
    notes = (
        day.drift.get(table, [])
        if table != BUSINESS_DAYS
        else [n for ns in day.drift.values() for n in ns]
    )
    if table == BUSINESS_DAYS:
        metadata["rows_loaded"] = day.summary.records
    if table == BUSINESS_DAYS and day.ignored_files:
        notes = notes + [f"other file ignored: {name}" for name in day.ignored_files]
    metadata["drift_notes"] = dg.MetadataValue.json(notes)
    return metadata


def rejudge(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    location_id: str,
    rules: ClosureRules,
    calendar: Mapping[date, str],
    written: list[date],
    check_selected: bool,
):
    """Rewrite the stored verdicts of the location that the written dates changed; each gets a new
    materialization of its business_days partition and a new check evaluation. Reads the facts
    afresh, so dates other runs wrote meanwhile count too."""
    book = VerdictBook(warehouse.business_days(location_id), rules, calendar)
    stale = book.stale(written)
    if not stale:
        return
    warehouse.rewrite_verdicts(location_id, book.rewrites(stale, datetime.now(UTC)))
    for business_date, verdict in stale.items():
        key = partition_key(location_id, business_date)
        context.log.info(f"{key} re-judged: {verdict.status} ({verdict.explanation})")
        metadata = {"day_status": verdict.status, "rejudged": True}
        if verdict.reason is not None:
            metadata["closure_reason"] = str(verdict.reason)
        yield dg.AssetMaterialization(asset_key=BUSINESS_DAYS_KEY, partition=key, metadata=metadata)
        if check_selected:
            yield closure_evaluation(context, book.facts[business_date], verdict, key, rules)


def describe(verdict: Verdict) -> str:
    """The verdict in a line: its explanation, led by the status unless it already is."""
    label = verdict.status.replace("_", " ")
    if verdict.explanation.startswith(label):
        return verdict.explanation
    return f"{label}: {verdict.explanation}"


def closure_evaluation(
    context: dg.AssetExecutionContext,
    summary: DaySummary,
    verdict: Verdict,
    key: str,
    rules: ClosureRules,
) -> dg.AssetCheckEvaluation:
    """One evaluation per location-date, bound to its business_days materialization."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY, asset_partitions=[key]),
        limit=1,
    ).records
    target = (
        AssetCheckEvaluationTargetMaterializationData(
            storage_id=records[0].storage_id,
            run_id=records[0].run_id,
            timestamp=records[0].timestamp,
        )
        if records
        else None
    )
    return dg.AssetCheckEvaluation(
        asset_key=BUSINESS_DAYS_KEY,
        check_name=CLOSURE_CHECK,
        passed=verdict.is_open,
        partition=key,
        severity=dg.AssetCheckSeverity.ERROR if verdict.is_gap else dg.AssetCheckSeverity.WARN,
        description=describe(verdict),
        target_materialization_data=target,
        metadata={
            "status": verdict.status,
            "reason": str(verdict.reason) if verdict.reason else "open",
            "explanation": verdict.explanation,
            "files_found": summary.files_found,
            "expected_files": dg.MetadataValue.json(verdict.details.get("expected_files", [])),
            "missing_files": dg.MetadataValue.json(verdict.details.get("missing_files", [])),
            "records": summary.records,
            "orders": summary.orders,
            "net_sales": dg.MetadataValue.text(str(summary.net_sales)),
            "rows_per_table": dg.MetadataValue.json(summary.rows),
            "baseline": dg.MetadataValue.json(verdict.details.get("baseline", {})),
            "threshold": dg.MetadataValue.json(verdict.details.get("threshold", {})),
            "pattern": dg.MetadataValue.text(str(verdict.details.get("pattern") or "none")),
            "holiday": dg.MetadataValue.text(str(verdict.details.get("holiday") or "none")),
            "weekday_history": dg.MetadataValue.text(
                str(verdict.details.get("weekday_closed", ""))
            ),
            "rules": dg.MetadataValue.json(rules.as_metadata()),
        },
    )
