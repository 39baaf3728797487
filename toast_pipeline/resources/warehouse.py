"""Where loaded dates live: one interface, a DuckDB file by default.

The load calls `replace_date`; each implementation makes that one atomic transaction (the date's old
rows out, the new ones in), so a re-run never duplicates and a crash never leaves half a date.
`rewrite_verdicts` changes only the verdict of dates already loaded (their business_days row and
closure markers, never real rows); `replace_analysis` stores what the analysis assets compute.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from dagster import ConfigurableResource, get_dagster_logger
from pydantic import Field as ConfigField
from pydantic import PrivateAttr
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_random

from toast_pipeline.resources.warehouse_sql import (
    CLOSURE_FREE_VIEWS,
    closure_free_view_sql,
    sql_string,
)
from toast_pipeline.toast.all_items import report_level_sql
from toast_pipeline.toast.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES
from toast_pipeline.toast.parse import frame_schema
from toast_pipeline.toast.specs import SPECS_BY_TABLE, Field, Kind, warehouse_name

_log = get_dagster_logger(__name__)


def refuse_unknown_tables(tables: Mapping[str, pl.DataFrame]) -> None:
    """A date is written to load tables only; anything else is a caller's mistake."""
    unknown = set(tables) - set(WAREHOUSE_TABLES)
    if unknown:
        raise ValueError(f"not warehouse tables: {sorted(unknown)}")


class Warehouse(ConfigurableResource, ABC):
    """The warehouse interface the assets write through."""

    @abstractmethod
    def replace_date(
        self, location_id: str, business_date: date, tables: Mapping[str, pl.DataFrame]
    ) -> None:
        """Atomically replace one location's date in every given table."""

    @abstractmethod
    def rewrite_verdicts(
        self, location_id: str, tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]]
    ) -> None:
        """Atomically give loaded dates a new verdict: per date, replace its business_days row and
        its closure marker rows (`closure_indicator` true) with the given frames."""

    @abstractmethod
    def replace_analysis(self, name: str, location_id: str, frame: pl.DataFrame) -> None:
        """Replace one location's rows of an analysis table, creating it from the frame's schema."""

    @abstractmethod
    def query(self, sql: str) -> pl.DataFrame:
        """Run read-only SQL; tables are addressed as `{schema}.<table>` via `table()`."""

    @abstractmethod
    def table(self, name: str) -> str:
        """The fully qualified name of a warehouse table."""

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold what a run of many dates should open once (a no-op unless a warehouse needs it)."""
        yield

    @abstractmethod
    def describe(self) -> str:
        """Where the tables live, for people."""

    @abstractmethod
    def migrate(self) -> list[str]:
        """Bring the warehouse up to the specs in place; returns the columns added (`table.column`)
        and changed (`SchemaPlan.changed`).

        Creates what is missing (schema or dataset, tables, closure-free views), adds the columns a
        newer spec has, renames columns stored under an earlier name (rescaling their values) and
        retypes money and ratio columns whose type changed. Idempotent; every row is kept.
        """

    def business_days(self, location_id: str) -> pl.DataFrame:
        """One row per loaded date: the verdict and what was delivered, typed as the specs say
        (BigQuery returns every NUMERIC at scale 9; the stored values fit the spec's scale)."""
        frame = self.query(
            f"SELECT * FROM {self.table(BUSINESS_DAYS)} "
            f"WHERE location_id = {sql_string(location_id)} ORDER BY business_date"
        )
        schema = frame_schema(WAREHOUSE_TABLES[BUSINESS_DAYS])
        return frame.cast({name: schema[name] for name in frame.columns if name in schema})

    def daily_totals(self, location_id: str) -> pl.DataFrame:
        """Per open date: orders, covers, net sales and tips (voids and closure dates left out),
        and checks. Plain SQL that DuckDB and BigQuery both run."""
        loc = sql_string(location_id)
        return self.query(
            "SELECT o.business_date, o.orders, o.covers, o.net_sales, o.tips, COALESCE(c.checks, 0) AS checks "
            "FROM (SELECT business_date, COUNT(*) AS orders, SUM(COALESCE(number_of_guests, 0)) AS covers, "
            "SUM(COALESCE(amount, 0)) AS net_sales, SUM(COALESCE(tip, 0)) AS tips "
            f"FROM {self.table('order_details')} WHERE location_id = {loc} AND NOT closure_indicator "
            "AND NOT COALESCE(voided, FALSE) GROUP BY business_date) AS o "
            f"JOIN (SELECT business_date FROM {self.table(BUSINESS_DAYS)} "
            f"WHERE location_id = {loc} AND status = 'open') AS b ON b.business_date = o.business_date "
            "LEFT JOIN (SELECT business_date, COUNT(*) AS checks "
            f"FROM {self.table('check_details')} WHERE location_id = {loc} AND NOT closure_indicator "
            "GROUP BY business_date) AS c ON c.business_date = o.business_date "
            "ORDER BY o.business_date"
        )

    def row_counts(self, location_id: str) -> dict[str, int]:
        """Rows per table for a location, closure markers included."""
        frame = self.query(
            " UNION ALL ".join(
                f"SELECT {sql_string(table)} AS table_name, count(*) AS n FROM {self.table(table)} "
                f"WHERE location_id = {sql_string(location_id)}"
                for table in WAREHOUSE_TABLES
            )
        )
        found = dict(frame.iter_rows())
        return {table: int(found[table]) for table in WAREHOUSE_TABLES}


# Columns added to existing tables that are computed from the rows already stored.
COMPUTED_ON_MIGRATION: dict[tuple[str, str], Callable[[], str]] = {
    ("all_items_report", "row_level"): report_level_sql,
}

# Kinds whose stored type has changed since tables were first created: money scales widened to
# what Toast writes (ItemSelectionDetails `Tax` has 8 decimals), computed averages stored as doubles.
RETYPABLE_KINDS = frozenset({Kind.MONEY, Kind.QUANTITY, Kind.SHARE, Kind.AVERAGE})
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC|BIGNUMERIC)\((\d+),(\d+)\)$")


@dataclass(frozen=True)
class Rename:
    """A column stored under an earlier name; `rescale` turns its stored values into the new ones."""

    old: str
    field: Field
    rescale: str = ""  # SQL applied to the renamed column, e.g. " / 100"


def legacy_share_name(header: str) -> str:
    """The name a `%` column was stored under when it was read as a percentage (`pct_...`)."""
    return warehouse_name(header.replace("%", " pct "))


def renamed_columns(table: str) -> tuple[Rename, ...]:
    """Toast's `%` columns hold fractions; they were first stored as percentages named `pct_...`."""
    spec = SPECS_BY_TABLE.get(table)
    if spec is None:
        return ()
    return tuple(
        Rename(legacy_share_name(c.header), f, " / 100")
        for c, f in zip(spec.columns, spec.fields, strict=False)
        if c.kind is Kind.SHARE
    )


@dataclass(frozen=True)
class SchemaPlan:
    """What a warehouse lacks compared with the specs, whichever warehouse it is."""

    new_tables: tuple[str, ...]
    new_columns: dict[str, tuple[Field, ...]]
    views: tuple[str, ...]  # tables whose closure-free view must be (re)created
    renamed: dict[str, tuple[Rename, ...]] = field(default_factory=dict)
    retyped: dict[str, tuple[Field, ...]] = field(default_factory=dict)

    @property
    def added(self) -> list[str]:
        return [f"{table}.{f.name}" for table, fields in self.new_columns.items() for f in fields]

    @property
    def changed(self) -> list[str]:
        """Existing columns renamed or retyped, for people."""
        out = [
            f"{table}.{r.old} -> {r.field.name}" + (f" (values{r.rescale})" if r.rescale else "")
            for table, renames in self.renamed.items()
            for r in renames
        ]
        out += [
            f"{table}.{f.name} retyped" for table, fields in self.retyped.items() for f in fields
        ]
        return out

    @property
    def altered(self) -> tuple[str, ...]:
        """Existing tables whose stored values change (their views are dropped first)."""
        return tuple(dict.fromkeys([*self.renamed, *self.retyped, *(t for t, _, _ in self.fills)]))

    @property
    def fills(self) -> list[tuple[str, str, str]]:
        """(table, column, SQL) for added columns whose values follow from the stored rows."""
        return [
            (table, f.name, COMPUTED_ON_MIGRATION[(table, f.name)]())
            for table, fields in self.new_columns.items()
            for f in fields
            if (table, f.name) in COMPUTED_ON_MIGRATION
        ]


def needs_retype(stored: str, wanted: str) -> bool:
    """A stored decimal with fewer places than the spec keeps, or one the spec reads as a double.

    Other differences (a wider precision chosen by hand, say) are left alone.
    """
    stored_decimal = _DECIMAL.match("".join(stored.split()).upper())
    if stored_decimal is None:
        return False
    wanted_decimal = _DECIMAL.match("".join(wanted.split()).upper())
    if wanted_decimal is None:
        return True
    return int(stored_decimal.group(2)) < int(wanted_decimal.group(2))


def plan_schema(
    existing: Mapping[str, Mapping[str, str]], column_type: Callable[[Field], str]
) -> SchemaPlan:
    """Compare existing tables and views (name -> column name -> SQL type) with the specs;
    `column_type` is the warehouse's SQL type of a spec field, as its catalogue reports types."""
    new_tables = tuple(t for t in WAREHOUSE_TABLES if t not in existing)
    new_columns, renamed, retyped = {}, {}, {}
    for table, fields in WAREHOUSE_TABLES.items():
        if table not in existing:
            continue
        columns = existing[table]
        renames = tuple(
            r for r in renamed_columns(table) if r.old in columns and r.field.name not in columns
        )
        now = {**columns, **{r.field.name: columns[r.old] for r in renames}}
        missing = tuple(f for f in fields if f.name not in now)
        changed = tuple(
            f
            for f in fields
            if f.name in now
            and f.kind in RETYPABLE_KINDS
            and needs_retype(now[f.name], column_type(f))
        )
        if renames:
            renamed[table] = renames
        if missing:
            new_columns[table] = missing
        if changed:
            retyped[table] = changed
    touched = {*new_tables, *new_columns, *renamed, *retyped}
    views = tuple(
        table
        for table, view in CLOSURE_FREE_VIEWS.items()
        if view not in existing or table in touched
    )
    return SchemaPlan(new_tables, new_columns, views, renamed, retyped)


DUCKDB_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.ID: "VARCHAR",
    Kind.INTEGER: "BIGINT",
    Kind.SHARE: "DOUBLE",
    Kind.AVERAGE: "DOUBLE",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.DATE: "DATE",
    Kind.TIME: "TIME",
    Kind.DURATION_HMS: "BIGINT",
    Kind.DURATION_TEXT: "BIGINT",
    Kind.LOADED_AT: "TIMESTAMPTZ",
}


def duckdb_type(field: Field) -> str:
    if field.kind in (Kind.MONEY, Kind.QUANTITY):
        return f"DECIMAL(18, {field.scale})"
    return DUCKDB_TYPES[field.kind]


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class WarehouseBusyError(RuntimeError):
    """Another process kept the DuckDB file for longer than a run is willing to wait."""


class DuckDBWarehouse(Warehouse):
    """An embedded DuckDB file: the default, so a fresh checkout needs no cloud account.

    DuckDB allows one process at a time per file. A run holds the file for its whole batch of
    dates (opening and checkpointing it per date would cost more than the writes); another
    process waits for the lock, up to `lock_timeout_seconds`, so concurrent runs queue instead
    of failing, and a wait that runs out raises `WarehouseBusyError` naming the file.
    """

    path: str = ConfigField(default="data/toast.duckdb", description="DuckDB database file")
    schema_name: str = ConfigField(default="toast", description="Schema holding the tables")
    lock_timeout_seconds: float = ConfigField(
        default=900, description="How long to wait for another process to release the file"
    )

    _tables_ready: bool = PrivateAttr(default=False)
    _conn: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def table(self, name: str) -> str:
        # Three parts: with the default file name the catalog is also called "toast".
        return f'"{Path(self.path).stem}"."{self.schema_name}"."{name}"'

    def describe(self) -> str:
        return f"DuckDB file {self.path}, schema {self.schema_name}"

    def _open(self) -> duckdb.DuckDBPyConnection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        retrying = Retrying(
            retry=retry_if_exception(_is_lock_conflict),
            wait=wait_random(0.05, 0.5),
            stop=stop_after_delay(self.lock_timeout_seconds),
            before_sleep=self._log_first_wait,
            reraise=True,
        )
        try:
            return retrying(duckdb.connect, self.path)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            raise WarehouseBusyError(
                f"DuckDB file {self.path} is still in use by another process after waiting "
                f"{self.lock_timeout_seconds:g} s (lock_timeout_seconds); DuckDB says: {exc}"
            ) from exc

    def _log_first_wait(self, state: RetryCallState) -> None:
        if state.attempt_number == 1:
            _log.info(
                "DuckDB file %s is in use by another process; waiting up to %g s for it (%s)",
                self.path,
                self.lock_timeout_seconds,
                state.outcome.exception() if state.outcome else "",
            )

    @contextmanager
    def session(self) -> Iterator[None]:
        if self._conn is not None:
            yield
            return
        self._conn = self._open()
        try:
            yield
        finally:
            conn, self._conn = self._conn, None
            conn.close()

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.session():
            yield self._conn

    def ensure_tables(self, conn: duckdb.DuckDBPyConnection) -> list[str]:
        """Create the schema, tables and views from the specs; add any column a newer spec has.

        Checked once per resource instance (once per run): the lock is held only to write.
        """
        if self._tables_ready:
            return []
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{Path(self.path).stem}"."{self.schema_name}"')
        existing: dict[str, dict[str, str]] = {}
        for name, column, sql_type in conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ?",
            [Path(self.path).stem, self.schema_name],
        ).fetchall():
            existing.setdefault(name, {})[column] = sql_type
        plan = plan_schema(existing, duckdb_type)
        statements = [
            f"DROP VIEW IF EXISTS {self.table(CLOSURE_FREE_VIEWS[t])}" for t in plan.altered
        ]
        for table in plan.new_tables:
            columns = ", ".join(f'"{f.name}" {duckdb_type(f)}' for f in WAREHOUSE_TABLES[table])
            statements.append(f"CREATE TABLE IF NOT EXISTS {self.table(table)} ({columns})")
        # DuckDB refuses an UPDATE after an ALTER of the same table in one transaction, so values
        # are rewritten by ALTER ... USING.
        for table, renames in plan.renamed.items():
            for r in renames:
                statements.append(
                    f'ALTER TABLE {self.table(table)} RENAME COLUMN "{r.old}" TO "{r.field.name}"'
                )
                if r.rescale:
                    statements.append(
                        f'ALTER TABLE {self.table(table)} ALTER COLUMN "{r.field.name}" '
                        f'SET DATA TYPE {duckdb_type(r.field)} USING ("{r.field.name}"{r.rescale})'
                    )
        for table, fields in plan.retyped.items():
            for f in fields:
                statements.append(
                    f'ALTER TABLE {self.table(table)} ALTER COLUMN "{f.name}" SET DATA TYPE {duckdb_type(f)}'
                )
        for table, fields in plan.new_columns.items():
            for f in fields:
                statements.append(
                    f"ALTER TABLE {self.table(table)} "
                    f'ADD COLUMN IF NOT EXISTS "{f.name}" {duckdb_type(f)}'
                )
        statements += [
            f'ALTER TABLE {self.table(t)} ALTER COLUMN "{column}" SET DATA TYPE '
            f"{duckdb_type(next(f for f in WAREHOUSE_TABLES[t] if f.name == column))} USING ({sql})"
            for t, column, sql in plan.fills
        ]
        statements += [closure_free_view_sql(self.table, table) for table in plan.views]
        if plan.altered:
            # Renames and retypes rewrite stored values: all of them or none.
            statements = ["BEGIN TRANSACTION", *statements, "COMMIT"]
        try:
            for statement in statements:
                conn.execute(statement)
        except BaseException:
            if plan.altered:
                conn.execute("ROLLBACK")
            raise
        self._tables_ready = True
        return plan.added + plan.changed

    def migrate(self) -> list[str]:
        with self._connection() as conn:
            return self.ensure_tables(conn)

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All of the block's writes, or none of them (a killed process never commits)."""
        with self._connection() as conn:
            self.ensure_tables(conn)
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def replace_date(
        self, location_id: str, business_date: date, tables: Mapping[str, pl.DataFrame]
    ) -> None:
        refuse_unknown_tables(tables)
        with self._transaction() as conn:
            for table in tables:
                conn.execute(
                    f"DELETE FROM {self.table(table)} WHERE location_id = ? AND business_date = ?",
                    [location_id, business_date],
                )
                self._insert(conn, table, tables[table])

    def rewrite_verdicts(
        self, location_id: str, tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]]
    ) -> None:
        if not tables_by_date:
            return
        with self._transaction() as conn:
            for business_date, tables in tables_by_date.items():
                for table, frame in tables.items():
                    only_markers = "" if table == BUSINESS_DAYS else " AND closure_indicator"
                    conn.execute(
                        f"DELETE FROM {self.table(table)} "
                        f"WHERE location_id = ? AND business_date = ?{only_markers}",
                        [location_id, business_date],
                    )
                    self._insert(conn, table, frame)

    def replace_analysis(self, name: str, location_id: str, frame: pl.DataFrame) -> None:
        if name in WAREHOUSE_TABLES:
            raise ValueError(f"{name} is a load table, not an analysis table")
        with self._transaction() as conn:
            conn.register("incoming", frame.to_arrow())
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table(name)} AS SELECT * FROM incoming LIMIT 0"
            )
            conn.execute(f"DELETE FROM {self.table(name)} WHERE location_id = ?", [location_id])
            conn.unregister("incoming")
            self._insert(conn, name, frame)

    def _insert(self, conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
        if frame.height:
            conn.register("incoming", frame.to_arrow())
            conn.execute(f"INSERT INTO {self.table(table)} BY NAME SELECT * FROM incoming")
            conn.unregister("incoming")

    def query(self, sql: str) -> pl.DataFrame:
        with self._connection() as conn:
            self.ensure_tables(conn)
            return conn.execute(sql).pl()
