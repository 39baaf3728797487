"""`toast-pipeline`: the commands people run around the code location."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
from rich.console import Console


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD or YYYYMMDD, got {text!r}") from None


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="where everything is written")
    parser.add_argument("--start", type=_date, default=date(2024, 3, 1), help="first business date")
    parser.add_argument("--days", type=int, default=60, help="number of business dates")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (same seed, same export)")
    parser.add_argument("--orders-per-day", type=int, default=80, help="typical orders on an open day")
    parser.add_argument(
        "--bigquery-emulator", type=Path, nargs="?", const=Path(".bigquery-emulator"), default=None,
        metavar="VENV", help="load into BigQuery on a local emulator started from VENV "
        "(built by scripts/bigquery-emulator-venv.sh) instead of DuckDB",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="toast-pipeline", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="generate a sample export, serve it over SFTP on 127.0.0.1 and load every date "
        "through Dagster into DuckDB",
    )
    _demo_arguments(demo)
    serve = commands.add_parser(
        "serve-sample",
        help="serve the demo's sample export over SFTP on 127.0.0.1 until interrupted, "
        "writing the TOAST_* settings for `dagster dev` to a file",
    )
    serve.add_argument("--data-dir", type=Path, default=Path("data"))
    serve.add_argument("--port", type=int, default=2222)
    commands.add_parser(
        "migrate",
        help="bring the warehouse chosen by TOAST_WAREHOUSE up to the specs: create what is "
        "missing, add newer columns to existing tables (no data rewritten)",
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    # Partition-aware checks are a Dagster preview; say so once in the docs, not on every run.
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    if args.command == "demo":
        from toast_pipeline.demo import DemoOptions, run_demo

        options = DemoOptions(
            data_dir=args.data_dir,
            start=args.start,
            days=args.days,
            seed=args.seed,
            orders_per_day=args.orders_per_day,
            bigquery_emulator=args.bigquery_emulator,
        )
        return run_demo(options, console)
    if args.command == "serve-sample":
        from toast_pipeline.demo import serve_sample

        return serve_sample(args.data_dir, args.port, console)
    if args.command == "migrate":
        from toast_pipeline.definitions import warehouse_from_env

        # Resolves the EnvVar-bound secrets the way a run would.
        with warehouse_from_env(os.environ).process_config_and_initialize_cm() as warehouse:
            added = warehouse.migrate()
        console.print(f"{warehouse.describe()}: {len(added)} column(s) added, tables and views up to date")
        for column in added:
            console.print(f"  + {column}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
