"""One business date's delivery -> the frames written to the warehouse for that date.

Parses every Toast file of the folder, judges the day, adds the pipeline's own columns, and on a
closed day gives each empty table one closure marker row. Real rows are always kept: a catering
order rung in on a closed day is real money.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import polars as pl

from toast_pipeline.toast.closures import ClosureThresholds, DaySummary, Verdict, judge
from toast_pipeline.toast.parse import ParsedFile, frame_schema, parse_file
from toast_pipeline.toast.polars_turn import POLARS_TURN
from toast_pipeline.toast.specs import CENT, TABLE_SPECS, Field, Kind, TableSpec

BUSINESS_DAYS = "business_days"

BUSINESS_DAYS_FIELDS: tuple[Field, ...] = (
    Field("business_date", Kind.DATE),
    Field("location_id", Kind.TEXT),
    Field("status", Kind.TEXT, description="open or closed"),
    Field("closure_reason", Kind.TEXT),
    Field("explanation", Kind.TEXT, description="Why the verdict was reached, with its numbers"),
    Field("files_found", Kind.INTEGER, description="Toast files delivered, of seven"),
    Field(
        "files_delivered",
        Kind.TEXT,
        description="Tables whose Toast file was delivered, comma-separated (learns the location's file set)",
    ),
    Field(
        "records",
        Kind.INTEGER,
        description="Data rows of the transactional files (AllItemsReport lists the menu: not counted)",
    ),
    Field("orders", Kind.INTEGER, description="Orders not voided"),
    Field("net_sales", Kind.MONEY, description="Sum of OrderDetails Amount over orders not voided"),
    *(Field(f"{spec.table}_rows", Kind.INTEGER) for spec in TABLE_SPECS),
    Field("timezone", Kind.TEXT, description="Time zone of the local timestamps of this date"),
    Field("loaded_at", Kind.LOADED_AT),
)

WAREHOUSE_TABLES: dict[str, tuple[Field, ...]] = {
    **{spec.table: spec.fields for spec in TABLE_SPECS},
    BUSINESS_DAYS: BUSINESS_DAYS_FIELDS,
}


@dataclass(frozen=True)
class SourceFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DayLoad:
    """Everything one date contributes: frames per table, the verdict, and provenance."""

    location_id: str
    business_date: date
    summary: DaySummary
    verdict: Verdict
    tables: dict[str, pl.DataFrame]
    source_files: dict[str, SourceFile]
    drift: dict[str, list[str]]
    ignored_files: list[str]


def folder_path(location_id: str, business_date: date) -> str:
    return f"{location_id}/{business_date:%Y%m%d}"


@dataclass(frozen=True)
class ParsedDay:
    """A date's files parsed and its rows framed for the warehouse, before it is judged: what
    needs no history, so it can be prepared while another date is written."""

    location_id: str
    business_date: date
    loaded_at: datetime
    parsed: dict[str, ParsedFile]
    rows: dict[str, pl.DataFrame]  # the warehouse frames of the tables with rows
    source_files: dict[str, SourceFile]
    ignored_files: list[str]
    summary: DaySummary


def parse_day(
    location_id: str,
    business_date: date,
    files: Mapping[str, bytes],
    *,
    loaded_at: datetime,
    other_files: Sequence[str] = (),
) -> ParsedDay:
    """Raises ExportParseError (naming file, line, column) if any Toast file is malformed.

    `other_files` names files of the folder that were listed but not fetched.
    """
    folder = folder_path(location_id, business_date)
    by_lower_name = {name.lower(): name for name in files}
    parsed: dict[str, ParsedFile] = {}
    source_files: dict[str, SourceFile] = {}
    for spec in TABLE_SPECS:
        name = by_lower_name.get(spec.file_name.lower())
        if name is None:
            continue
        data = files[name]
        path = f"{folder}/{name}"
        source_files[spec.table] = SourceFile(path, len(data), hashlib.sha256(data).hexdigest())
        # A turn per file: other threads' polars work waits for one file, not for the day.
        with POLARS_TURN:
            parsed[spec.table] = parse_file(spec, data, path)
    known = {spec.file_name.lower() for spec in TABLE_SPECS}
    ignored = sorted({name for name in files if name.lower() not in known} | set(other_files))
    with POLARS_TURN:
        rows = {
            spec.table: _rows_frame(spec, parsed[spec.table], location_id, business_date, loaded_at)
            for spec in TABLE_SPECS
            if spec.table in parsed and parsed[spec.table].frame.height
        }
        summary = summarize(parsed)
    return ParsedDay(
        location_id, business_date, loaded_at, parsed, rows, source_files, ignored, summary
    )


def judged_day_load(day: ParsedDay, verdict: Verdict, *, timezone: str) -> DayLoad:
    """The parsed date's warehouse frames under its verdict: closure markers in the tables
    without rows when it is closed."""
    context = _RowContext(day.business_date, day.location_id, verdict, day.loaded_at)
    tables = {
        spec.table: day.rows[spec.table]
        if spec.table in day.rows
        else _no_rows_frame(spec, context)
        for spec in TABLE_SPECS
    }
    tables[BUSINESS_DAYS] = _business_day_row(day.summary, verdict, context, timezone)
    drift = {table: p.drift_notes for table, p in day.parsed.items() if p.drift_notes}
    return DayLoad(
        day.location_id,
        day.business_date,
        day.summary,
        verdict,
        tables,
        day.source_files,
        drift,
        day.ignored_files,
    )


def build_day_load(
    location_id: str,
    business_date: date,
    files: Mapping[str, bytes],
    *,
    loaded_at: datetime,
    timezone: str,
    thresholds: ClosureThresholds = ClosureThresholds(),
    other_files: Sequence[str] = (),
    verdict_for: Callable[[DaySummary], Verdict] | None = None,
) -> DayLoad:
    """`parse_day` and `judged_day_load` in one: `verdict_for` judges the date (the learnt rules
    need the location's history); without it the seed's rules do."""
    day = parse_day(location_id, business_date, files, loaded_at=loaded_at, other_files=other_files)
    verdict = judge(day.summary, thresholds) if verdict_for is None else verdict_for(day.summary)
    return judged_day_load(day, verdict, timezone=timezone)


def summarize(parsed: Mapping[str, ParsedFile]) -> DaySummary:
    rows = {table: p.frame.height for table, p in parsed.items()}
    orders, net_sales = 0, Decimal("0")
    if "order_details" in parsed:
        frame = parsed["order_details"].frame.filter(~pl.col("voided").fill_null(False))
        orders = frame.height
        net_sales = Decimal(frame.get_column("amount").sum() or 0)
    # In cents, as the warehouse stores it: a verdict's explanation read back must not differ.
    return DaySummary(
        len(parsed), rows, orders, net_sales.quantize(CENT), delivered=frozenset(parsed)
    )


@dataclass(frozen=True)
class _RowContext:
    business_date: date
    location_id: str
    verdict: Verdict
    loaded_at: datetime


def _rows_frame(
    spec: TableSpec,
    parsed: ParsedFile,
    location_id: str,
    business_date: date,
    loaded_at: datetime,
) -> pl.DataFrame:
    schema = frame_schema(spec.fields)
    added = {
        "business_date": pl.lit(business_date, pl.Date),
        "location_id": pl.lit(location_id, pl.String),
        "closure_indicator": pl.lit(False),
        "closure_reason": pl.lit(None, pl.String),
        "source_file": pl.lit(parsed.source, pl.String),
        "loaded_at": pl.lit(loaded_at, schema["loaded_at"]),
    }
    # One select, in the warehouse's column order: each polars call pays the engine's start.
    return parsed.frame.select(
        added[n].alias(n) if n in added else pl.col(n) for n in schema.names()
    )


def _no_rows_frame(spec: TableSpec, ctx: _RowContext) -> pl.DataFrame:
    """Nothing for an open date; the closure marker for a closed one."""
    if not ctx.verdict.is_closed:
        return pl.DataFrame(schema=frame_schema(spec.fields))
    return marker_frame(spec, ctx.business_date, ctx.location_id, ctx.verdict, ctx.loaded_at)


def marker_frame(
    spec: TableSpec, business_date: date, location_id: str, verdict: Verdict, loaded_at: datetime
) -> pl.DataFrame:
    """The one row that stands for a closed date in a table without rows."""
    schema = frame_schema(spec.fields)
    marker = {
        "business_date": [business_date],
        "location_id": [location_id],
        "closure_indicator": [True],
        "closure_reason": [str(verdict.reason)],
        "loaded_at": [loaded_at],
    }
    return (
        pl.DataFrame(marker)
        .cast({k: schema[k] for k in marker})
        .select(
            [pl.col(n) if n in marker else pl.lit(None, schema[n]).alias(n) for n in schema.names()]
        )
    )


def rejudged_tables(
    business_day: Mapping[str, object], verdict: Verdict, loaded_at: datetime
) -> dict[str, pl.DataFrame]:
    """A stored date's business_days row under a new verdict, and its new closure markers.

    Markers go to the tables the date had no rows in, as when it was loaded; real rows stay.
    """
    row = {
        **business_day,
        "status": verdict.status,
        "closure_reason": None if verdict.reason is None else str(verdict.reason),
        "explanation": verdict.explanation,
    }
    business_date, location_id = row["business_date"], row["location_id"]
    tables = {BUSINESS_DAYS: pl.DataFrame([row], schema=frame_schema(BUSINESS_DAYS_FIELDS))}
    for spec in TABLE_SPECS:
        empty = not row[f"{spec.table}_rows"]
        tables[spec.table] = (
            marker_frame(spec, business_date, location_id, verdict, loaded_at)
            if verdict.is_closed and empty
            else pl.DataFrame(schema=frame_schema(spec.fields))
        )
    return tables


def _business_day_row(
    summary: DaySummary, verdict: Verdict, ctx: _RowContext, timezone: str
) -> pl.DataFrame:
    row = {
        "business_date": ctx.business_date,
        "location_id": ctx.location_id,
        "status": verdict.status,
        "closure_reason": None if verdict.reason is None else str(verdict.reason),
        "explanation": verdict.explanation,
        "files_found": summary.files_found,
        "files_delivered": ",".join(sorted(summary.delivered or ())),
        "records": summary.records,
        "orders": summary.orders,
        "net_sales": summary.net_sales,
        **{f"{spec.table}_rows": summary.rows.get(spec.table, 0) for spec in TABLE_SPECS},
        "timezone": timezone,
        "loaded_at": ctx.loaded_at,
    }
    return pl.DataFrame([row], schema=frame_schema(BUSINESS_DAYS_FIELDS))
