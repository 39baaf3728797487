import logging
import multiprocessing
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import duckdb
import polars as pl
import pytest

from toast_pipeline.daily_load import WAREHOUSE_TABLES, build_day_load
from toast_pipeline.resources.warehouse import (
    DuckDBWarehouse,
    Warehouse,
    WarehouseBusyError,
    _log,
)

LOCATION = "185129"
DAY = date(2024, 4, 4)


def day_tables(day: date = DAY, orders: int = 12) -> dict[str, pl.DataFrame]:
    rows = "".join(f"{day:%Y%m%d}{i},{i}.25,false\n" for i in range(orders))
    files = {"OrderDetails.csv": ("Order Id,Amount,Voided\n" + rows).encode()}
    files |= {name: b"" for name in ("CheckDetails.csv", "PaymentDetails.csv", "CashEntries.csv")}
    load = build_day_load(
        LOCATION, day, files, loaded_at=datetime.now(UTC), timezone="America/Chicago"
    )
    return load.tables


@pytest.fixture
def duckdb_warehouse(tmp_path) -> DuckDBWarehouse:
    return DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))


def order_rows(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(
        f"SELECT business_date, count(*), sum(amount) FROM {warehouse.table('order_details')} "
        "GROUP BY 1 ORDER BY 1"
    ).rows()


def test_replace_date_twice_never_duplicates(warehouse):
    warehouse.replace_date(LOCATION, DAY, day_tables())
    warehouse.replace_date(LOCATION, DAY, day_tables())
    assert warehouse.row_counts(LOCATION)["order_details"] == 12
    assert warehouse.row_counts(LOCATION)["business_days"] == 1


def test_replace_date_swaps_old_rows_for_new_and_leaves_other_dates(warehouse):
    other = DAY + timedelta(days=1)
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
    warehouse.replace_date(LOCATION, other, day_tables(other, orders=11))
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=15))
    assert order_rows(warehouse) == [
        (DAY, 15, Decimal(sum(range(15))) + Decimal("3.75")),
        (other, 11, Decimal(sum(range(11))) + Decimal("2.75")),
    ]


def test_money_and_types_are_exact_in_the_warehouse(duckdb_warehouse):
    duckdb_warehouse.replace_date(LOCATION, DAY, day_tables())
    types = dict(
        duckdb_warehouse.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'toast' AND table_name = 'order_details'"
        ).rows()
    )
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["order_id"] == "VARCHAR"
    assert types["opened"] == "TIMESTAMP"
    assert types["voided"] == "BOOLEAN"
    assert types["business_date"] == "DATE"
    assert types["loaded_at"] == "TIMESTAMP WITH TIME ZONE"


def test_a_failure_mid_replace_leaves_the_date_as_it_was(warehouse):
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
    broken = day_tables(orders=20)
    broken["payment_details"] = pl.DataFrame({"no_such_column": [1]})
    with pytest.raises(Exception, match="no_such_column"):
        warehouse.replace_date(LOCATION, DAY, broken)
    assert warehouse.row_counts(LOCATION)["order_details"] == 12


def test_unknown_table_is_refused(warehouse):
    with pytest.raises(ValueError, match="not warehouse tables"):
        warehouse.replace_date(LOCATION, DAY, {"orders": pl.DataFrame()})


def test_tables_created_by_an_older_spec_gain_new_columns_and_keep_rows(duckdb_warehouse):
    warehouse = duckdb_warehouse
    conn = duckdb.connect(warehouse.path)
    conn.execute("CREATE SCHEMA toast.toast")
    conn.execute("CREATE TABLE toast.toast.cash_entries (entry_id VARCHAR, business_date DATE, location_id VARCHAR)")
    conn.execute("INSERT INTO toast.toast.cash_entries VALUES ('1', DATE '2024-01-01', '185129')")
    conn.close()
    warehouse.replace_date(LOCATION, DAY, day_tables())
    columns = warehouse.query(f"SELECT * FROM {warehouse.table('cash_entries')}").columns
    assert set(columns) == {f.name for f in WAREHOUSE_TABLES["cash_entries"]}
    kept = warehouse.query(f"SELECT entry_id, business_date FROM {warehouse.table('cash_entries')}")
    assert kept.rows() == [("1", date(2024, 1, 1))]


def _write_dates(path: str, first: date, count: int) -> None:
    warehouse = DuckDBWarehouse(path=path)
    for i in range(count):
        day = first + timedelta(days=i)
        warehouse.replace_date(LOCATION, day, day_tables(day))


def test_two_processes_writing_at_once_lose_nothing(duckdb_warehouse):
    warehouse = duckdb_warehouse
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_dates, args=(warehouse.path, date(2024, 1, 1) + timedelta(days=100 * i), 8))
        for i in range(2)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    counts = warehouse.row_counts(LOCATION)
    assert counts["order_details"] == 16 * 12
    assert counts["business_days"] == 16


def test_a_run_that_cannot_get_the_file_in_time_fails_naming_it(tmp_path, caplog):
    """A run waiting for the file says so, and gives up in time with an error naming the file
    and the process that holds it, instead of hanging or failing with a bare IO error."""
    path = str(tmp_path / "toast.duckdb")
    keep = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('kept', flush=True); input()"
    keeper = subprocess.Popen(
        [sys.executable, "-c", keep, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert keeper.stdout.readline() == "kept\n"
        warehouse = DuckDBWarehouse(path=path, lock_timeout_seconds=0.3)
        started = time.monotonic()
        message = f"DuckDB file {re.escape(path)} is still in use .* after waiting 0.3 s"
        with caplog.at_level(logging.INFO, logger=_log.name):
            with pytest.raises(WarehouseBusyError, match=f"{message}.*PID {keeper.pid}"):
                warehouse.replace_date(LOCATION, DAY, day_tables())
        assert 0.3 <= time.monotonic() - started < 10
        [waiting] = [r.getMessage() for r in caplog.records if r.name == _log.name]
        assert waiting.startswith(f"DuckDB file {path} is in use by another process; waiting up to")
    finally:
        keeper.communicate("\n")
