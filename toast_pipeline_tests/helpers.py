"""Plain helpers several test modules share: the checkout, loopback ports, a webserver coming up,
one date's warehouse tables, and daily-job runs checked against the sample export."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from toast_pipeline.commands.graphql_client import GraphQLClientError, toast_asset_keys
from toast_pipeline.defs.partitions import partition_key
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.toast.daily_load import build_day_load
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev.sample import SampleExport

PROJECT_ROOT = Path(__file__).parents[1]

# The location and date of `day_tables`.
LOCATION = "185129"
DAY = date(2024, 4, 4)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on when asked."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Return once `/server_info` answers and the code location's toast assets are listed; raise
    with the log's tail if the process exits or the timeout passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                pass
            if len(toast_asset_keys(url)) == 8:
                return
        except (OSError, GraphQLClientError):
            pass
        time.sleep(0.3)
    tail = log.read_text()[-3000:]
    raise RuntimeError(f"dagster-webserver not serving after {timeout}s:\n{tail}")


def day_tables(day: date = DAY, orders: int = 12) -> dict[str, pl.DataFrame]:
    """The warehouse tables of one delivered date: `orders` orders of i.25 each (i from 0), empty
    CheckDetails, PaymentDetails and CashEntries."""
    rows = "".join(f"{day:%Y%m%d}{i},{i}.25,false\n" for i in range(orders))
    files = {"OrderDetails.csv": ("Order Id,Amount,Voided\n" + rows).encode()}
    files |= {name: b"" for name in ("CheckDetails.csv", "PaymentDetails.csv", "CashEntries.csv")}
    load = build_day_load(
        LOCATION, day, files, loaded_at=datetime.now(UTC), timezone="America/Chicago"
    )
    return load.tables


def run_dates(
    job, instance, first: date, last: date | None = None, location: str = LOCATION
) -> dg.ExecuteInProcessResult:
    """Run the daily job in process for one location's date, or as one ranged run over
    first..last; a failed step is in the result, not raised."""
    if last is None:
        return job.execute_in_process(
            partition_key=partition_key(location, first), instance=instance, raise_on_error=False
        )
    tags = {
        "dagster/asset_partition_range_start": str(partition_key(location, first)),
        "dagster/asset_partition_range_end": str(partition_key(location, last)),
    }
    return job.execute_in_process(tags=tags, instance=instance, raise_on_error=False)


def truth(export: SampleExport, day: date):
    """What the sample export wrote for a date (its manifest entry)."""
    return next(d for d in export.days if d.business_date == day)


def expected_rows(export: SampleExport, day: date) -> dict[str, int]:
    """Data rows the sample export wrote for a date, per warehouse table."""
    return {spec.table: truth(export, day).rows.get(spec.table, 0) for spec in TABLE_SPECS}


def real_rows(warehouse: Warehouse, day: date) -> dict[str, int]:
    """Rows stored for a date per warehouse table, closure markers left out."""
    counts = {}
    for spec in TABLE_SPECS:
        counts[spec.table] = warehouse.query(
            f"SELECT count(*) FROM {warehouse.table(spec.table)} "
            f"WHERE business_date = DATE '{day}' AND NOT closure_indicator"
        ).item()
    return counts


DAGSTER = str(Path(sys.executable).parent / "dagster")


def materialize_from_the_command_line(
    day: date, env: dict[str, str], cwd: Path, timeout: float, location: str = LOCATION
) -> subprocess.CompletedProcess[str]:
    """`dagster asset materialize` of every Toast table for one location's date, as a user would
    type it (`--partition 2024-04-04|185129`)."""
    return subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "toast_pipeline.definitions"]
        + ["--select", "key:toast/*", "--partition", f"{day.isoformat()}|{location}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
