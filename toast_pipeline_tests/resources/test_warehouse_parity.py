"""The same export written to DuckDB and to BigQuery (on the emulator) holds identical data.

Also the closure-free views and the two monitoring queries, on both warehouses, against the
sample export's ground truth.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import polars as pl
import pytest

from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.resources.warehouse_sql import (
    CLOSURE_FREE_VIEWS,
    closure_reasons,
    rows_per_date,
)
from toast_pipeline.toast.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES, build_day_load
from toast_pipeline.toast.parse import frame_schema
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev.local_bigquery import LocalBigQuery
from toast_pipeline_dev.sample import SampleExport
from toast_pipeline_tests.warehouses import WAREHOUSES

pytestmark = pytest.mark.e2e

LOADED_AT = datetime(2024, 4, 10, 6, 30, 15, 123456, tzinfo=UTC)


def day_files(export: SampleExport, day) -> dict[str, bytes]:
    folder = export.root / export.location_id / day.folder_name
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


@pytest.fixture(scope="module")
def loaded(
    sample_export: SampleExport,
    bigquery_emulator: LocalBigQuery,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Warehouse]:
    """Every loadable date of the sample export, written once to each warehouse."""
    warehouses: dict[str, Warehouse] = {
        "duckdb": DuckDBWarehouse(path=str(tmp_path_factory.mktemp("parity") / "toast.duckdb")),
        "bigquery": BigQueryWarehouse(
            project=bigquery_emulator.project, dataset=f"parity_{uuid.uuid4().hex[:8]}"
        ),
    }
    for day in sample_export.days:
        if day.damage:
            continue
        load = build_day_load(
            sample_export.location_id,
            day.business_date,
            day_files(sample_export, day),
            loaded_at=LOADED_AT,
            timezone=sample_export.timezone,
        )
        for warehouse in warehouses.values():
            warehouse.replace_date(sample_export.location_id, day.business_date, load.tables)
    return warehouses


def table_contents(warehouse: Warehouse, table: str) -> pl.DataFrame:
    """A whole table in the specs' frame types, in a stable order."""
    schema = frame_schema(WAREHOUSE_TABLES[table])
    frame = warehouse.query(f"SELECT * FROM {warehouse.table(table)}").select(schema.names())
    return frame.cast(dict(schema)).sort(pl.all(), nulls_last=True)


@pytest.mark.parametrize("table", list(WAREHOUSE_TABLES))
def test_both_warehouses_hold_identical_rows_and_values(loaded, table):
    duckdb_rows = table_contents(loaded["duckdb"], table)
    bigquery_rows = table_contents(loaded["bigquery"], table)
    assert duckdb_rows.height > 0
    assert bigquery_rows.equals(duckdb_rows)


def test_every_real_row_and_closure_marker_arrived(loaded, sample_export):
    loadable = [d for d in sample_export.days if not d.damage]
    for warehouse in loaded.values():
        counts = warehouse.row_counts(sample_export.location_id)
        assert counts[BUSINESS_DAYS] == len(loadable)
        for spec in TABLE_SPECS:
            real = sum(d.rows.get(spec.table, 0) for d in loadable)
            markers = sum(
                1 for d in loadable if d.status == "closed" and not d.rows.get(spec.table)
            )
            assert counts[spec.table] == real + markers, (warehouse.describe(), spec.table)


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_closure_free_views_hold_exactly_the_real_rows(loaded, sample_export, kind):
    warehouse = loaded[kind]
    loadable = [d for d in sample_export.days if not d.damage]
    for table, view in CLOSURE_FREE_VIEWS.items():
        frame = warehouse.query(
            f"SELECT count(*) AS n, countif(closure_indicator) AS markers FROM {warehouse.table(view)}"
        )
        assert frame.row(0) == (sum(d.rows.get(table, 0) for d in loadable), 0), table


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_rows_per_date_counts_closure_records(loaded, sample_export, kind):
    expected = []
    for day in sample_export.days:
        if day.damage:
            continue
        real = sum(day.rows.get(spec.table, 0) for spec in TABLE_SPECS)
        markers = sum(
            1 for s in TABLE_SPECS if day.status == "closed" and not day.rows.get(s.table)
        )
        expected.append((day.business_date, real + markers, markers))
    assert rows_per_date(loaded[kind], sample_export.location_id).rows() == expected


@pytest.mark.parametrize("kind", WAREHOUSES)
def test_closure_reasons_with_their_share(loaded, sample_export, kind):
    frame = closure_reasons(loaded[kind], sample_export.location_id)
    assert frame.rows() == [
        ("low_activity", 2, 50.0),
        ("insufficient_files", 1, 25.0),
        ("no_files", 1, 25.0),
    ]
