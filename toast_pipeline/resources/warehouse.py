"""Where loaded dates live: one interface, a DuckDB file by default.

The assets only ever call `replace_date`; each implementation makes that one atomic transaction
(the date's old rows out, the new ones in), so a re-run never duplicates and a crash never leaves
half a date.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field as ConfigField

from toast_pipeline.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES
from toast_pipeline.export.specs import Field, Kind
from toast_pipeline.monitoring import CLOSURE_FREE_VIEWS, closure_free_view_sql, sql_string


class Warehouse(ConfigurableResource, ABC):
    """The warehouse interface the assets write through."""

    @abstractmethod
    def replace_date(
        self, location_id: str, business_date: date, tables: Mapping[str, pl.DataFrame]
    ) -> None:
        """Atomically replace one location's date in every given table."""

    @abstractmethod
    def query(self, sql: str) -> pl.DataFrame:
        """Run read-only SQL; tables are addressed as `{schema}.<table>` via `table()`."""

    @abstractmethod
    def table(self, name: str) -> str:
        """The fully qualified name of a warehouse table."""

    @abstractmethod
    def describe(self) -> str:
        """Where the tables live, for people."""

    @abstractmethod
    def migrate(self) -> list[str]:
        """Bring the warehouse up to the specs in place; returns the columns added (`table.column`).

        Creates what is missing (schema or dataset, tables, closure-free views) and adds the columns
        a newer spec has to existing tables. Idempotent; no row is rewritten.
        """

    def business_days(self, location_id: str) -> pl.DataFrame:
        """One row per loaded date: the verdict and what was delivered."""
        return self.query(
            f"SELECT * FROM {self.table(BUSINESS_DAYS)} "
            f"WHERE location_id = {sql_string(location_id)} ORDER BY business_date"
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


@dataclass(frozen=True)
class SchemaPlan:
    """What a warehouse lacks compared with the specs, whichever warehouse it is."""

    new_tables: tuple[str, ...]
    new_columns: dict[str, tuple[Field, ...]]
    views: tuple[str, ...]  # tables whose closure-free view must be (re)created

    @property
    def added(self) -> list[str]:
        return [f"{table}.{f.name}" for table, fields in self.new_columns.items() for f in fields]


def plan_schema(existing: Mapping[str, set[str]]) -> SchemaPlan:
    """Compare existing tables and views (name -> column names) with the specs."""
    new_tables = tuple(t for t in WAREHOUSE_TABLES if t not in existing)
    new_columns = {
        table: missing
        for table, fields in WAREHOUSE_TABLES.items()
        if table in existing
        and (missing := tuple(f for f in fields if f.name not in existing[table]))
    }
    views = tuple(
        table
        for table, view in CLOSURE_FREE_VIEWS.items()
        if view not in existing or table in new_tables or table in new_columns
    )
    return SchemaPlan(new_tables, new_columns, views)


DUCKDB_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.ID: "VARCHAR",
    Kind.INTEGER: "BIGINT",
    Kind.PERCENT: "DOUBLE",
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


class DuckDBWarehouse(Warehouse):
    """An embedded DuckDB file: the default, so a fresh checkout needs no cloud account.

    DuckDB allows one writing process per file; a second writer waits and retries on the lock
    (dagster-duckdb's connection backoff), so concurrent runs queue instead of failing.
    """

    path: str = ConfigField(default="data/toast.duckdb", description="DuckDB database file")
    schema_name: str = ConfigField(default="toast", description="Schema holding the tables")

    def table(self, name: str) -> str:
        # Three parts: with the default file name the catalog is also called "toast".
        return f'"{Path(self.path).stem}"."{self.schema_name}"."{name}"'

    def describe(self) -> str:
        return f"DuckDB file {self.path}, schema {self.schema_name}"

    def _connection(self):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return DuckDBResource(database=self.path).get_connection()

    def ensure_tables(self, conn: duckdb.DuckDBPyConnection) -> list[str]:
        """Create the schema, tables and views from the specs; add any column a newer spec has."""
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{Path(self.path).stem}"."{self.schema_name}"')
        existing: dict[str, set[str]] = {}
        for name, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ?",
            [Path(self.path).stem, self.schema_name],
        ).fetchall():
            existing.setdefault(name, set()).add(column)
        plan = plan_schema(existing)
        for table in plan.new_tables:
            columns = ", ".join(f'"{f.name}" {duckdb_type(f)}' for f in WAREHOUSE_TABLES[table])
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table(table)} ({columns})")
        for table, fields in plan.new_columns.items():
            for f in fields:
                conn.execute(
                    f"ALTER TABLE {self.table(table)} "
                    f'ADD COLUMN IF NOT EXISTS "{f.name}" {duckdb_type(f)}'
                )
        for table in plan.views:
            conn.execute(closure_free_view_sql(self.table, table))
        return plan.added

    def migrate(self) -> list[str]:
        with self._connection() as conn:
            return self.ensure_tables(conn)

    def replace_date(
        self, location_id: str, business_date: date, tables: Mapping[str, pl.DataFrame]
    ) -> None:
        unknown = set(tables) - set(WAREHOUSE_TABLES)
        if unknown:
            raise ValueError(f"not warehouse tables: {sorted(unknown)}")
        with self._connection() as conn:
            self.ensure_tables(conn)
            conn.execute("BEGIN TRANSACTION")
            try:
                for table, frame in tables.items():
                    conn.execute(
                        f"DELETE FROM {self.table(table)} "
                        "WHERE location_id = ? AND business_date = ?",
                        [location_id, business_date],
                    )
                    if frame.height:
                        conn.register("incoming", frame.to_arrow())
                        conn.execute(
                            f"INSERT INTO {self.table(table)} BY NAME SELECT * FROM incoming"
                        )
                        conn.unregister("incoming")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def query(self, sql: str) -> pl.DataFrame:
        with self._connection() as conn:
            self.ensure_tables(conn)
            return conn.execute(sql).pl()
