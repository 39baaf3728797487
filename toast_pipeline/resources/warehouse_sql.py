"""Closure-free views and the two monitoring queries, in SQL that DuckDB and BigQuery both run.

Closure marker rows keep a closed date visible in every table; dashboards and totals read the
`<table>_closure_free` views instead, which hold only real rows. Rows loaded before the closure
fields existed have a null `closure_indicator` (the migration rewrites no data): they are real rows,
so the views keep them (`IS NOT TRUE`, not `NOT`). The monitoring queries watch the
loads themselves: how many rows each date brought and how many of them are closure markers, and
why days were closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from toast_pipeline.toast.daily_load import BUSINESS_DAYS
from toast_pipeline.toast.specs import TABLE_SPECS

if TYPE_CHECKING:
    from toast_pipeline.resources.warehouse import Warehouse

# Only the seven Toast tables carry closure markers; business_days has one row per date.
CLOSURE_FREE_VIEWS: dict[str, str] = {
    spec.table: f"{spec.table}_closure_free" for spec in TABLE_SPECS
}


def closure_free_view_sql(qualify: Callable[[str], str], table: str) -> str:
    """DDL of one table's closure-free view; `qualify` is the warehouse's `table()`."""
    return (
        f"CREATE OR REPLACE VIEW {qualify(CLOSURE_FREE_VIEWS[table])} AS "
        f"SELECT * FROM {qualify(table)} WHERE closure_indicator IS NOT TRUE"
    )


def sql_string(value: str) -> str:
    """A quoted SQL string literal, as both warehouses read it."""
    return "'" + value.replace("'", "''") + "'"


def rows_per_date_sql(warehouse: Warehouse, location_id: str) -> str:
    union = " UNION ALL ".join(
        f"SELECT business_date, closure_indicator FROM {warehouse.table(spec.table)} "
        f"WHERE location_id = {sql_string(location_id)}"
        for spec in TABLE_SPECS
    )
    return (
        "SELECT business_date, COUNT(*) AS records, "
        "COUNT(CASE WHEN closure_indicator THEN 1 END) AS closure_records "
        f"FROM ({union}) AS loaded GROUP BY business_date ORDER BY business_date"
    )


def closure_reasons_sql(warehouse: Warehouse, location_id: str) -> str:
    return (
        "SELECT closure_reason, COUNT(*) AS days, "
        "ROUND(100 * COUNT(*) / SUM(COUNT(*)) OVER (), 1) AS share_pct "
        f"FROM {warehouse.table(BUSINESS_DAYS)} "
        f"WHERE location_id = {sql_string(location_id)} AND status = 'closed' "
        "GROUP BY closure_reason ORDER BY days DESC, closure_reason"
    )


def rows_per_date(warehouse: Warehouse, location_id: str) -> pl.DataFrame:
    """Per business date: rows across the seven tables, and how many are closure markers."""
    return warehouse.query(rows_per_date_sql(warehouse, location_id))


def closure_reasons(warehouse: Warehouse, location_id: str) -> pl.DataFrame:
    """Per closure reason: closed dates and their share (%) of all closed dates."""
    return warehouse.query(closure_reasons_sql(warehouse, location_id))
