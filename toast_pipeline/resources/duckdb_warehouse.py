"""The embedded DuckDB warehouse: the default, so a fresh checkout needs no cloud account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from dagster import get_dagster_logger
from pydantic import Field as ConfigField
from pydantic import PrivateAttr
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_random

from toast_pipeline.resources.warehouse import Warehouse, marker_rows_only, rows_by_table
from toast_pipeline.resources.warehouse_schema import plan_schema
from toast_pipeline.resources.warehouse_sql import (
    CLOSURE_FREE_VIEWS,
    closure_free_view_sql,
)
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline.toast.polars_turn import POLARS_TURN
from toast_pipeline.toast.specs import Field, Kind

_log = get_dagster_logger(__name__)


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


# Relative to the working directory the code location is loaded from (the project root).
DEFAULT_DUCKDB_PATH = "data/toast.duckdb"


class WarehouseBusyError(RuntimeError):
    """Another process kept the DuckDB file for longer than a run is willing to wait."""


class DuckDBWarehouse(Warehouse):
    """An embedded DuckDB file: the default, so a fresh checkout needs no cloud account.

    DuckDB allows one process at a time per file. A run holds the file for its whole batch of
    dates (opening and checkpointing it per date would cost more than the writes); another
    process waits for the lock, up to `lock_timeout_seconds`, so concurrent runs queue instead
    of failing, and a wait that runs out raises `WarehouseBusyError` naming the file.
    """

    path: str = ConfigField(default=DEFAULT_DUCKDB_PATH, description="DuckDB database file")
    schema_name: str = ConfigField(default="toast", description="Schema holding the tables")
    lock_timeout_seconds: float = ConfigField(
        default=900, description="How long to wait for another process to release the file"
    )
    memory_limit: str = ConfigField(
        default="128MB",
        description="DuckDB's buffer pool in the run's process (DuckDB's own default is 80 % of "
        "the machine's memory and it keeps what it read cached); larger work spills to disk",
    )
    checkpoint_threshold: str = ConfigField(
        default="1GB",
        description="Write-ahead log size at which DuckDB folds it into the file. DuckDB's 16MB "
        "rewrites each table's last row group every few dates of a backfill (401 dates: 14.7 s "
        "of writing, 10.8 s with 1GB); the log is folded in anyway when the run closes the file",
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
            return retrying(
                duckdb.connect,
                self.path,
                config={
                    "memory_limit": self.memory_limit,
                    "checkpoint_threshold": self.checkpoint_threshold,
                },
            )
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

    def _replace(
        self,
        location_id: str,
        tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]],
        *,
        only_markers: bool,
    ) -> None:
        """One transaction: per table, one DELETE of the dates' rows and one INSERT of their new
        rows (a statement per date and table cost more than the rows). With `only_markers`, a
        load table keeps its real rows and only closure marker rows are replaced."""
        replaced = rows_by_table(tables_by_date)
        if not replaced:
            return
        with self._transaction() as conn:
            for table, (dates, rows) in replaced.items():
                # The range lets DuckDB skip row groups by their min/max before the list test.
                conn.execute(
                    f"DELETE FROM {self.table(table)} WHERE location_id = ? "
                    f"AND business_date BETWEEN ? AND ? AND list_contains(?, business_date)"
                    f"{marker_rows_only(table, only_markers)}",
                    [location_id, min(dates), max(dates), dates],
                )
                self._insert(conn, table, rows)

    def replace_analysis(self, name: str, location_id: str, frame: pl.DataFrame) -> None:
        if name in WAREHOUSE_TABLES:
            raise ValueError(f"{name} is a load table, not an analysis table")
        with self._transaction() as conn:
            with POLARS_TURN:
                incoming = frame.to_arrow()
            conn.register("incoming", incoming)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table(name)} AS SELECT * FROM incoming LIMIT 0"
            )
            conn.execute(f"DELETE FROM {self.table(name)} WHERE location_id = ?", [location_id])
            conn.unregister("incoming")
            self._insert(conn, name, frame)

    def _insert(self, conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
        if frame.height:
            with POLARS_TURN:
                incoming = frame.to_arrow()
            conn.register("incoming", incoming)
            conn.execute(f"INSERT INTO {self.table(table)} BY NAME SELECT * FROM incoming")
            conn.unregister("incoming")

    def query(self, sql: str) -> pl.DataFrame:
        with self._connection() as conn:
            self.ensure_tables(conn)
            return conn.execute(sql).pl()
