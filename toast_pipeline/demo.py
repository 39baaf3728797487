"""The demo: a sample export on a loopback SFTP server, loaded date by date through Dagster.

It runs the real code location (the same assets, check and resources a Toast account uses), only
pointed at a generated export, and then compares the warehouse with the generator's ground truth.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from toast_pipeline.daily_load import BUSINESS_DAYS
from toast_pipeline.export.specs import TABLE_SPECS
from toast_pipeline.definitions import (
    DAILY_JOB,
    build_definitions,
    sftp_source_from_env,
    warehouse_from_env,
)
from toast_pipeline import local_bigquery
from toast_pipeline.export.sample import SampleExport, generate_export
from toast_pipeline.local_sftp import LocalSFTPServer, serve
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import LocationSettings
from toast_pipeline.summary import LoadSummary

DEMO_DAMAGE = "unterminated_quote"
# The progress bar and summary are the demo's output; each run's full log stays in the instance.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path("data")
    start: date = date(2024, 3, 1)
    days: int = 60
    seed: int = 7
    orders_per_day: int = 80
    location_id: str = "185129"
    timezone: str = "America/Chicago"
    bigquery_emulator: Path | None = None  # the emulator's venv: load into BigQuery on it


def server_env(server: LocalSFTPServer, options: DemoOptions) -> dict[str, str]:
    """The environment a real Toast account would set, pointed at the loopback server."""
    return {
        "TOAST_SFTP_HOST": server.host,
        "TOAST_SFTP_PORT": str(server.port),
        "TOAST_SFTP_USERNAME": server.username,
        "TOAST_SFTP_PRIVATE_KEY_PATH": str(server.client_key_path),
        "TOAST_SFTP_KNOWN_HOSTS": str(server.known_hosts_path),
        "TOAST_SFTP_ROOT": "/",
        "TOAST_LOCATION_ID": options.location_id,
        "TOAST_START_DATE": options.start.isoformat(),
        "TOAST_TIMEZONE": options.timezone,
        "TOAST_DUCKDB_PATH": str(options.data_dir / "toast.duckdb"),
    }


@contextmanager
def patched_env(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def local_instance(data_dir: Path) -> dg.DagsterInstance:
    """The instance `dagster dev` will show afterwards (DAGSTER_HOME, or one under data/)."""
    if not os.environ.get("DAGSTER_HOME"):
        home = (data_dir / "dagster_home").resolve()
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def generate(options: DemoOptions) -> SampleExport:
    export_dir = options.data_dir / "demo" / "export"
    shutil.rmtree(export_dir, ignore_errors=True)
    export = generate_export(
        export_dir,
        location_id=options.location_id,
        start=options.start,
        days=options.days,
        seed=options.seed,
        orders_per_day=options.orders_per_day,
        timezone=options.timezone,
        closed_weekdays=(0,),
        damaged_dates={options.start + timedelta(days=9): DEMO_DAMAGE},
    )
    export.write_manifest(options.data_dir / "demo" / "manifest.json")
    return export


def run_demo(options: DemoOptions, console: Console) -> int:
    if options.bigquery_emulator is None:
        return _load_and_compare(options, console)
    with local_bigquery.serve(options.data_dir / "bigquery", options.bigquery_emulator) as emulator:
        console.print(f"BigQuery emulator on {emulator.endpoint}, project {emulator.project}")
        with patched_env(emulator.warehouse_env()):
            return _load_and_compare(options, console)


def _load_and_compare(options: DemoOptions, console: Console) -> int:
    started = time.monotonic()
    console.print(f"Generating a {options.days}-day sample Toast export (seed {options.seed})...")
    export = generate(options)
    instance = local_instance(options.data_dir)
    with serve(export.root, options.data_dir / "demo" / "keys") as server:
        env = server_env(server, options)
        console.print(f"Serving it read-only over SFTP on {server.host}:{server.port}")
        with patched_env(env):
            settings = LocationSettings.from_env()
            definitions = build_definitions(
                settings,
                source=sftp_source_from_env(os.environ),
                warehouse=warehouse_from_env(os.environ),
            )
            job = definitions.resolve_job_def(DAILY_JOB)
            dates = [d.business_date.isoformat() for d in export.days]
            failures = load_dates(job, instance, dates, console)
            warehouse = warehouse_from_env(os.environ)
    wanted = [d.business_date for d in export.days]
    days = warehouse.business_days(options.location_id).filter(pl.col("business_date").is_in(wanted))
    summary = LoadSummary(
        requested=dates,
        business_days=days,
        failures=failures,
        row_counts=warehouse.row_counts(options.location_id),
        seconds=time.monotonic() - started,
    )
    summary.render(console)
    problems = compare_with_truth(export, warehouse, failures, options.location_id)
    for problem in problems:
        console.print(f"[red]✗ {problem}[/red]")
    if not problems:
        console.print(
            "[green]✓ The warehouse matches the generator's ground truth: every open date's rows "
            "and net sales exact, every closed date flagged with its real rows kept, the damaged "
            "date failed alone.[/green]"
        )
    console.print(
        f"\nWarehouse: {warehouse.describe()}   Dagster instance: {os.environ['DAGSTER_HOME']}\n"
        "See it in the UI:  DAGSTER_HOME=data/dagster_home .venv/bin/dagster dev"
    )
    return 1 if problems else 0


def load_dates(
    job: dg.JobDefinition, instance: dg.DagsterInstance, dates: list[str], console: Console
) -> dict[str, str]:
    """One Dagster run per date; a failed date is recorded and the next one goes on."""
    failures: dict[str, str] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Loading dates through Dagster", total=len(dates))
        for partition_key in dates:
            result = job.execute_in_process(
                partition_key=partition_key,
                instance=instance,
                raise_on_error=False,
                run_config=QUIET_CONSOLE,
            )
            if not result.success:
                failures[partition_key] = run_error(result)
            progress.update(task, advance=1, description=f"Loading {partition_key}")
    return failures


def run_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.user_failure_data:
            return event.step_failure_data.user_failure_data.description or "failed"
        if event.is_step_failure and event.step_failure_data:
            return event.step_failure_data.error.message.strip() if event.step_failure_data.error else "failed"
    return "run failed"


def loaded_rows(warehouse: Warehouse, location_id: str) -> dict[tuple[date, str], int]:
    """Real (non-marker) rows per date and table, counted in the warehouse itself."""
    counts = {}
    for spec in TABLE_SPECS:
        frame = warehouse.query(
            f"SELECT business_date, count(*) AS n FROM {warehouse.table(spec.table)} "
            f"WHERE location_id = '{location_id}' AND NOT closure_indicator GROUP BY business_date"
        )
        counts.update({(day, spec.table): n for day, n in frame.iter_rows()})
    return counts


def loaded_net_sales(warehouse: Warehouse, location_id: str) -> dict[date, Decimal]:
    frame = warehouse.query(
        f"SELECT business_date, sum(amount) AS net FROM {warehouse.table('order_details')} "
        f"WHERE location_id = '{location_id}' AND NOT closure_indicator AND NOT coalesce(voided, false) "
        "GROUP BY business_date"
    )
    return dict(frame.iter_rows())


def compare_with_truth(
    export: SampleExport, warehouse: Warehouse, failures: Mapping[str, str], location_id: str
) -> list[str]:
    """Every open date exact, every closed date flagged with real rows kept, damage failed alone."""
    days = {
        row["business_date"]: row
        for row in warehouse.business_days(location_id).iter_rows(named=True)
    }
    rows, net_sales = loaded_rows(warehouse, location_id), loaded_net_sales(warehouse, location_id)
    problems = []
    for truth in export.days:
        key = truth.business_date.isoformat()
        if truth.damage:
            if key not in failures:
                problems.append(f"{key}: damaged ({truth.damage}) but it loaded")
            continue
        if key in failures:
            problems.append(f"{key}: failed: {failures[key]}")
            continue
        row = days.get(truth.business_date)
        if row is None:
            problems.append(f"{key}: not in {BUSINESS_DAYS}")
            continue
        if row["status"] != truth.status:
            problems.append(f"{key}: judged {row['status']} ({row['closure_reason']}), truly {truth.status}")
        for spec in TABLE_SPECS:
            found, expected = rows.get((truth.business_date, spec.table), 0), truth.rows.get(spec.table, 0)
            if found != expected:
                problems.append(f"{key}: {spec.table} has {found} rows, expected {expected}")
        found_sales = net_sales.get(truth.business_date) or Decimal("0")
        if found_sales != truth.net_sales:
            problems.append(f"{key}: net sales {found_sales}, expected {truth.net_sales}")
    return problems


def serve_sample(data_dir: Path, port: int, console: Console) -> int:
    """Keep the demo's export on SFTP for `dagster dev`, with its settings written to a file."""
    manifest = data_dir / "demo" / "manifest.json"
    if not manifest.exists():
        console.print(f"[red]No sample export at {manifest}: run `toast-pipeline demo` first.[/red]")
        return 1
    export = SampleExport.read_manifest(manifest)
    options = DemoOptions(
        data_dir=data_dir,
        start=min(d.business_date for d in export.days),
        days=len(export.days),
        location_id=export.location_id,
    )
    with serve(export.root, data_dir / "demo" / "keys", port=port) as server:
        env_file = data_dir / "demo" / "sftp.env"
        env_file.write_text("".join(f"export {k}={v}\n" for k, v in server_env(server, options).items()))
        console.print(
            f"Serving {export.root} on {server.host}:{server.port}. In another shell:\n"
            f"  . {env_file} && DAGSTER_HOME=$PWD/{data_dir}/dagster_home .venv/bin/dagster dev\n"
            "Press Ctrl+C to stop."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
