import logging
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from google.api_core.exceptions import BadRequest

from toast_pipeline.definitions import DAILY_JOB, defs
from toast_pipeline.defs.assets import TOAST_FILES, build_toast_assets
from toast_pipeline.defs.partitions import partition_key, partitions_for
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse, WarehouseBusyError, _log
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES, build_day_load
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_tests.helpers import DAY, LOCATION, day_tables


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


# What each warehouse raises for a column its table does not have.
UNKNOWN_COLUMN = {DuckDBWarehouse: duckdb.BinderException, BigQueryWarehouse: BadRequest}


def test_replace_dates_writes_several_dates_as_the_same_dates_one_by_one(warehouse):
    """The write queue's batches: one call for many dates lands what a call per date lands."""
    days = [DAY + timedelta(days=n) for n in range(3)]
    warehouse.replace_date(LOCATION, days[1], day_tables(days[1], orders=20))
    warehouse.replace_dates(
        LOCATION,
        {
            days[0]: day_tables(days[0], orders=12),
            days[1]: day_tables(days[1], orders=3),
            days[2]: day_tables(days[2], orders=0),
        },
    )
    assert order_rows(warehouse) == [
        (days[0], 12, Decimal(sum(range(12))) + Decimal("3.00")),
        (days[1], 3, Decimal(sum(range(3))) + Decimal("0.75")),
        (days[2], 1, None),  # no orders: a closure, its marker row
    ]
    assert warehouse.row_counts(LOCATION)["business_days"] == 3


def test_replace_dates_is_all_or_none(warehouse):
    other = DAY + timedelta(days=1)
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
    broken = day_tables(other, orders=20)
    broken["payment_details"] = pl.DataFrame({"no_such_column": [1]})
    with pytest.raises(UNKNOWN_COLUMN[type(warehouse)], match="no_such_column"):
        warehouse.replace_dates(LOCATION, {DAY: day_tables(orders=15), other: broken})
    assert order_rows(warehouse) == [(DAY, 12, Decimal(sum(range(12))) + Decimal("3.00"))]


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


def test_a_session_keeps_its_writes_in_the_log_until_it_closes_the_file(tmp_path):
    path = str(tmp_path / "toast.duckdb")
    warehouse = DuckDBWarehouse(path=path, checkpoint_threshold="1GB", memory_limit="64MB")
    with warehouse.session():
        settings = warehouse.query(
            "SELECT current_setting('checkpoint_threshold'), current_setting('memory_limit')"
        )
        assert settings.row(0) == ("953.6 MiB", "61.0 MiB")
        warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
        assert Path(path + ".wal").stat().st_size > 0
    assert not Path(path + ".wal").exists()
    assert DuckDBWarehouse(path=path).row_counts(LOCATION)["order_details"] == 12


def test_a_failure_mid_replace_leaves_the_date_as_it_was(warehouse):
    warehouse.replace_date(LOCATION, DAY, day_tables(orders=12))
    broken = day_tables(orders=20)
    broken["payment_details"] = pl.DataFrame({"no_such_column": [1]})
    with pytest.raises(UNKNOWN_COLUMN[type(warehouse)], match="no_such_column"):
        warehouse.replace_date(LOCATION, DAY, broken)
    assert warehouse.row_counts(LOCATION)["order_details"] == 12


def test_unknown_table_is_refused(warehouse):
    with pytest.raises(ValueError, match="not warehouse tables"):
        warehouse.replace_date(LOCATION, DAY, {"orders": pl.DataFrame()})


def test_tables_created_by_an_older_spec_gain_new_columns_and_keep_rows(duckdb_warehouse):
    warehouse = duckdb_warehouse
    conn = duckdb.connect(warehouse.path)
    conn.execute("CREATE SCHEMA toast.toast")
    conn.execute(
        "CREATE TABLE toast.toast.cash_entries (entry_id VARCHAR, business_date DATE, location_id VARCHAR)"
    )
    conn.execute("INSERT INTO toast.toast.cash_entries VALUES ('1', DATE '2024-01-01', '185129')")
    conn.close()
    warehouse.replace_date(LOCATION, DAY, day_tables())
    columns = warehouse.query(f"SELECT * FROM {warehouse.table('cash_entries')}").columns
    assert set(columns) == {f.name for f in WAREHOUSE_TABLES["cash_entries"]}
    kept = warehouse.query(f"SELECT entry_id, business_date FROM {warehouse.table('cash_entries')}")
    assert kept.rows() == [("1", date(2024, 1, 1))]


# Two versions of the same delivery, told apart by when their rows were written.
VERSION_A = datetime(2024, 4, 5, 6, tzinfo=UTC)
VERSION_B = datetime(2024, 4, 6, 6, tzinfo=UTC)
OTHER_DAY = date(2024, 4, 1)


def delivered_tables(export_root: str, day: date, loaded_at: datetime) -> dict[str, pl.DataFrame]:
    """A sample export date's frames, as the load builds them, stamped `loaded_at`."""
    folder = Path(export_root) / LOCATION / f"{day:%Y%m%d}"
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in TOAST_FILES}
    load = build_day_load(LOCATION, day, files, loaded_at=loaded_at, timezone="America/Chicago")
    return load.tables


def date_state(conn: duckdb.DuckDBPyConnection, table: Callable[[str], str], day: date) -> dict:
    """Per table, how many of a date's rows each write (`loaded_at`) left."""
    state: dict[str, dict[datetime, int]] = {name: {} for name in WAREHOUSE_TABLES}
    for name in WAREHOUSE_TABLES:
        for loaded_at, rows in conn.execute(
            f"SELECT loaded_at, count(*) FROM {table(name)} "
            "WHERE location_id = ? AND business_date = ? GROUP BY loaded_at",
            [LOCATION, day],
        ).fetchall():
            state[name][loaded_at] = rows
    return state


def version_state(tables: Mapping[str, pl.DataFrame], loaded_at: datetime) -> dict:
    return {name: {loaded_at: frame.height} for name, frame in tables.items()}


class PauseAfter:
    """Test-only connection wrapper: after the first statement starting with `prefix`, calls
    `pause(connection)` (which tells the parent process and blocks) before going on."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, prefix: str, pause: Callable) -> None:
        self._conn, self._prefix, self._pause = conn, prefix, pause

    def execute(self, sql: str, *args):
        result = self._conn.execute(sql, *args)
        if self._pause is not None and sql.startswith(self._prefix):
            pause, self._pause = self._pause, None
            pause(self._conn)
        return result

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def _write_a_then_b(path: str, export_root: str, moment: str, pipe: Connection) -> None:
    """Child process: writes version A of two dates, then version B of DAY in the same session.
    At `moment` ("inside" B's transaction once every old row is deleted, or "after" its commit)
    it sends the parent what it sees of DAY and waits to be killed."""
    warehouse = DuckDBWarehouse(path=path)
    with warehouse.session():
        for day in (OTHER_DAY, DAY):
            warehouse.replace_date(LOCATION, day, delivered_tables(export_root, day, VERSION_A))
        tables = delivered_tables(export_root, DAY, VERSION_B)

        def report_and_wait(conn: duckdb.DuckDBPyConnection) -> None:
            pipe.send((moment, date_state(conn, warehouse.table, DAY)))
            pipe.recv()

        if moment == "inside":
            last_delete = f"DELETE FROM {warehouse.table(list(tables)[-1])}"
            warehouse._conn = PauseAfter(warehouse._conn, last_delete, report_and_wait)
        warehouse.replace_date(LOCATION, DAY, tables)
        report_and_wait(warehouse._conn)


@pytest.fixture
def children() -> Iterator[Callable[..., tuple[multiprocessing.Process, Connection]]]:
    """Start spawned child processes, each with a pipe to it; any still alive is killed after."""
    context = multiprocessing.get_context("spawn")
    started: list[multiprocessing.Process] = []

    def start(target: Callable, *args) -> tuple[multiprocessing.Process, Connection]:
        ours, theirs = context.Pipe()
        process = context.Process(target=target, args=(*args, theirs))
        process.start()
        theirs.close()
        started.append(process)
        return process, ours

    yield start
    for process in started:
        if process.is_alive():
            process.kill()
        process.join()


def receive(pipe: Connection, process: multiprocessing.Process, timeout: float = 60) -> object:
    if not pipe.poll(timeout):
        raise AssertionError(f"child {process.pid} said nothing for {timeout} s")
    try:
        return pipe.recv()
    except EOFError:
        process.join()
        raise AssertionError(f"child {process.pid} ended (exit code {process.exitcode})") from None


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("moment", "survivor"),
    [("inside", VERSION_A), ("after", VERSION_B)],
    ids=["killed_before_commit", "killed_after_commit"],
)
def test_a_run_killed_while_writing_a_date_leaves_it_whole(
    tmp_path, sample_export, sample_server, sftp_source_factory, archive, children, moment, survivor
):
    """SIGKILL skips every `finally`: only the transaction keeps a half-written date out."""
    path = str(tmp_path / "toast.duckdb")
    root = str(sample_export.root)
    version_a = delivered_tables(root, DAY, VERSION_A)
    version_b = delivered_tables(root, DAY, VERSION_B)
    writer, pipe = children(_write_a_then_b, path, root, moment)

    seen_moment, seen = receive(pipe, writer)
    assert seen_moment == moment
    if moment == "inside":
        last = list(version_b)[-1]
        assert seen == {**version_state(version_b, VERSION_B), last: {}}
    else:
        assert seen == version_state(version_b, VERSION_B)
    writer.kill()
    writer.join()
    assert writer.exitcode == -signal.SIGKILL

    table = DuckDBWarehouse(path=path).table
    survived = version_state(delivered_tables(root, DAY, survivor), survivor)
    other = version_state(delivered_tables(root, OTHER_DAY, VERSION_A), VERSION_A)
    with duckdb.connect(path) as conn:
        assert date_state(conn, table, DAY) == survived
        assert date_state(conn, table, OTHER_DAY) == other

    settings = GroupSettings(locations=(LOCATION,), start_date=OTHER_DAY)
    result = dg.materialize(
        [build_toast_assets(settings, partitions_for(settings))],
        partition_key=partition_key(LOCATION, DAY),
        resources={
            "source": sftp_source_factory(sample_server),
            "archive": archive,
            "warehouse": DuckDBWarehouse(path=path, lock_timeout_seconds=5),
        },
    )
    assert result.success
    with duckdb.connect(path) as conn:
        fresh = date_state(conn, table, DAY)
        assert date_state(conn, table, OTHER_DAY) == other
    [loaded_at] = set(fresh["business_days"])
    assert loaded_at not in (VERSION_A, VERSION_B)
    assert fresh == version_state(version_a, loaded_at)


def _run_dates(env: dict[str, str], first: date, last: date, role: str, pipe: Connection) -> None:
    """Child process: one run of the code location over first..last, loaded from the environment
    as `dagster` loads it (in a Dagster instance of its own in memory: the instance's storage is
    not under test and costs seconds). The "holder" stops after its first committed date, keeping
    the file, until the parent says go; the "waiter" starts on the parent's word and reports the
    first time the file is refused to it."""
    os.environ.update(env)
    real_connect = duckdb.connect

    def hold(conn: duckdb.DuckDBPyConnection) -> None:
        pipe.send("holding")
        assert pipe.recv() == "go"

    refused = []

    def connect(*args, **kwargs):
        try:
            conn = real_connect(*args, **kwargs)
        except duckdb.IOException:
            if not refused:
                refused.append(True)
                pipe.send("refused")
            raise
        return PauseAfter(conn, "COMMIT", hold) if role == "holder" else conn

    duckdb.connect = connect
    job = defs().resolve_job_def(DAILY_JOB)
    if role == "waiter":
        assert pipe.recv() == "start"
    tags = {
        "dagster/asset_partition_range_start": str(partition_key(LOCATION, first)),
        "dagster/asset_partition_range_end": str(partition_key(LOCATION, last)),
    }
    result = job.execute_in_process(tags=tags, raise_on_error=False)
    errors = [e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure]
    pipe.send(("done", result.success, errors))


@pytest.mark.e2e
def test_two_runs_writing_the_same_file_at_once_both_load_every_row_once(
    sample_export, sample_env, children
):
    """DuckDB lets one process at a time have the file: a second run started while another is
    writing must wait its turn, not fail, and dates both runs load must end up there once."""
    first, last = date(2024, 4, 1), date(2024, 4, 6)
    holder, holder_pipe = children(_run_dates, sample_env, first, date(2024, 4, 4), "holder")
    waiter, waiter_pipe = children(_run_dates, sample_env, date(2024, 4, 3), last, "waiter")
    assert receive(holder_pipe, holder) == "holding"
    waiter_pipe.send("start")
    assert receive(waiter_pipe, waiter) == "refused"
    holder_pipe.send("go")
    assert receive(holder_pipe, holder) == ("done", True, [])
    assert receive(waiter_pipe, waiter) == ("done", True, [])

    days = [d for d in sample_export.days if first <= d.business_date <= last]
    expected, found = {}, {}
    for spec in TABLE_SPECS:
        for day in days:
            rows = day.rows.get(spec.table, 0)
            marker = int(day.status == "closed" and rows == 0)
            expected[spec.table, day.business_date] = (rows, marker)
    warehouse = DuckDBWarehouse(path=sample_env["TOAST_DUCKDB_PATH"])
    for spec in TABLE_SPECS:
        keys = ", ".join(["location_id", "business_date", *spec.row_key])
        frame = warehouse.query(
            "SELECT business_date, count(*) FILTER (NOT closure_indicator), "
            "count(*) FILTER (closure_indicator), "
            f"count(DISTINCT ({keys})) FILTER (NOT closure_indicator) "
            f"FROM {warehouse.table(spec.table)} GROUP BY business_date"
        )
        for day, rows, markers, distinct_keys in frame.rows():
            found[spec.table, day] = (rows, markers)
            assert distinct_keys == rows, (spec.table, day)
    for key in expected:
        found.setdefault(key, (0, 0))
    assert found == expected
    statuses = warehouse.business_days(LOCATION).select("business_date", "status").rows()
    assert statuses == [(day.business_date, day.status) for day in days]


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
