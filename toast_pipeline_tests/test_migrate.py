"""`toast-pipeline migrate` on tables created before the closure fields existed, on both warehouses."""

from __future__ import annotations

import io
from datetime import date

import duckdb
import polars as pl
import pytest
from google.cloud import bigquery

from toast_pipeline.cli import main
from toast_pipeline.daily_load import WAREHOUSE_TABLES
from toast_pipeline.export.parse import frame_schema
from toast_pipeline.export.specs import TABLE_SPECS
from toast_pipeline.local_bigquery import LocalBigQuery
from toast_pipeline.monitoring import rows_per_date
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse, schema_field
from toast_pipeline.resources.warehouse import DuckDBWarehouse, Warehouse, duckdb_type
from toast_pipeline_tests.resources.test_warehouse import LOCATION, day_tables
from toast_pipeline_tests.warehouses import WAREHOUSES

CLOSURE_FIELDS = ("closure_indicator", "closure_reason")
OLD_DAY = date(2024, 3, 28)


def old_fields(table: str):
    return [f for f in WAREHOUSE_TABLES[table] if f.name not in CLOSURE_FIELDS]


def old_frames() -> dict[str, pl.DataFrame]:
    """A date as the seed wrote it: real rows only, no closure columns."""
    tables = day_tables(OLD_DAY, orders=14)
    return {
        spec.table: tables[spec.table].drop(CLOSURE_FIELDS)
        for spec in TABLE_SPECS
        if tables[spec.table].height
    }


def create_old_duckdb(warehouse: DuckDBWarehouse, frames: dict[str, pl.DataFrame]) -> None:
    with duckdb.connect(warehouse.path) as conn:
        conn.execute("CREATE SCHEMA toast")
        for spec in TABLE_SPECS:
            columns = ", ".join(f'"{f.name}" {duckdb_type(f)}' for f in old_fields(spec.table))
            conn.execute(f"CREATE TABLE {warehouse.table(spec.table)} ({columns})")
        for table, frame in frames.items():
            conn.register("old", frame.to_arrow())
            conn.execute(f"INSERT INTO {warehouse.table(table)} BY NAME SELECT * FROM old")
            conn.unregister("old")


def create_old_bigquery(warehouse: BigQueryWarehouse, frames: dict[str, pl.DataFrame]) -> None:
    client = bigquery.Client(project=warehouse.project)
    client.create_dataset(f"{warehouse.project}.{warehouse.dataset}")
    for spec in TABLE_SPECS:
        table = bigquery.Table(
            f"{warehouse.project}.{warehouse.dataset}.{spec.table}",
            schema=[schema_field(f) for f in old_fields(spec.table)],
        )
        table.time_partitioning = bigquery.TimePartitioning(field="business_date")
        client.create_table(table)
    for name, frame in frames.items():
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=[schema_field(f) for f in old_fields(name)],
        )
        client.load_table_from_file(buffer, f"{warehouse.project}.{warehouse.dataset}.{name}", job_config=config).result()


@pytest.fixture(params=WAREHOUSES)
def old_warehouse(request, tmp_path, monkeypatch) -> tuple[Warehouse, dict[str, pl.DataFrame]]:
    """Seven tables as the seed created them (no closure fields), holding one date, and the
    environment that makes `toast-pipeline migrate` work on them."""
    frames = old_frames()
    if request.param == "duckdb":
        warehouse = DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))
        create_old_duckdb(warehouse, frames)
        monkeypatch.setenv("TOAST_DUCKDB_PATH", warehouse.path)
    else:
        emulator: LocalBigQuery = request.getfixturevalue("bigquery_emulator")
        warehouse = request.getfixturevalue("bigquery_warehouse_factory")()
        create_old_bigquery(warehouse, frames)
        for name, value in emulator.warehouse_env(warehouse.dataset).items():
            monkeypatch.setenv(name, value)
    return warehouse, frames


def test_migrate_adds_the_closure_fields_and_keeps_every_row(old_warehouse, capsys):
    warehouse, frames = old_warehouse
    assert main(["migrate"]) == 0
    output = capsys.readouterr().out
    for spec in TABLE_SPECS:
        assert f"+ {spec.table}.closure_indicator" in output
    for table, frame in frames.items():
        schema = frame_schema(WAREHOUSE_TABLES[table])
        after = warehouse.query(f"SELECT * FROM {warehouse.table(table)}")
        assert set(after.columns) == set(schema.names())
        assert after.select(CLOSURE_FIELDS).null_count().row(0) == (after.height, after.height)
        kept = after.select(frame.columns).cast({c: schema[c] for c in frame.columns})
        assert kept.sort(pl.all(), nulls_last=True).equals(frame.sort(pl.all(), nulls_last=True)), table

    assert main(["migrate"]) == 0
    assert "0 column(s) added" in capsys.readouterr().out


def test_a_migrated_warehouse_loads_new_dates_and_its_views_keep_the_old_rows(old_warehouse):
    warehouse, frames = old_warehouse
    assert main(["migrate"]) == 0
    new_day = date(2024, 4, 4)
    warehouse.replace_date(LOCATION, new_day, day_tables(new_day, orders=12))
    rows = warehouse.query(
        f"SELECT business_date, count(*) AS n FROM {warehouse.table('order_details_closure_free')} "
        "GROUP BY business_date ORDER BY business_date"
    )
    assert rows.rows() == [(OLD_DAY, frames["order_details"].height), (new_day, 12)]
    assert rows_per_date(warehouse, LOCATION).rows() == [
        (OLD_DAY, frames["order_details"].height, 0),
        (new_day, 12, 0),
    ]
