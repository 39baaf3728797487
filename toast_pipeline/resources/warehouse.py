"""Where loaded dates live: one interface, a DuckDB file by default.

The load calls `replace_dates` with every date queued for writing; each implementation makes that
one atomic transaction (the dates' old rows out, the new ones in), so a re-run never duplicates
and a crash never leaves half a date.
`rewrite_verdicts` changes only the verdict of dates already loaded (their business_days row and
closure markers, never real rows); `replace_analysis` stores what the analysis assets compute.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date

import polars as pl
from dagster import ConfigurableResource

from toast_pipeline.resources.warehouse_sql import sql_string
from toast_pipeline.toast.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES
from toast_pipeline.toast.parse import frame_schema
from toast_pipeline.toast.polars_turn import POLARS_TURN


def refuse_unknown_tables(tables: Mapping[str, pl.DataFrame]) -> None:
    """A date is written to load tables only; anything else is a caller's mistake."""
    unknown = set(tables) - set(WAREHOUSE_TABLES)
    if unknown:
        raise ValueError(f"not warehouse tables: {sorted(unknown)}")


def rows_by_table(
    tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]],
) -> dict[str, tuple[list[date], pl.DataFrame]]:
    """Per table, the dates given for it and all their new rows in one frame: what one DELETE and
    one INSERT per table replace. Tables that are not load tables are refused."""
    for tables in tables_by_date.values():
        refuse_unknown_tables(tables)
    dates: dict[str, list[date]] = {}
    frames: dict[str, list[pl.DataFrame]] = {}
    for business_date, tables in tables_by_date.items():
        for table, frame in tables.items():
            dates.setdefault(table, []).append(business_date)
            frames.setdefault(table, []).append(frame)
    with POLARS_TURN:
        return {
            table: (dates[table], pl.concat(parts, how="diagonal_relaxed"))
            for table, parts in frames.items()
        }


def marker_rows_only(table: str, only_markers: bool) -> str:
    """The DELETE condition that spares a load table's real rows when only a verdict changes (it
    lives in business_days and in closure marker rows)."""
    return " AND closure_indicator" if only_markers and table != BUSINESS_DAYS else ""


class Warehouse(ConfigurableResource, ABC):
    """The warehouse interface the assets write through."""

    def replace_dates(
        self, location_id: str, tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]]
    ) -> None:
        """Atomically replace one location's dates, each in every table given for it: all of
        them or none."""
        self._replace(location_id, tables_by_date, only_markers=False)

    def replace_date(
        self, location_id: str, business_date: date, tables: Mapping[str, pl.DataFrame]
    ) -> None:
        """Atomically replace one location's date in every given table."""
        self.replace_dates(location_id, {business_date: tables})

    def rewrite_verdicts(
        self, location_id: str, tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]]
    ) -> None:
        """Atomically give loaded dates a new verdict: per date, replace its business_days row and
        its closure marker rows (`closure_indicator` true) with the given frames."""
        self._replace(location_id, tables_by_date, only_markers=True)

    @abstractmethod
    def _replace(
        self,
        location_id: str,
        tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]],
        *,
        only_markers: bool,
    ) -> None:
        """Both writes in one transaction; with `only_markers` a load table keeps its real rows
        and only its closure marker rows are replaced (see `marker_rows_only`)."""

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

    def locations(self) -> list[str]:
        """The locations with at least one loaded date."""
        frame = self.query(
            f"SELECT DISTINCT location_id FROM {self.table(BUSINESS_DAYS)} ORDER BY location_id"
        )
        return [str(v) for v in frame.get_column("location_id").to_list()] if frame.height else []

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
