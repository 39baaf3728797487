"""The demo: a sample export on a loopback SFTP server, loaded by a Dagster asset backfill.

It runs the real code location (the same assets, check and resources a Toast account uses), only
pointed at a generated export, and then compares the warehouse with the generator's ground truth.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
from rich.console import Console

from toast_pipeline.commands.backfill import BackfillRequest, run_backfill_command
from toast_pipeline.commands.instance import dagster_home
from toast_pipeline.defs.factories import warehouse_from_env
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import LocationSettings
from toast_pipeline.toast.daily_load import BUSINESS_DAYS
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev import local_bigquery
from toast_pipeline_dev.local_sftp import LocalSFTPServer, serve
from toast_pipeline_dev.sample import SampleExport, generate_export

DEMO_DAMAGE = "unterminated_quote"


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
        **demo_location_env(options),
    }


# Read by `make ui` when no location is configured, so the UI shows the demo's dates.
UI_ENV_FILE = "location.env"


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """Settings a shell can source (`. file`) before starting Dagster."""
    path.write_text("".join(f"export {k}={v}\n" for k, v in env.items()))


def demo_location_env(options: DemoOptions) -> dict[str, str]:
    """The demo location's settings and where its data lives: what `make ui` needs to show it."""
    return {
        "TOAST_LOCATION_ID": options.location_id,
        "TOAST_START_DATE": options.start.isoformat(),
        "TOAST_TIMEZONE": options.timezone,
        "TOAST_DUCKDB_PATH": str(options.data_dir / "toast.duckdb"),
        "TOAST_ARCHIVE_PATH": str(options.data_dir / "raw"),
    }


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
    """Generate, serve, backfill every date through Dagster, then check against the truth."""
    if options.bigquery_emulator is None:
        return _load_and_compare(options, console, os.environ)
    with local_bigquery.serve(options.data_dir / "bigquery", options.bigquery_emulator) as emulator:
        console.print(f"BigQuery emulator on {emulator.endpoint}, project {emulator.project}")
        # Google's client finds the emulator only through its process's environment, so the demo
        # proper runs in a child process given that environment; its warehouse is then BigQuery.
        env = {**os.environ, **emulator.warehouse_env(), "COLUMNS": str(console.width)}
        command = [sys.executable, "-m", "toast_pipeline_dev", "demo", *demo_arguments(options)]
        return subprocess.run(command, env=env).returncode


def demo_arguments(options: DemoOptions) -> list[str]:
    """`python -m toast_pipeline_dev demo` arguments for these options, the emulator aside."""
    return [
        *("--data-dir", str(options.data_dir), "--start", options.start.isoformat()),
        *("--days", str(options.days), "--seed", str(options.seed)),
        *("--orders-per-day", str(options.orders_per_day), "--location-id", options.location_id),
        *("--timezone", options.timezone),
    ]


def _load_and_compare(options: DemoOptions, console: Console, base_env: Mapping[str, str]) -> int:
    dagster_home(base_env)  # with no instance to load into, fail before generating anything
    console.print(f"Generating a {options.days}-day sample Toast export (seed {options.seed})...")
    export = generate(options)
    last = options.start + timedelta(days=options.days - 1)
    with serve(export.root, options.data_dir / "demo" / "keys") as server:
        # The backfill and the processes it starts are given this environment; none is changed.
        env = {**base_env, **server_env(server, options)}
        console.print(f"Serving it read-only over SFTP on {server.host}:{server.port}")
        run_backfill_command(
            BackfillRequest(
                start=options.start,
                end=last,
                force=True,
                log_path=options.data_dir / "demo" / "backfill_log.json",
            ),
            console,
            env,
        )
    write_env_file(options.data_dir / "demo" / UI_ENV_FILE, demo_location_env(options))
    log = json.loads((options.data_dir / "demo" / "backfill_log.json").read_text())
    failures = {
        day: o.get("error", o["status"])
        for day, o in log["dates"].items()
        if o["status"] not in ("open", "closed")
    }
    warehouse = warehouse_from_env(LocationSettings.from_env(env), env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        problems = compare_with_truth(export, resources.warehouse, failures, options.location_id)
    for problem in problems:
        console.print(f"[red]✗ {problem}[/red]")
    if not problems:
        console.print(
            "[green]✓ The warehouse matches the generator's ground truth: every open date's rows "
            "and net sales exact, every closed date flagged with its real rows kept, the damaged "
            "date failed alone.[/green]"
        )
    console.print(
        f"\nWarehouse: {warehouse.describe()}   Dagster instance: {dagster_home(env)}\n"
        "See the backfill, the runs and the per-date checks in the UI: make ui"
    )
    return 1 if problems else 0


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
            problems.append(
                f"{key}: judged {row['status']} ({row['closure_reason']}), truly {truth.status}"
            )
        for spec in TABLE_SPECS:
            found, expected = (
                rows.get((truth.business_date, spec.table), 0),
                truth.rows.get(spec.table, 0),
            )
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
        console.print(f"[red]No sample export at {manifest}: run `make demo` first.[/red]")
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
        write_env_file(env_file, server_env(server, options))
        console.print(
            f"Serving {export.root} on {server.host}:{server.port}. In another shell:\n"
            f"  . {env_file} && make ui\n"
            "Press Ctrl+C to stop."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
