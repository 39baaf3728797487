"""`toast-pipeline`: the commands people run around the code location."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import warnings
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
from rich.console import Console

from toast_pipeline.settings import GroupSettings, SettingsError


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date YYYY-MM-DD or YYYYMMDD, got {text!r}"
        ) from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="toast-pipeline", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill",
        help="load dates through a Dagster asset backfill (visible in the UI) and wait for it",
    )
    which = backfill.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--all",
        action="store_true",
        help="every date of every location, each from its first to its last folder on the server",
    )
    which.add_argument(
        "--start-date", type=iso_date, help="first date of a range (with --end-date)"
    )
    which.add_argument("--dates", type=iso_date, nargs="+", metavar="DATE", help="these dates")
    which.add_argument(
        "--retry-failed",
        action="store_true",
        help="exactly the failed location-dates of the last backfill",
    )
    backfill.add_argument("--end-date", type=iso_date, help="last date of the range (inclusive)")
    backfill.add_argument(
        "--locations",
        nargs="+",
        metavar="LOCATION",
        help="only these locations (folder numbers); default: every location of the group",
    )
    backfill.add_argument("--dry-run", action="store_true", help="show what would run, run nothing")
    backfill.add_argument("--force", action="store_true", help="reload dates already loaded")
    backfill.add_argument(
        "--max-workers",
        type=int,
        help="runs its queue launches at once (default: the instance's run queue limit)",
    )
    backfill.add_argument(
        "--batch-size", type=int, help="dates per run (default: TOAST_BACKFILL_BATCH_SIZE or 31)"
    )
    backfill.add_argument(
        "--log", type=Path, default=Path("backfill_log.json"), help="per-date JSON log"
    )
    backfill.add_argument(
        "--from-archive",
        action="store_true",
        help="read the dates from the raw archive instead of the SFTP server (TOAST_SOURCE=archive): "
        "with --all --force into an empty warehouse, this rebuilds it from the archive alone",
    )
    closures = commands.add_parser(
        "closures",
        help="print the business closure analysis of the loaded dates (warehouse and location "
        "from the TOAST_* environment)",
    )
    closures.add_argument(
        "--location", help="one location's folder number (default: every loaded location)"
    )
    commands.add_parser(
        "migrate",
        help="bring the warehouse chosen by TOAST_WAREHOUSE up to the specs: create what is "
        "missing, add newer columns to existing tables (no data rewritten)",
    )
    adopt = commands.add_parser(
        "adopt",
        help="after moving from the one-location version: report the location-dates the "
        "warehouse already holds as materialized on the Dagster instance, under the "
        "date|location partition keys, with their closure check results (nothing is reloaded)",
    )
    adopt.add_argument(
        "--locations",
        nargs="+",
        metavar="LOCATION",
        help="only these locations (folder numbers); default: every location in the warehouse",
    )
    adopt.add_argument(
        "--dry-run", action="store_true", help="show what would be reported, write nothing"
    )
    adopt.add_argument(
        "--previous-location",
        metavar="LOCATION",
        help="the location the old date-only partitions belong to, whose folder fingerprints are "
        "carried over (default: TOAST_LOCATION_ID, else the warehouse's only location)",
    )
    return root


def quiet_dagster_previews() -> None:
    """Partition-aware checks are a Dagster preview; the docs say so once, not every command."""
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)


def console_script(argv: list[str] | None = None) -> int:
    """The `toast-pipeline` console script: `main`, then the objects loaded so far left out of
    the garbage collector's passes, since the process is about to exit; its teardown otherwise
    walks Dagster's whole object graph (half a second at every exit, 0.7 s after a backfill)."""
    code = main(argv)
    gc.freeze()
    return code


def main(argv: list[str] | None = None) -> int:
    """The command line. Dagster reads its switches from this process's environment when this
    process creates runs (a backfill with no daemon), so they are set here, before any run."""
    from toast_pipeline.commands.instance import with_dagster_switches

    args = parser().parse_args(argv)
    os.environ.update(with_dagster_switches(os.environ))
    console = Console()
    quiet_dagster_previews()
    try:
        return run_command(args, console)
    except SettingsError as exc:
        console.print(f"Configuration: {exc}", style="red", markup=False, highlight=False)
        return 2


def run_command(args: argparse.Namespace, console: Console) -> int:
    if args.command == "backfill":
        from toast_pipeline.commands.backfill import BackfillRequest, run_backfill_command

        if args.start_date and not args.end_date:
            parser().error("--start-date needs --end-date")
        request = BackfillRequest(
            all_dates=args.all,
            start=args.start_date,
            end=args.end_date,
            dates=tuple(args.dates or ()),
            locations=tuple(args.locations or ()),
            retry_failed=args.retry_failed,
            dry_run=args.dry_run,
            force=args.force,
            max_workers=args.max_workers,
            batch_size=args.batch_size,
            from_archive=args.from_archive,
            log_path=args.log,
        )
        return run_backfill_command(request, console, os.environ)
    if args.command == "closures":
        from toast_pipeline.commands.closures import print_closures

        return print_closures(os.environ, args.location, console)
    if args.command == "migrate":
        return migrate(os.environ, console)
    if args.command == "adopt":
        from toast_pipeline.commands.adopt import AdoptRequest, adopt_command

        request = AdoptRequest(
            locations=tuple(args.locations or ()),
            dry_run=args.dry_run,
            previous_location=args.previous_location,
        )
        return adopt_command(os.environ, request, console)
    return 2


def migrate(env: Mapping[str, str], console: Console) -> int:
    """`toast-pipeline migrate`: the warehouse initialised as a run would, then brought up to date."""
    from toast_pipeline.defs.factories import warehouse_from_env

    warehouse = warehouse_from_env(GroupSettings.from_env(env), env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        changes = resources.warehouse.migrate()
    console.print(
        f"{warehouse.describe()}: {len(changes)} column(s) added or changed, tables and views up to date"
    )
    for change in changes:
        console.print(f"  + {change}")
    return 0


if __name__ == "__main__":
    sys.exit(console_script())
