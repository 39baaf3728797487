"""The demo: a restaurant group's sample export on a loopback SFTP server, loaded by one Dagster
asset backfill.

It runs the real code location (the same assets, check and resources a Toast group uses), only
pointed at a generated export. No location is named, so the backfill finds the stores' numbered
folders as it would on Toast's server; their names and time zones come from a locations file, as a
group's would. It then compares the warehouse with the generator's truth, location by location.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.table import Table

from toast_pipeline.commands.backfill import BackfillRequest, run_backfill_command
from toast_pipeline.commands.instance import dagster_home
from toast_pipeline.defs.factories import warehouse_from_env
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.daily_load import BUSINESS_DAYS
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev import local_bigquery, local_postgres
from toast_pipeline_dev.local_sftp import LocalSFTPServer, serve
from toast_pipeline_dev.production import production_home, running_daemon
from toast_pipeline_dev.sample import (
    DEMO_GROUP,
    GroupLocation,
    SampleExport,
    SampleGroup,
    generate_group,
)

DEMO_DAMAGE = "unterminated_quote"
# The store with the damaged date: the café, so the bistro's same date shows it failing alone.
DAMAGED_LOCATION = DEMO_GROUP[1].location_id
# Read by `make ui` when no Toast settings are given, so the UI shows the demo's group.
UI_ENV_FILE = "location.env"
LOCATIONS_FILE = "locations.toml"
NAMING_LOCATIONS = ("TOAST_LOCATIONS", "TOAST_LOCATION_ID")


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path("data")
    start: date = date(2024, 3, 1)
    days: int = 60
    seed: int = 7
    # Every store's typical orders on an open day; None keeps each store's own (DEMO_GROUP).
    orders_per_day: int | None = None
    bigquery_emulator: Path | None = None  # the emulator's venv: load into BigQuery on it
    production_instance: bool = False  # deploy/dagster.yaml on a local Postgres, with the daemon
    with_daemon: bool = False  # (the child process of production_instance) start the daemon

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def locations(self) -> tuple[GroupLocation, ...]:
        if self.orders_per_day is None:
            return DEMO_GROUP
        return tuple(replace(s, orders_per_day=self.orders_per_day) for s in DEMO_GROUP)


def damaged_date(options: DemoOptions) -> date:
    """A week in, the first date every store opens on by its weekdays: only the damage fails it."""
    closed = {w for s in options.locations for w in s.closed_weekdays}
    first = min(6, options.days - 1)
    for offset in range(first, options.days):
        day = options.start + timedelta(days=offset)
        if day.weekday() not in closed:
            return day
    return options.start + timedelta(days=first)


def server_settings(server: LocalSFTPServer) -> dict[str, str]:
    """The TOAST_SFTP_* settings that point a group at the loopback server."""
    return {
        "TOAST_SFTP_HOST": server.host,
        "TOAST_SFTP_PORT": str(server.port),
        "TOAST_SFTP_USERNAME": server.username,
        "TOAST_SFTP_PRIVATE_KEY_PATH": str(server.client_key_path),
        "TOAST_SFTP_KNOWN_HOSTS": str(server.known_hosts_path),
        "TOAST_SFTP_ROOT": "/",
    }


def server_env(server: LocalSFTPServer, options: DemoOptions) -> dict[str, str]:
    """The environment a real Toast group would set, pointed at the loopback server."""
    return {**server_settings(server), **demo_group_env(options)}


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """Settings a shell can source (`. file`) before starting Dagster."""
    path.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))


def demo_group_env(options: DemoOptions) -> dict[str, str]:
    """The group's settings and where its data lives: what `make ui` needs to show it.

    No location is named: the UI's location partitions are the ones the backfill added to the
    instance when it found the stores' folders.
    """
    data = options.data_dir.absolute()  # the file may be sourced from anywhere
    return {
        "TOAST_START_DATE": options.start.isoformat(),
        "TOAST_LOCATIONS_FILE": str(data / "demo" / LOCATIONS_FILE),
        "TOAST_DUCKDB_PATH": str(data / "toast.duckdb"),
        "TOAST_ARCHIVE_PATH": str(data / "raw"),
    }


def write_locations_file(path: Path, locations: Sequence[GroupLocation]) -> None:
    """The stores' names, time zones and holidays, as a group writes its TOAST_LOCATIONS_FILE."""
    lines = ["# The demo group's stores (TOAST_LOCATIONS_FILE), written by the demo."]
    for store in locations:
        lines += [
            "",
            f'[locations."{store.location_id}"]',
            f"name = {json.dumps(store.name, ensure_ascii=False)}",
            f'timezone = "{store.timezone}"',
            f'holiday_country = "{store.holiday_country or "none"}"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(options: DemoOptions) -> SampleGroup:
    export_dir = options.demo_dir / "export"
    shutil.rmtree(export_dir, ignore_errors=True)
    group = generate_group(
        export_dir,
        options.locations,
        start=options.start,
        days=options.days,
        seed=options.seed,
        damaged={DAMAGED_LOCATION: {damaged_date(options): DEMO_DAMAGE}},
    )
    group.write_manifest(options.demo_dir / "manifest.json")
    write_locations_file(options.demo_dir / LOCATIONS_FILE, group.locations)
    return group


def run_demo(options: DemoOptions, console: Console) -> int:
    """Generate, serve, backfill every location-date through Dagster, then check against the
    truth."""
    if options.production_instance:
        return _in_production_instance(options, console)
    if options.bigquery_emulator is None:
        return _load_and_compare(options, console, os.environ)
    with local_bigquery.serve(options.data_dir / "bigquery", options.bigquery_emulator) as emulator:
        console.print(f"BigQuery emulator on {emulator.endpoint}, project {emulator.project}")
        # Google's client finds the emulator only through its process's environment, so the demo
        # proper runs in a child process given that environment; its warehouse is then BigQuery.
        env = {**os.environ, **emulator.warehouse_env(), "COLUMNS": str(console.width)}
        command = [sys.executable, "-m", "toast_pipeline_dev", "demo", *demo_arguments(options)]
        return subprocess.run(command, env=env).returncode


def _in_production_instance(options: DemoOptions, console: Console) -> int:
    """The demo on the production instance: a local PostgreSQL server, a fresh instance folder
    holding deploy/dagster.yaml, and the demo proper in a child process given the Postgres
    variables (the instance reads them from the environment of the process opening it), which
    starts the daemon once the export is served."""
    with local_postgres.serve(options.data_dir / "postgres") as postgres:
        home = production_home(options.demo_dir / "production_home")
        console.print(
            f"PostgreSQL on {postgres.host}:{postgres.port}; the production instance "
            f"(deploy/dagster.yaml) in {home}"
        )
        env = {
            **os.environ,
            **postgres.env(),
            "DAGSTER_HOME": str(home),
            "COLUMNS": str(console.width),
        }
        command = [sys.executable, "-m", "toast_pipeline_dev", "demo", *demo_arguments(options)]
        return subprocess.run([*command, "--with-daemon"], env=env).returncode


def demo_arguments(options: DemoOptions) -> list[str]:
    """`python -m toast_pipeline_dev demo` arguments for these options, the emulator aside."""
    arguments = [
        *("--data-dir", str(options.data_dir), "--start", options.start.isoformat()),
        *("--days", str(options.days), "--seed", str(options.seed)),
    ]
    if options.orders_per_day is not None:
        arguments += ["--orders-per-day", str(options.orders_per_day)]
    return arguments


def _load_and_compare(options: DemoOptions, console: Console, base_env: Mapping[str, str]) -> int:
    dagster_home(base_env)  # with no instance to load into, fail before generating anything
    console.print(
        f"Generating a {options.days}-day sample Toast export of a {len(options.locations)}-store "
        f"group (seed {options.seed})..."
    )
    group = generate(options)
    for store in group.locations:
        console.print(
            f"  {store.location_id}: {store.name}, {store.timezone}, "
            f"{'all seven files' if store.account_files is None else f'{len(store.account_files)} files'}"
        )
    log_path = options.demo_dir / "backfill_log.json"
    # No location is named, whatever the shell sets: the backfill finds the stores' folders.
    unnamed = {k: v for k, v in base_env.items() if k not in NAMING_LOCATIONS}
    with serve(group.root, options.demo_dir / "keys") as server:
        # The backfill and the processes it starts are given this environment; none is changed.
        env = {**unnamed, **server_env(server, options)}
        console.print(
            f"Serving it read-only over SFTP on {server.host}:{server.port}; no location named, "
            f"so the backfill finds the stores' folders. Names and zones: "
            f"{env['TOAST_LOCATIONS_FILE']}"
        )
        with (
            running_daemon(env, options.demo_dir / "daemon.log")
            if options.with_daemon
            else nullcontext()
        ):
            if options.with_daemon:
                console.print("The Dagster daemon serves the instance: it executes the backfill.")
            run_backfill_command(
                BackfillRequest(all_dates=True, force=True, log_path=log_path), console, env
            )
    write_env_file(options.demo_dir / UI_ENV_FILE, demo_group_env(options))
    log = json.loads(log_path.read_text())
    warehouse = warehouse_from_env(GroupSettings.from_env(env), env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        results = [
            compare_with_truth(
                group.export(store.location_id),
                resources.warehouse,
                log["dates"].get(store.location_id, {}),
            )
            for store in group.locations
        ]
    names = {s.location_id: f"{s.name} ({s.location_id})" for s in group.locations}
    print_results(console, results, names, log)
    problems = [f"{r.location_id} {p}" for r in results for p in r.problems]
    failed = [(r.location_id, day) for r in results for day in r.failed]
    for problem in problems:
        console.print(f"[red]✗ {problem}[/red]")
    if not problems:
        damaged = ", ".join(f"{names[location_id]} {day}" for location_id, day in failed)
        console.print(
            "[green]✓ The warehouse matches the generator's ground truth in every location: "
            "every open date's rows and net sales exact, every closed date flagged with its real "
            f"rows kept, the damaged date ({damaged}) failed alone.[/green]"
        )
    console.print(
        f"\nWarehouse: {warehouse.describe()}   Dagster instance: {dagster_home(env)}\n"
        + (
            "Its PostgreSQL server stops with the demo; docs/production-instance.md says how to "
            "run the production instance for real."
            if options.with_daemon
            else "See the backfill, the runs and the per-location-date checks in the UI: make ui"
        )
    )
    return 1 if problems else 0


@dataclass
class LocationResult:
    """One location compared with its truth: what matched, and every mismatch."""

    location_id: str
    dates: int = 0
    open: int = 0
    closed: int = 0
    failed: list[date] = field(default_factory=list)
    # Closed with no folder before the first or after the last folder: --all does not ask for them.
    unasked: list[date] = field(default_factory=list)
    rows: int = 0
    net_sales: Decimal = Decimal("0.00")
    problems: list[str] = field(default_factory=list)


def print_results(
    console: Console, results: Sequence[LocationResult], names: Mapping[str, str], log: Mapping
) -> None:
    """Per location, what matched the truth; then how long the backfill took."""
    table = Table(title="Compared with the generator's truth")
    for column in ("location", "dates", "open exact", "closed flagged", "failed", "rows"):
        table.add_column(column, justify="left" if column == "location" else "right")
    table.add_column("net sales", justify="right")
    table.add_column("mismatches", justify="right")
    for r in results:
        table.add_row(
            names.get(r.location_id, r.location_id),
            str(r.dates),
            str(r.open),
            str(r.closed),
            ", ".join(d.isoformat() for d in r.failed) or "none",
            f"{r.rows:,}",
            f"${r.net_sales:,.2f}",
            str(len(r.problems)),
        )
    console.print(table)
    for r in results:
        if r.unasked:
            console.print(
                f"{names.get(r.location_id, r.location_id)}: "
                f"{', '.join(d.isoformat() for d in r.unasked)} closed with no folder before its "
                "first or after its last folder, so not requested by --all.",
                highlight=False,
            )
    keys, seconds = log["dates_requested"], log["duration_seconds"]
    console.print(
        f"Backfill: {keys} location-dates of {len(log['locations'])} locations in {seconds:.1f} s, "
        f"{seconds / max(keys, 1):.2f} s per location-date."
    )


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
    export: SampleExport, warehouse: Warehouse, outcomes: Mapping[str, Mapping]
) -> LocationResult:
    """One location: every open date exact, every closed date flagged with its real rows kept,
    its damaged date failed and no other.

    `outcomes` is the location's entry of the backfill log. `--all` asks for a location's first to
    last folder, so a closed date with no folder at either end is not requested: nothing tells
    it from a date not delivered yet.
    """
    location_id = export.location_id
    result = LocationResult(location_id, dates=len(export.days))
    days = {
        row["business_date"]: row
        for row in warehouse.business_days(location_id).iter_rows(named=True)
    }
    rows, net_sales = loaded_rows(warehouse, location_id), loaded_net_sales(warehouse, location_id)
    with_folder = [d.business_date for d in export.days if d.delivery != "no_folder"]
    for truth in export.days:
        key = truth.business_date.isoformat()
        outcome = outcomes.get(key)
        if outcome is None:
            inside = with_folder and min(with_folder) < truth.business_date < max(with_folder)
            if truth.delivery == "no_folder" and not inside:
                result.unasked.append(truth.business_date)
            else:
                result.problems.append(f"{key}: not requested by the backfill")
            continue
        if truth.damage:
            written = truth.business_date in days or any(
                (truth.business_date, s.table) in rows for s in TABLE_SPECS
            )
            if outcome["status"] != "failed":
                result.problems.append(f"{key}: damaged ({truth.damage}) but it loaded")
            elif written:
                result.problems.append(f"{key}: failed, yet some of its rows were written")
            else:
                result.failed.append(truth.business_date)
            continue
        if outcome["status"] in ("failed", "pending"):
            result.problems.append(f"{key}: {outcome['status']}: {outcome.get('error', '')}")
            continue
        row = days.get(truth.business_date)
        if row is None:
            result.problems.append(f"{key}: not in {BUSINESS_DAYS}")
            continue
        if row["status"] != truth.status:
            result.problems.append(
                f"{key}: judged {row['status']} ({row['closure_reason']}), truly {truth.status}"
            )
            continue
        mismatches = len(result.problems)
        for spec in TABLE_SPECS:
            found = rows.get((truth.business_date, spec.table), 0)
            expected = truth.rows.get(spec.table, 0)
            result.rows += found
            if found != expected:
                result.problems.append(f"{key}: {spec.table} has {found} rows, expected {expected}")
        found_sales = net_sales.get(truth.business_date) or Decimal("0")
        result.net_sales += found_sales
        if found_sales != truth.net_sales:
            result.problems.append(f"{key}: net sales {found_sales}, expected {truth.net_sales}")
        if len(result.problems) == mismatches:
            result.open += truth.status == "open"
            result.closed += truth.status == "closed"
    return result


def serve_sample(data_dir: Path, port: int, console: Console) -> int:
    """Keep the demo's group export on SFTP for `dagster dev`, with its settings written to a
    file."""
    manifest = data_dir / "demo" / "manifest.json"
    if not manifest.exists():
        console.print(f"[red]No sample export at {manifest}: run `make demo` first.[/red]")
        return 1
    group = SampleGroup.read_manifest(manifest)
    first = min(d.business_date for export in group.exports for d in export.days)
    options = DemoOptions(data_dir=data_dir, start=first)
    with serve(group.root, data_dir / "demo" / "keys", port=port) as server:
        env_file = data_dir / "demo" / "sftp.env"
        write_env_file(env_file, server_env(server, options))
        console.print(
            f"Serving {group.root} ({', '.join(s.location_id for s in group.locations)}) on "
            f"{server.host}:{server.port}. In another shell:\n"
            f"  . {env_file} && make ui\n"
            "Press Ctrl+C to stop."
        )
        return wait_until_interrupted()


def wait_until_interrupted() -> int:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
