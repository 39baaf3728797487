"""`toast-pipeline migrate` on tables created before the closure fields existed, on both warehouses."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from google.cloud import bigquery

from toast_pipeline.commands.cli import main
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse, schema_field
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse, duckdb_type
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.resources.warehouse_sql import rows_per_date
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline.toast.parse import frame_schema
from toast_pipeline.toast.specs import TABLE_SPECS, Field, Kind
from toast_pipeline_dev.local_bigquery import LocalBigQuery
from toast_pipeline_tests.helpers import LOCATION, day_tables
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
        client.load_table_from_file(
            buffer, f"{warehouse.project}.{warehouse.dataset}.{name}", job_config=config
        ).result()


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
        assert kept.sort(pl.all(), nulls_last=True).equals(frame.sort(pl.all(), nulls_last=True)), (
            table
        )

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


# --- tables as created before real exports were read (tax at 5 places, Avg Price as money,
# percent columns named pct_ and holding percentages, no report levels, no file set) -------------
LEVEL_FIELDS = ("row_level", "report_row")


def before_real_exports(table: str) -> list[Field]:
    fields = []
    for f in WAREHOUSE_TABLES[table]:
        if f.name in (*LEVEL_FIELDS, "files_delivered"):
            continue
        if table == "item_selection_details" and f.name == "tax":
            f = Field(f.name, Kind.MONEY, 5)
        elif f.name == "avg_price":
            f = Field(f.name, Kind.MONEY, 6)
        elif f.kind is Kind.SHARE:
            f = Field(f.name.replace("share", "pct", 1), f.kind)
        fields.append(f)
    return fields


def old_report_rows() -> dict[str, pl.DataFrame]:
    def frame(table: str, rows: list[dict]) -> pl.DataFrame:
        schema = frame_schema(before_real_exports(table))
        return pl.DataFrame(rows, schema={k: schema[k] for k in rows[0]}).select(
            [
                pl.col(n) if n in rows[0] else pl.lit(None, schema[n]).alias(n)
                for n in schema.names()
            ]
        )

    stamp = {"business_date": OLD_DAY, "location_id": LOCATION, "closure_indicator": False}
    return {
        "all_items_report": frame(
            "all_items_report",
            [
                {
                    **stamp,
                    "master_id": "10",
                    "item_id": "11",
                    "menu_name": "Dinner",
                    "menu_item": "Soup",
                    "avg_price": Decimal("7.123456"),
                    "pct_qty_all": 12.5,
                    "net_amount": Decimal("21.37"),
                },
                {
                    **stamp,
                    "master_id": "12",
                    "item_id": "13",
                    "menu_name": "Dinner",
                    "menu_item": "Stew",
                    "avg_price": Decimal("9.5"),
                    "pct_qty_all": 87.5,
                    "net_amount": Decimal("19.00"),
                },
            ],
        ),
        "item_selection_details": frame(
            "item_selection_details",
            [
                {
                    **stamp,
                    "item_selection_id": "7",
                    "tax": Decimal("1.23456"),
                    "net_price": Decimal("15.00"),
                }
            ],
        ),
    }


@pytest.fixture(params=WAREHOUSES)
def warehouse_before_real_exports(request, tmp_path, monkeypatch):
    frames = old_report_rows()
    if request.param == "duckdb":
        warehouse = DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))
        with duckdb.connect(warehouse.path) as conn:
            conn.execute("CREATE SCHEMA toast")
            for table in frames:
                columns = ", ".join(
                    f'"{f.name}" {duckdb_type(f)}' for f in before_real_exports(table)
                )
                conn.execute(f"CREATE TABLE {warehouse.table(table)} ({columns})")
                conn.register("old", frames[table].to_arrow())
                conn.execute(f"INSERT INTO {warehouse.table(table)} BY NAME SELECT * FROM old")
                conn.unregister("old")
        monkeypatch.setenv("TOAST_DUCKDB_PATH", warehouse.path)
    else:
        emulator: LocalBigQuery = request.getfixturevalue("bigquery_emulator")
        warehouse = request.getfixturevalue("bigquery_warehouse_factory")()
        client = bigquery.Client(project=warehouse.project)
        client.create_dataset(f"{warehouse.project}.{warehouse.dataset}")
        for table, frame in frames.items():
            schema = [schema_field(f) for f in before_real_exports(table)]
            client.create_table(
                bigquery.Table(f"{warehouse.project}.{warehouse.dataset}.{table}", schema=schema)
            )
            buffer = io.BytesIO()
            frame.write_parquet(buffer)
            buffer.seek(0)
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET, schema=schema
            )
            client.load_table_from_file(
                buffer, f"{warehouse.project}.{warehouse.dataset}.{table}", job_config=config
            ).result()
        for name, value in emulator.warehouse_env(warehouse.dataset).items():
            monkeypatch.setenv(name, value)
    return warehouse


def test_migrate_widens_tax_reads_shares_as_fractions_and_labels_report_levels(
    warehouse_before_real_exports, capsys
):
    warehouse = warehouse_before_real_exports
    assert main(["migrate"]) == 0
    output = capsys.readouterr().out
    assert "+ all_items_report.pct_qty_all -> share_qty_all (values / 100)" in output
    assert "+ item_selection_details.tax retyped" in output
    assert "+ all_items_report.avg_price retyped" in output
    report = warehouse.query(
        f"SELECT menu_item, avg_price, share_qty_all, net_amount, row_level, report_row "
        f"FROM {warehouse.table('all_items_report')} ORDER BY menu_item"
    )
    assert report.rows() == [
        ("Soup", 7.123456, pytest.approx(0.125), Decimal("21.37"), "item", None),
        ("Stew", 9.5, pytest.approx(0.875), Decimal("19.00"), "item", None),
    ]
    tax = warehouse.query(f"SELECT tax FROM {warehouse.table('item_selection_details')}").item()
    assert tax == Decimal("1.23456")
    assert not [
        c
        for c in warehouse.query(f"SELECT * FROM {warehouse.table('all_items_report')}").columns
        if c.startswith("pct_")
    ]

    day = date(2025, 5, 21)
    items = pl.DataFrame(
        {"item_selection_id": ["8"], "tax": [Decimal("0.58875000")]},
        schema={"item_selection_id": pl.String, "tax": pl.Decimal(18, 8)},
    )
    schema = frame_schema(WAREHOUSE_TABLES["item_selection_details"])
    stamped = items.with_columns(
        business_date=pl.lit(day), location_id=pl.lit(LOCATION), closure_indicator=pl.lit(False)
    )
    warehouse.replace_date(
        LOCATION,
        day,
        {
            "item_selection_details": stamped.select(
                [
                    pl.col(n).cast(schema[n])
                    if n in stamped.columns
                    else pl.lit(None, schema[n]).alias(n)
                    for n in schema.names()
                ]
            )
        },
    )
    taxes = warehouse.query(
        f"SELECT tax FROM {warehouse.table('item_selection_details')} ORDER BY tax"
    ).to_series()
    assert [Decimal(str(t)).normalize() for t in taxes] == [Decimal("0.58875"), Decimal("1.23456")]

    assert main(["migrate"]) == 0
    again = [
        line.strip()
        for line in capsys.readouterr().out.splitlines()
        if line.strip().startswith("+")
    ]
    if isinstance(warehouse, BigQueryWarehouse):
        # The emulator applies a NUMERIC column's new parameters but keeps reporting the ones it was
        # created with, so the (harmless) widening is planned again; BigQuery reports the new ones.
        assert again == ["+ item_selection_details.tax retyped"]
    else:
        assert again == []
