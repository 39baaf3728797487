"""What only BigQuery has: its column types, partitioning, clustering, staging and selection.

Everything runs against the local emulator; the behaviour shared with DuckDB is proved by the
parametrised tests in test_warehouse.py, test_assets.py and test_warehouse_parity.py.
"""

from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
from google.api_core.exceptions import BadRequest
from google.cloud import bigquery

from toast_pipeline.defs.factories import warehouse_from_env
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse, ddl_type, schema_field
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.warehouse_sql import CLOSURE_FREE_VIEWS
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline.toast.parse import frame_schema
from toast_pipeline.toast.specs import Field, Kind
from toast_pipeline_tests.helpers import DAY, LOCATION, day_tables


def client(warehouse: BigQueryWarehouse) -> bigquery.Client:
    return bigquery.Client(project=warehouse.project)


@pytest.mark.e2e
def test_tables_are_typed_partitioned_and_clustered_and_views_exist(bigquery_warehouse):
    warehouse = bigquery_warehouse
    assert warehouse.migrate() == []
    bq = client(warehouse)
    orders = bq.get_table(f"{warehouse.project}.{warehouse.dataset}.order_details")
    assert (orders.time_partitioning.type_, orders.time_partitioning.field) == (
        "DAY",
        "business_date",
    )
    assert orders.clustering_fields == ["location_id"]
    columns = {f.name: f for f in orders.schema}
    assert (columns["amount"].field_type, columns["amount"].precision, columns["amount"].scale) == (
        "NUMERIC",
        18,
        2,
    )
    assert (columns["tax"].field_type, columns["tax"].scale) == ("NUMERIC", 5)
    assert {
        name: columns[name].field_type
        for name in ("order_id", "opened", "voided", "business_date", "loaded_at")
    } == {
        "order_id": "STRING",
        "opened": "DATETIME",
        "voided": "BOOLEAN",
        "business_date": "DATE",
        "loaded_at": "TIMESTAMP",
    }
    items = {
        f.name: f
        for f in bq.get_table(f"{warehouse.project}.{warehouse.dataset}.all_items_report").schema
    }
    assert items["avg_price"].field_type in ("FLOAT", "FLOAT64")
    items_sold = {
        f.name: f
        for f in bq.get_table(
            f"{warehouse.project}.{warehouse.dataset}.item_selection_details"
        ).schema
    }
    assert ddl_type(items_sold["tax"]) == "NUMERIC(18, 8)"
    kinds = {
        t.table_id: t.table_type for t in bq.list_tables(f"{warehouse.project}.{warehouse.dataset}")
    }
    assert {kinds[v] for v in CLOSURE_FREE_VIEWS.values()} == {"VIEW"}
    assert {kinds[t] for t in WAREHOUSE_TABLES} == {"TABLE"}


@pytest.mark.e2e
def test_money_beyond_nine_decimals_is_bignumeric_and_reads_back_exactly(bigquery_warehouse):
    column = schema_field(Field("rate", Kind.MONEY, scale=12))
    assert (column.field_type, column.precision, column.scale) == ("BIGNUMERIC", 18, 12)
    value = bigquery_warehouse.query(
        "SELECT CAST('123456.123456789012' AS BIGNUMERIC) AS rate"
    ).item()
    assert value == Decimal("123456.123456789012")


@pytest.mark.e2e
def test_local_times_stay_wall_clock_times(bigquery_warehouse):
    warehouse = bigquery_warehouse
    tables = day_tables()
    tables["order_details"] = tables["order_details"].with_columns(
        pl.lit("2024-04-04 23:59:30")
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
        .alias("opened")
    )
    warehouse.replace_date(LOCATION, DAY, tables)
    opened = warehouse.query(f"SELECT DISTINCT opened FROM {warehouse.table('order_details')}")
    assert opened.schema["opened"] == pl.Datetime("us")
    assert opened.item().isoformat() == "2024-04-04T23:59:30"


@pytest.mark.e2e
def test_staging_tables_are_gone_after_a_replace_and_after_a_failure(bigquery_warehouse):
    warehouse = bigquery_warehouse
    warehouse.replace_date(LOCATION, DAY, day_tables())
    broken = day_tables()
    broken["payment_details"] = pl.DataFrame({"no_such_column": [1]})
    with pytest.raises(BadRequest, match="no_such_column"):
        warehouse.replace_date(LOCATION, DAY, broken)
    names = [
        t.table_id
        for t in client(warehouse).list_tables(f"{warehouse.project}.{warehouse.dataset}")
    ]
    assert not [n for n in names if n.startswith("_staging_")]


@pytest.mark.e2e
def test_a_failure_inside_the_transaction_rolls_every_table_back(bigquery_warehouse_factory):
    """payment_details comes after order_details in the script; its insert fails at run time."""
    warehouse = bigquery_warehouse_factory()
    bq = client(warehouse)
    bq.create_dataset(f"{warehouse.project}.{warehouse.dataset}")
    bq.query(
        f"CREATE TABLE {warehouse.table('payment_details')} "
        "(business_date DATE, location_id STRING, amount NUMERIC(4, 2))"
    ).result()
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
    broken = day_tables(orders=20)
    payment = {"business_date": [DAY], "location_id": [LOCATION], "amount": [Decimal("12345.67")]}
    schema = frame_schema(WAREHOUSE_TABLES["payment_details"])
    broken["payment_details"] = (
        pl.DataFrame(payment)
        .cast({k: schema[k] for k in payment})
        .select(
            [
                pl.col(n) if n in payment else pl.lit(None, schema[n]).alias(n)
                for n in schema.names()
            ]
        )
    )
    with pytest.raises(BadRequest, match="out of range"):
        warehouse.replace_date(LOCATION, DAY, broken)
    assert warehouse.row_counts(LOCATION)["order_details"] == 12
    assert warehouse.row_counts(LOCATION)["payment_details"] == 0


def test_the_environment_selects_bigquery_and_binds_the_key_by_name(monkeypatch):
    monkeypatch.setenv("TOAST_GCP_CREDENTIALS", "c2VjcmV0LW5ldmVyLXNob3du")
    env = {
        "TOAST_WAREHOUSE": "bigquery",
        "TOAST_BIGQUERY_PROJECT": "acme-data",
        "TOAST_BIGQUERY_LOCATION": "EU",
        "TOAST_GCP_CREDENTIALS": "c2VjcmV0LW5ldmVyLXNob3du",
    }
    warehouse = warehouse_from_env(GroupSettings.from_env(env), env)
    assert isinstance(warehouse, BigQueryWarehouse)
    assert (warehouse.project, warehouse.dataset, warehouse.location) == (
        "acme-data",
        "toast",
        "EU",
    )
    assert warehouse.gcp_credentials == dg.EnvVar("TOAST_GCP_CREDENTIALS")
    assert "c2VjcmV0" not in repr(warehouse)
    assert isinstance(warehouse_from_env(GroupSettings.from_env({}), {}), DuckDBWarehouse)
    assert GroupSettings.from_env(env).warehouse == "bigquery"


def test_a_command_takes_the_key_from_the_environment_it_was_given():
    env = {
        "TOAST_WAREHOUSE": "bigquery",
        "TOAST_BIGQUERY_PROJECT": "p",
        "TOAST_GCP_CREDENTIALS": "k",
    }
    warehouse = warehouse_from_env(GroupSettings.from_env(env), env, bind_by_name=False)
    assert warehouse.gcp_credentials == "k"


def test_bigquery_without_a_project_is_a_clear_error():
    env = {"TOAST_WAREHOUSE": "bigquery"}
    with pytest.raises(ValueError, match="TOAST_BIGQUERY_PROJECT"):
        warehouse_from_env(GroupSettings.from_env(env), env)
